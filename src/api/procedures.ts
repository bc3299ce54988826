/**
 * One handler per procedure: validate kwargs, resolve the tenant, call the DeploymentService.
 * Independent of the WAMP library, so it is unit-tested directly; `registerApi` binds it to a
 * session.
 */
import type { z } from "zod";
import type { Actor, DeploymentService } from "../service/port.js";
import { requireKnownRole, requireOperator, resolveTenant, type CallerIdentity } from "./caller.js";
import {
  cancelKwargs,
  checkConfigurationSize,
  deleteKwargs,
  eventsKwargs,
  getKwargs,
  graphKwargs,
  listKwargs,
  logsKwargs,
  parseKwargs,
  planKwargs,
  queueStatusKwargs,
  rollbackKwargs,
  schemaKwargs,
  submitKwargs,
  historyKwargs,
  syncGetKwargs,
  webhookCreateKwargs,
  webhookDeleteKwargs,
  webhookDeliveriesKwargs,
  webhookListKwargs,
} from "./schemas.js";
import { procedureUris, type ProcedureUri } from "./uris.js";
import { defaultLimits, type DeploymentView, type EventType, type LogsResult, type PriorityClass, type SubmitMode, type SyncKind, type SyncState } from "../core/index.js";

export interface ProcedureLimits {
  /** Configuration size limit as JSON, bytes (default: core's defaultLimits). */
  readonly maxConfigurationBytes?: number;
  /** Longest a `build.logs` follow call may run (default 6 hours). */
  readonly maxFollowMs?: number;
}

/** Counts follow calls in progress (a prom-client Gauge fits). */
export interface FollowGauge {
  inc(): void;
  dec(): void;
}

export interface ProcedureContext {
  readonly service: DeploymentService;
  readonly follows?: FollowGauge;
  readonly caller: CallerIdentity;
  readonly limits: ProcedureLimits;
  /** Sends one progressive result (args[0]); null when the caller did not ask for progress. */
  readonly progress: ((result: unknown) => void) | null;
  /** Fires when the call should stop (caller left, API unregistered). */
  readonly signal: AbortSignal;
}

export interface ProcedureSpec {
  readonly uri: ProcedureUri;
  handle(ctx: ProcedureContext, args: unknown, kwargs: unknown): Promise<unknown>;
}

function actorOf(caller: CallerIdentity): Actor {
  return { authid: caller.authid, authrole: caller.authrole, session: caller.session };
}

function procedure<S extends z.ZodType>(
  uri: ProcedureUri,
  schema: S,
  run: (ctx: ProcedureContext, kwargs: z.output<S>) => Promise<unknown>,
): ProcedureSpec {
  return {
    uri,
    handle: async (ctx, args, kwargs) => {
      requireKnownRole(ctx.caller);
      return run(ctx, parseKwargs(schema, args, kwargs));
    },
  };
}

const maxConfig = (ctx: ProcedureContext) => ctx.limits.maxConfigurationBytes ?? defaultLimits.maxConfigurationBytes;
const defaultMaxFollowMs = 6 * 60 * 60 * 1000;

async function followLogs(ctx: ProcedureContext, input: Parameters<DeploymentService["logs"]>[0]): Promise<LogsResult> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  ctx.signal.addEventListener("abort", stop, { once: true });
  const timer = setTimeout(stop, ctx.limits.maxFollowMs ?? defaultMaxFollowMs);
  let last: LogsResult = { lines: [], next_line: input.sinceLine, complete: false };
  ctx.follows?.inc();
  try {
    for await (const batch of ctx.service.followLogs({ ...input, signal: controller.signal })) {
      if (batch.complete) return batch;
      if (ctx.progress === null) {
        // Without progressive results, follow is a long poll: the first non-empty batch.
        if (batch.lines.length > 0) return batch;
      } else if (batch.lines.length > 0) {
        try {
          ctx.progress(batch);
        } catch {
          controller.abort();
        }
      }
      last = batch;
      if (controller.signal.aborted) break;
    }
    return { lines: [], next_line: last.next_line, complete: false };
  } finally {
    ctx.follows?.dec();
    clearTimeout(timer);
    ctx.signal.removeEventListener("abort", stop);
  }
}

