/**
 * createRioClient: the gRPC client of rio-build's SchedulerService and AdminService. The only
 * importer of generated/; every method takes and returns the domain types of ./types.ts and
 * fails with AppError (codes mapped once, in ./grpc-errors.ts).
 */
import pino, { type Logger } from "pino";
import { AdminService } from "../../generated/admin_pb.js";
import type { BuildEvent } from "../../generated/build_types_pb.js";
import { SchedulerService } from "../../generated/scheduler_pb.js";
import { AppError } from "../errors.js";
import { defaultReattachPolicy, defaultSubmitRetryPolicy, type BackoffPolicy } from "./backoff.js";
import { toRioEvent } from "./event-mapping.js";
import { followBuild, type FollowHooks, type FollowOptions } from "./follow.js";
import { createRioChannel } from "./grpc-channel.js";
import { toAppError } from "./grpc-errors.js";
import {
  toBuildGraph,
  toBuildStatus,
  toBuildSummary,
  toClusterStatus,
  toListBuildsRequest,
  toSubmitBuildRequest,
  toTenant,
} from "./message-mapping.js";
import { openStream, stopReading, type OpenStream } from "./stream-call.js";
import { submitBuild, type SubmitOptions, type SubmitRetryInfo, type SubmittedBuild } from "./submit.js";
import type {
  BuildGraph,
  BuildPage,
  BuildStatus,
  ClusterStatus,
  CreateTenantRequest,
  FollowOutcome,
  ListBuildsQuery,
  LogSnapshot,
  RioEvent,
  SubmitRequest,
  Tenant,
} from "./types.js";
import { isTerminalRioEvent } from "./types.js";
import { decodeLines, toNumber } from "./wire-values.js";

export const tenantTokenHeader = "x-rio-tenant-token";

export interface RioClientHooks extends FollowHooks {
  onSubmitRetry?(info: SubmitRetryInfo): void;
}

export interface RioClientOptions {
  /** e.g. "http://127.0.0.1:9001" (rio speaks h2c; no TLS). */
  readonly url: string;
  /** Optional ed25519 JWT sent as x-rio-tenant-token on every call. */
  readonly tenantToken?: string;
  /** Bound on the wait for SubmitBuild/WatchBuild response headers (rio merges first). Default 300 s. */
  readonly headerTimeoutMs?: number;
  /** Deadline of unary calls. Default 30 s. */
  readonly unaryTimeoutMs?: number;
  /** Re-attach schedule. Default 1,2,4,8,16 s then 16 s, 10 tries. */
  readonly reattach?: BackoffPolicy;
  /** Resubmit schedule for UNAVAILABLE/RESOURCE_EXHAUSTED before headers. */
  readonly submitRetry?: BackoffPolicy;
  /** HTTP/2 keepalive to notice dead peers on silent streams. Default 30 s ping, 10 s timeout. */
  readonly keepalive?: { readonly pingIntervalMs: number; readonly pingTimeoutMs: number };
  readonly logger?: Logger;
  readonly hooks?: RioClientHooks;
}

export interface RioClient {
  /** Resolves once rio has accepted the build (x-rio-build-id); follow the returned handle for events. */
  submit(request: SubmitRequest, options?: SubmitOptions): Promise<SubmittedBuild>;
  /** Follows an existing build from `since`, re-attaching as needed (e.g. after a restart of ours). */
  follow(buildId: string, options: FollowOptions): Promise<FollowOutcome>;
  /**
   * One WatchBuild stream, no re-attach: events after `fromSequence` up to and including the
   * terminal one (which rio re-sends, with its own sequence, to a watcher already past it), or
   * until the server ends the stream.
   */
  watch(buildId: string, fromSequence: number, options?: { signal?: AbortSignal }): AsyncIterable<RioEvent>;
  query(buildId: string): Promise<BuildStatus>;
  /** True iff this call moved the build to cancelled. */
  cancel(buildId: string, reason: string): Promise<boolean>;
  /** A finite snapshot of a derivation's log from `sinceLine`; not_found when rio has none. */
  logs(buildId: string, derivation: string, sinceLine: number): Promise<LogSnapshot>;
  listBuilds(query?: ListBuildsQuery): Promise<BuildPage>;
  clusterStatus(): Promise<ClusterStatus>;
  buildGraph(buildId: string): Promise<BuildGraph>;
  readonly tenants: {
    list(): Promise<Tenant[]>;
    create(request: CreateTenantRequest): Promise<Tenant>;
    /** Tenant name → tenant UUID. */
    resolve(name: string): Promise<string>;
  };
  /** Closes the HTTP/2 connection; open streams fail (`cancelled`), later calls fail `unavailable`. */
  close(): void;
}

// rio allows 256 MiB messages; graphs and build lists of big closures can get large.
const maxMessageBytes = 256 * 1024 * 1024;

