/**
 * The local rio-build-compatible scheduler (docs/local-scheduler.md): SchedulerService +
 * AdminService over h2c gRPC, built on the local Nix. Embedded by the service (default
 * 127.0.0.1:9001) and used by tests as the real-protocol peer of the rio client (port 0), with
 * fault knobs for the client's recovery paths.
 */
import type { ConnectRouter } from "@connectrpc/connect";
import { pino, type Logger } from "pino";
import { AdminService } from "../../generated/admin_pb.js";
import { SchedulerService } from "../../generated/scheduler_pb.js";
import { AppError } from "../errors.js";
import { createAdminService } from "./admin-service.js";
import { createBuildCoordinator, type BuildCoordinator, type CoordinatorOptions, type InjectedEventKind } from "./build-coordinator.js";
import { createRefusalWindow } from "./fault-injection.js";
import { startGrpcServer, type GrpcServer } from "./grpc-server.js";
import { appErrorStatus } from "./grpc-status.js";
import { localSystems } from "./local-systems.js";
import { createSchedulerService } from "./scheduler-service.js";
import { openStateDb } from "./state-db.js";

export type { InjectedEventKind } from "./build-coordinator.js";

export interface LocalSchedulerOptions {
  /** `HOST:PORT`; default 127.0.0.1:9001, port 0 picks a free one. */
  readonly listen?: string;
  /** SQLite file for durable state; omitted = in memory (lost on close). */
  readonly statePath?: string;
  /** Parallel `nix-store --realise` slots (= executors); default 2. */
  readonly maxJobs?: number;
  /** Zero-watcher time before an active build is cancelled; default 300 s. */
  readonly orphanGraceMs?: number;
  /** How often the orphan check runs; default 10 s. */
  readonly orphanCheckMs?: number;
  /** How long a terminal build stays in memory; default 60 s. */
  readonly cleanupDelayMs?: number;
  /** SIGTERM → SIGKILL grace for cancelled builds; default 5 s. */
  readonly killGraceMs?: number;
  readonly progressDebounceMs?: number;
  readonly logBatchMs?: number;
  /**
   * Systems the executors build for; default what the local Nix builds (system, extra-platforms)
   * plus `builtin`. A derivation for any other system waits, as on rio with no such pool.
   */
  readonly systems?: readonly string[];
  /** Re-dispatches of a derivation that timed out (rio's max_timeout_retries); default 4. */
  readonly maxTimeoutRetries?: number;
  /** Defaults to a silent logger (the embedding service passes its child logger). */
  readonly logger?: Logger;
}

export interface SchedulerFaults {
  /** End every open SubmitBuild/WatchBuild stream with a clean EOF and no terminal event. */
  endAllStreams(): void;
  /** Answer UNAVAILABLE to every RPC for `ms`. */
  unavailableFor(ms: number): void;
  /** Answer RESOURCE_EXHAUSTED to every RPC for `ms`. */
  resourceExhaustedFor(ms: number): void;
  /** Forget a build now, as the 60 s cleanup would (an active build's work is stopped). */
  forgetBuild(buildId: string): boolean;
  /**
   * Leader failover: streams end with EOF, running nix-store processes are stopped, the server
   * restarts on the same port and reloads non-terminal builds from the kept state.
   */
  failover(): Promise<void>;
  /** Benchmark hook: emit `count` synthetic events into a live build as fast as possible. */
  injectEvents(buildId: string, count: number, kind?: InjectedEventKind, linesPerEvent?: number): Promise<void>;
}

export interface LocalScheduler {
  /** `http://HOST:PORT`, for createGrpcTransport({ baseUrl }). */
  readonly url: string;
  readonly port: number;
  readonly faults: SchedulerFaults;
  /** Number of builds currently held in memory (tests, diagnostics). */
  liveBuildCount(): number;
  /** Derivations held in the global table (finished ones go when their last build is forgotten). */
  derivationCount(): number;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new AppError("invalid_argument", `invalid listen address: ${listen}`);
  return { host, port };
}

export async function createLocalScheduler(options: LocalSchedulerOptions = {}): Promise<LocalScheduler> {
  const { host, port: wantedPort } = parseListen(options.listen ?? "127.0.0.1:9001");
  const maxJobs = options.maxJobs ?? 2;
  const coordinatorOptions: CoordinatorOptions = {
    maxJobs,
    systems: options.systems ?? (await localSystems()),
    maxTimeoutRetries: options.maxTimeoutRetries ?? 4,
    killGraceMs: options.killGraceMs ?? 5000,
    progressDebounceMs: options.progressDebounceMs ?? 250,
    logBatchMs: options.logBatchMs ?? 100,
    logBatchLines: 64,
    cleanupDelayMs: options.cleanupDelayMs ?? 60_000,
    log: options.logger ?? pino({ level: "silent" }),
  };
  const orphanGraceMs = options.orphanGraceMs ?? 300_000;
  const db = openStateDb(options.statePath ?? ":memory:", (err) => coordinatorOptions.log.warn({ err }, "build events not persisted (replay will have a gap)"));
  const refusal = createRefusalWindow();
  const startedAt = Date.now();

  let coordinator: BuildCoordinator = createBuildCoordinator(db, coordinatorOptions);
  await coordinator.recover();
  const deps = { coordinator: () => coordinator, db, startedAt, maxJobs };
  const routes = (router: ConnectRouter): void => {
    router.service(SchedulerService, createSchedulerService(deps));
    router.service(AdminService, createAdminService(deps));
  };
  // The status mapping is outermost, so the refusal window's AppErrors get their codes too.
  const interceptors = [appErrorStatus, refusal.interceptor];
  let server: GrpcServer = await startGrpcServer(host, wantedPort, routes, interceptors);
  const port = server.port;

  const orphanTimer = setInterval(() => coordinator.cancelOrphans(orphanGraceMs), options.orphanCheckMs ?? 10_000);
  orphanTimer.unref();

  let closed = false;
  const faults: SchedulerFaults = {
    endAllStreams: () => coordinator.endAllStreams(),
    unavailableFor: (ms) => refusal.refuse("unavailable", ms),
    resourceExhaustedFor: (ms) => refusal.refuse("resource_exhausted", ms),
    forgetBuild: (id) => coordinator.forget(id),
    async failover() {
      await refusal.during(async () => {
        await coordinator.dispose();
        await server.close();
        coordinator = createBuildCoordinator(db, coordinatorOptions);
        await coordinator.recover();
        server = await startGrpcServer(host, port, routes, interceptors);
      });
    },
    injectEvents: (buildId, count, kind = "log", linesPerEvent = 1) => coordinator.injectEvents(buildId, count, kind, linesPerEvent),
  };

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    faults,
    liveBuildCount: () => coordinator.liveBuildCount,
    derivationCount: () => coordinator.derivationCount,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(orphanTimer);
      await coordinator.dispose();
      await server.close();
      db.close();
    },
  };
}