export const apiProcedures: readonly ProcedureSpec[] = [
  procedure(procedureUris.submit, submitKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    checkConfigurationSize(k.configuration, maxConfig(ctx));
    return ctx.service.submit({
      tenant,
      deployment: k.deployment,
      configuration: k.configuration,
      deploymentType: k.deployment_type,
      mode: (k.mode ?? "replace") as SubmitMode,
      priority: (k.priority ?? "interactive") as PriorityClass,
      requestId: k.request_id,
      actor: actorOf(ctx.caller),
    });
  }),
  procedure(procedureUris.plan, planKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    checkConfigurationSize(k.configuration, maxConfig(ctx));
    return ctx.service.plan({
      tenant,
      deployment: k.deployment,
      configuration: k.configuration,
      deploymentType: k.deployment_type,
      priority: (k.priority ?? "interactive") as PriorityClass,
      actor: actorOf(ctx.caller),
    });
  }),
  procedure(procedureUris.get, getKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    const view = await ctx.service.get({ tenant, deployment: k.deployment });
    return { ...view, queue: view.queue ?? [] };
  }),
  procedure(procedureUris.list, listKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, false);
    const result = await ctx.service.list({ tenant, state: k.state, limit: k.limit ?? 100, cursor: k.cursor });
    // List items carry no queue, whatever the service's view holds.
    const deployments = result.deployments.map((d) => {
      const { queue: _queue, ...rest } = d as DeploymentView;
      return rest;
    });
    return { deployments, next_cursor: result.next_cursor };
  }),
  procedure(procedureUris.cancel, cancelKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    return ctx.service.cancel({
      tenant,
      deployment: k.deployment,
      sync: k.sync,
      reason: k.reason,
      actor: actorOf(ctx.caller),
    });
  }),
  procedure(procedureUris.delete, deleteKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    return ctx.service.delete({
      tenant,
      deployment: k.deployment,
      mode: (k.mode ?? "replace") as SubmitMode,
      requestId: k.request_id,
      actor: actorOf(ctx.caller),
    });
  }),
  procedure(procedureUris.rollback, rollbackKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    return ctx.service.rollback({
      tenant,
      deployment: k.deployment,
      generation: k.generation,
      actor: actorOf(ctx.caller),
    });
  }),
  procedure(procedureUris.events, eventsKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    return ctx.service.events({ tenant, deployment: k.deployment, since: k.since ?? 0, limit: k.limit ?? 1000 });
  }),
  procedure(procedureUris.logs, logsKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    const input = {
      tenant,
      deployment: k.deployment,
      sync: k.sync,
      sinceLine: k.since_line ?? 0,
      limit: k.limit ?? 1000,
      derivation: k.derivation,
    };
    return k.follow === true ? followLogs(ctx, input) : ctx.service.logs(input);
  }),
  procedure(procedureUris.graph, graphKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    return ctx.service.graph({ tenant, deployment: k.deployment, sync: k.sync });
  }),
  procedure(procedureUris.schema, schemaKwargs, async (ctx, k) => {
    // Any API role may read schemas; they carry no tenant data.
    resolveTenant(ctx.caller, undefined, false);
    return ctx.service.schema({ deploymentType: k.deployment_type });
  }),
  procedure(procedureUris.queueStatus, queueStatusKwargs, async (ctx, k) => {
    void k;
    requireOperator(ctx.caller);
    return ctx.service.queueStatus();
  }),
  // v1.1 (docs/api.md "Additions in v1.1"): every one acts for exactly one tenant.
  procedure(procedureUris.syncGet, syncGetKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    return ctx.service.syncGet({ tenant, sync: k.sync });
  }),
  procedure(procedureUris.history, historyKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    return ctx.service.history({
      tenant,
      deployment: k.deployment,
      state: k.state as SyncState | undefined,
      kind: k.kind as SyncKind | undefined,
      limit: k.limit ?? 50,
      cursor: k.cursor,
    });
  }),
  procedure(procedureUris.webhookCreate, webhookCreateKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    return ctx.service.createWebhook({
      tenant,
      url: k.url,
      events: (k.events ?? ["sync.finished"]) as EventType[],
      deployment: k.deployment,
      description: k.description,
      actor: actorOf(ctx.caller),
    });
  }),
  procedure(procedureUris.webhookList, webhookListKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    return ctx.service.listWebhooks({ tenant });
  }),
  procedure(procedureUris.webhookDelete, webhookDeleteKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    return ctx.service.deleteWebhook({ tenant, webhook: k.webhook });
  }),
  procedure(procedureUris.webhookDeliveries, webhookDeliveriesKwargs, async (ctx, k) => {
    const tenant = resolveTenant(ctx.caller, k.tenant, true);
    return ctx.service.webhookDeliveries({ tenant, webhook: k.webhook, limit: k.limit ?? 50, cursor: k.cursor });
  }),
];