export function createRioClient(options: RioClientOptions): RioClient {
  const logger = (options.logger ?? pino({ level: "silent" })).child({ component: "rio-client" });
  const headerTimeoutMs = options.headerTimeoutMs ?? 300_000;
  const unaryTimeoutMs = options.unaryTimeoutMs ?? 30_000;
  const reattach = options.reattach ?? defaultReattachPolicy;
  const submitRetry = options.submitRetry ?? defaultSubmitRetryPolicy;
  const hooks = options.hooks ?? {};
  const keepalive = options.keepalive ?? { pingIntervalMs: 30_000, pingTimeoutMs: 10_000 };
  const headers: Record<string, string> = options.tenantToken ? { [tenantTokenHeader]: options.tenantToken } : {};

  const channel = createRioChannel({ url: options.url, headers, keepalive, maxMessageBytes });

  async function unary<T>(name: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw toAppError(err, name);
    }
  }

  function openWatch(buildId: string, sinceSequence: number, signal: AbortSignal | undefined) {
    return openStream(
      channel,
      SchedulerService.method.watchBuild,
      { buildId, sinceSequence: BigInt(sinceSequence) },
      { headerTimeoutMs, signal },
    );
  }

  function follow(buildId: string, initial: OpenStream<BuildEvent> | undefined, opts: FollowOptions) {
    return followBuild(
      {
        buildId,
        initial,
        watch: (since, signal) => openWatch(buildId, since, signal),
        policy: reattach,
        logger,
        hooks,
      },
      opts,
    );
  }

  return {
    submit(request, submitOptions) {
      const message = toSubmitBuildRequest(request);
      return submitBuild(
        {
          open: (signal) =>
            openStream(channel, SchedulerService.method.submitBuild, message, { headerTimeoutMs, signal }),
          follow,
          policy: submitRetry,
          logger,
          ...(hooks.onSubmitRetry ? { onRetry: hooks.onSubmitRetry } : {}),
        },
        submitOptions,
      );
    },

    follow: (buildId, opts) => follow(buildId, undefined, opts),

    async *watch(buildId, fromSequence, watchOptions) {
      const stream = await openWatch(buildId, fromSequence, watchOptions?.signal);
      // Push to pull: the stream hands over one event and waits until the loop asks for the next.
      const ready: RioEvent[] = [];
      let wake: (() => void) | undefined;
      let release: (() => void) | undefined;
      let ended = false;
      let failure: unknown;
      void stream
        .consume((msg) => {
          const ev = toRioEvent(msg);
          if (ev === null) return;
          ready.push(ev);
          wake?.();
          // rio keeps the stream open for its cleanup delay (~60 s) after the end: nothing follows.
          if (isTerminalRioEvent(ev)) return stopReading;
          return new Promise<void>((r) => (release = r));
        })
        .then(
          () => void (ended = true),
          (err: unknown) => {
            ended = true;
            failure = err;
          },
        )
        .finally(() => wake?.());
      try {
        while (true) {
          const ev = ready.shift();
          if (ev === undefined) {
            if (ended) {
              if (failure !== undefined) throw toAppError(failure, "WatchBuild");
              return;
            }
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
            continue;
          }
          yield ev;
          if (isTerminalRioEvent(ev)) return;
          release?.();
          release = undefined;
        }
      } finally {
        stream.abort();
        release?.(); // lets the consume above settle (cancelled) when the caller stopped early
      }
    },

    query: (buildId) =>
      unary("QueryBuildStatus", async () =>
        toBuildStatus(await channel.unary(SchedulerService.method.queryBuildStatus, { buildId }, unaryTimeoutMs)),
      ),

    cancel: (buildId, reason) =>
      unary(
        "CancelBuild",
        async () => (await channel.unary(SchedulerService.method.cancelBuild, { buildId, reason }, unaryTimeoutMs)).cancelled,
      ),

    logs: (buildId, derivation, sinceLine) =>
      unary("GetBuildLogs", async () => {
        const chunks = await channel.collect(
          AdminService.method.getBuildLogs,
          { buildId, derivationPath: derivation, sinceLine: BigInt(sinceLine) },
          unaryTimeoutMs,
        );
        let firstLineNumber: number | null = null;
        let complete = false;
        const lines: string[] = [];
        for (const chunk of chunks) {
          firstLineNumber ??= toNumber(chunk.firstLineNumber);
          lines.push(...decodeLines(chunk.lines));
          complete = chunk.isComplete;
        }
        return { derivation, firstLineNumber: firstLineNumber ?? sinceLine, lines, complete };
      }),

    listBuilds: (query = {}) =>
      unary("ListBuilds", async () => {
        const res = await channel.unary(AdminService.method.listBuilds, toListBuildsRequest(query), unaryTimeoutMs);
        return {
          builds: res.builds.map(toBuildSummary),
          totalCount: res.totalCount,
          nextCursor: res.nextCursor ?? null,
        };
      }),

    clusterStatus: () =>
      unary("ClusterStatus", async () => toClusterStatus(await channel.unary(AdminService.method.clusterStatus, {}, unaryTimeoutMs))),

    buildGraph: (buildId) =>
      unary("GetBuildGraph", async () =>
        toBuildGraph(await channel.unary(AdminService.method.getBuildGraph, { buildId }, unaryTimeoutMs)),
      ),

    tenants: {
      list: () =>
        unary("ListTenants", async () =>
          (await channel.unary(AdminService.method.listTenants, {}, unaryTimeoutMs)).tenants.map(toTenant),
        ),
      create: (req) =>
        unary("CreateTenant", async () => {
          const res = await channel.unary(
            AdminService.method.createTenant,
            {
              tenantName: req.name,
              ...(req.gcRetentionHours !== undefined ? { gcRetentionHours: req.gcRetentionHours } : {}),
              ...(req.gcMaxStoreBytes !== undefined ? { gcMaxStoreBytes: BigInt(req.gcMaxStoreBytes) } : {}),
              ...(req.cacheToken !== undefined ? { cacheToken: req.cacheToken } : {}),
            },
            unaryTimeoutMs,
          );
          if (!res.tenant) throw new AppError("internal", "CreateTenant answered without a tenant");
          return toTenant(res.tenant);
        }),
      resolve: (name) =>
        unary(
          "ResolveTenant",
          async () => (await channel.unary(SchedulerService.method.resolveTenant, { tenantName: name }, unaryTimeoutMs)).tenantId,
        ),
    },

    close() {
      channel.close();
    },
  };
}
