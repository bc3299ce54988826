/**
 * rio.scheduler.SchedulerService over the engine: SubmitBuild (header after the merge),
 * WatchBuild (replay then live), QueryBuildStatus, CancelBuild, ResolveTenant.
 */
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { BuildEvent } from "../../generated/build_types_pb.js";
import { BuildState } from "../../generated/build_types_pb.js";
import type { SchedulerService } from "../../generated/scheduler_pb.js";
import type { Build } from "./build-registry.js";
import type { Engine } from "./engine.js";
import type { EventChannel } from "./event-channel.js";
import { isUuid } from "./ids.js";
import type { BuildStateName, StateDb } from "./state-db.js";
import { normalizeTenantName, validateSubmission } from "./validate-submit.js";

export interface ServiceDeps {
  readonly engine: () => Engine;
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

function liveBuild(deps: ServiceDeps, buildId: string): Build {
  if (!isUuid(buildId)) throw new ConnectError(`invalid build_id: ${JSON.stringify(buildId)}`, Code.InvalidArgument);
  const b = deps.engine().builds.get(buildId);
  if (!b) throw new ConnectError(`build not found: ${buildId}`, Code.NotFound);
  return b;
}

/** Empty or interior-whitespace names mean single-tenant in SubmitBuild (rio ignores the error). */
export function resolveSubmitTenant(db: StateDb, raw: string): string | null {
  const n = normalizeTenantName(raw);
  if (!n.ok) return null;
  const t = db.tenantByName(n.name);
  if (!t) throw new ConnectError(`unknown tenant: ${n.name}`, Code.InvalidArgument);
  return t.tenant_id;
}

export function createSchedulerService(deps: ServiceDeps): ServiceImpl<typeof SchedulerService> {
  return {
    async *submitBuild(req, ctx) {
      const submission = validateSubmission(req);
      const tenantId = resolveSubmitTenant(deps.db, req.tenantName);
      const engine = deps.engine();
      const { build, channel } = await engine.submit({
        submission,
        tenantId,
        keepGoing: req.keepGoing,
        buildTimeout: Number(req.buildTimeout),
        maxSilentTime: Number(req.maxSilentTime),
        buildCores: Number(req.buildCores),
      });
      if (ctx.signal.aborted) {
        engine.cancelBuild(build.id, "client_disconnect_during_merge");
        channel.close();
        return;
      }
      ctx.responseHeader.set(buildIdHeader, build.id);
      yield* follow(channel, ctx);
    },

    async *watchBuild(req, ctx) {
      const b = liveBuild(deps, req.buildId);
      yield* follow(deps.engine().attach(b, Number(req.sinceSequence)), ctx);
    },

    queryBuildStatus(req) {
      const b = liveBuild(deps, req.buildId);
      const engine = deps.engine();
      const c = engine.counts(b);
      return {
        buildId: b.id,
        state: toBuildState(b.state),
        totalDerivations: c.total,
        completedDerivations: c.completed,
        cachedDerivations: c.cached,
        runningDerivations: c.running,
        failedDerivations: c.failed,
        queuedDerivations: c.queued,
        errorSummary: b.state === "failed" ? b.errorSummary : "",
        criticalPathRemainingSecs: BigInt(engine.criticalPathRemaining(b)),
        assignedExecutors: c.executors,
      };
    },

    cancelBuild(req) {
      liveBuild(deps, req.buildId);
      const moved = deps.engine().cancelBuild(req.buildId, req.reason);
      if (moved === undefined) throw new ConnectError(`build not found: ${req.buildId}`, Code.NotFound);
      return { cancelled: moved };
    },

    resolveTenant(req) {
      const n = normalizeTenantName(req.tenantName);
      if (!n.ok) throw new ConnectError(n.reason, Code.InvalidArgument);
      const t = deps.db.tenantByName(n.name);
      if (!t) throw new ConnectError(`unknown tenant: ${n.name}`, Code.InvalidArgument);
      return { tenantId: t.tenant_id };
    },
  };
}
