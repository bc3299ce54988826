/**
 * rio.scheduler.SchedulerService over the build coordinator: SubmitBuild (header after the merge),
 * WatchBuild (replay then live, the terminal event re-sent on a finished build),
 * QueryBuildStatus, CancelBuild, ResolveTenant.
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { BuildEvent } from "../../generated/build_types_pb.js";
import { BuildState } from "../../generated/build_types_pb.js";
import type { SchedulerService } from "../../generated/scheduler_pb.js";
import { AppError } from "../errors.js";
import type { BuildCoordinator } from "./build-coordinator.js";
import type { EventChannel } from "./event-channel.js";
import { isUuid } from "./ids.js";
import type { BuildStateName, StateDb } from "./state-db.js";
import { normalizeTenantName, validateSubmission } from "./validate-submit.js";

export interface ServiceDeps {
  /** The current coordinator (a failover replaces it). */
  readonly coordinator: () => BuildCoordinator;
  readonly db: StateDb;
}

export const buildIdHeader = "x-rio-build-id";

export function toBuildState(s: BuildStateName): BuildState {
  switch (s) {
    case "pending":
      return BuildState.PENDING;
    case "active":
      return BuildState.ACTIVE;
    case "succeeded":
      return BuildState.SUCCEEDED;
    case "failed":
      return BuildState.FAILED;
    case "cancelled":
      return BuildState.CANCELLED;
    default: {
      const never: never = s;
      return never;
    }
  }
}

/** Streams a channel until it closes or the client goes away. */
async function* follow(channel: EventChannel<BuildEvent>, ctx: HandlerContext): AsyncGenerator<BuildEvent> {
  const onAbort = (): void => channel.close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    yield* channel;
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    channel.close();
  }
}

export function checkBuildId(buildId: string): void {
  if (!isUuid(buildId)) throw new AppError("invalid_argument", `invalid build_id: ${JSON.stringify(buildId)}`);
}

const notFound = (buildId: string): AppError => new AppError("not_found", `build not found: ${buildId}`);

/** Empty or interior-whitespace names mean single-tenant in SubmitBuild (rio ignores the error). */
export function resolveSubmitTenant(db: StateDb, raw: string): string | null {
  const n = normalizeTenantName(raw);
  if (!n.ok) return null;
  const t = db.tenantByName(n.name);
  if (!t) throw new AppError("invalid_argument", `unknown tenant: ${n.name}`);
  return t.tenant_id;
}

export function createSchedulerService(deps: ServiceDeps): ServiceImpl<typeof SchedulerService> {
  return {
    async *submitBuild(req, ctx) {
      const submission = validateSubmission(req);
      const tenantId = resolveSubmitTenant(deps.db, req.tenantName);
      const coordinator = deps.coordinator();
      const { buildId, events } = await coordinator.submit({
        submission,
        tenantId,
        keepGoing: req.keepGoing,
        buildTimeout: Number(req.buildTimeout),
        maxSilentTime: Number(req.maxSilentTime),
        buildCores: Number(req.buildCores),
      });
      if (ctx.signal.aborted) {
        coordinator.cancel(buildId, "client_disconnect_during_merge");
        events.close();
        return;
      }
      ctx.responseHeader.set(buildIdHeader, buildId);
      yield* follow(events, ctx);
    },

    async *watchBuild(req, ctx) {
      checkBuildId(req.buildId);
      const events = deps.coordinator().watch(req.buildId, Number(req.sinceSequence));
      if (!events) throw notFound(req.buildId);
      yield* follow(events, ctx);
    },

    queryBuildStatus(req) {
      checkBuildId(req.buildId);
      const v = deps.coordinator().status(req.buildId);
      if (!v) throw notFound(req.buildId);
      const c = v.counts;
      return {
        buildId: v.buildId,
        state: toBuildState(v.state),
        totalDerivations: c.total,
        completedDerivations: c.completed,
        cachedDerivations: c.cached,
        runningDerivations: c.running,
        failedDerivations: c.failed,
        queuedDerivations: c.queued,
        errorSummary: v.state === "failed" ? v.errorSummary : "",
        criticalPathRemainingSecs: BigInt(v.criticalPathRemainingSecs),
        assignedExecutors: c.executors,
      };
    },

    cancelBuild(req) {
      checkBuildId(req.buildId);
      const moved = deps.coordinator().cancel(req.buildId, req.reason);
      if (moved === undefined) throw notFound(req.buildId);
      return { cancelled: moved };
    },

    resolveTenant(req) {
      const n = normalizeTenantName(req.tenantName);
      if (!n.ok) throw new AppError("invalid_argument", `tenant_name invalid: ${n.reason} (gateway should gate single-tenant mode before calling)`);
      const t = deps.db.tenantByName(n.name);
      if (!t) throw new AppError("invalid_argument", `unknown tenant: ${n.name}`);
      return { tenantId: t.tenant_id };
    },
  };
}
