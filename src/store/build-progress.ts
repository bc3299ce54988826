/**
 * What the runner records while a sync's rio build runs: the build id, the last rio event sequence
 * applied, the sync view's build counters, and the domain events derived from rio's stream.
 * Every write is guarded on the sync still being in flight; otherwise AppError conflict (the sync
 * was superseded or cancelled meanwhile: the runner stops following it).
 */
import type { BuildCounters, PendingEvent, StoredEvent } from "../core/index.js";
import { pendingEvent } from "../core/index.js";
import { AppError } from "../errors.js";
import type { StoreContext } from "./context.js";
import { appendEvents, checkRunnerEvents } from "./event-log.js";
import { requireSync } from "./lookups.js";
import { IN_FLIGHT } from "./rows.js";

/** Records the rio build of a `building` sync (resets its rio sequence); writes `build.submitted`. */
export function recordBuildSubmitted(ctx: StoreContext, syncId: string, buildId: string): StoredEvent[] {
  return ctx.write((log) => {
    const at = ctx.now();
    const row = requireSync(ctx, syncId);
    const r = ctx.stmt("UPDATE syncs SET build_id = ?, rio_sequence = 0 WHERE n = ? AND state = 'building'").run(buildId, row.n);
    if (r.changes === 0) throw new AppError("conflict", `sync ${syncId} is ${row.state}, not building`);
    return appendEvents(ctx, log, { id: row.deployment_id, tenant: row.tenant, name: row.deployment }, [pendingEvent("build.submitted", syncId, { build_id: buildId })], at);
  });
}

/** Marks that the sync's build is about to be handed to rio (durable before the submit). */
export function recordSubmitAttempt(ctx: StoreContext, syncId: string): void {
  ctx.write(() => {
    const row = requireSync(ctx, syncId);
    const r = ctx.stmt("UPDATE syncs SET submit_attempted = 1 WHERE n = ? AND state = 'building' AND build_id IS NULL").run(row.n);
    if (r.changes === 0) throw new AppError("conflict", `sync ${syncId} is ${row.state}${row.build_id ? ` with build ${row.build_id}` : ""}, not building without a build`);
  });
}

/** The sync (of any tenant) that recorded this rio build id, if any. */
export function syncOfBuild(ctx: StoreContext, buildId: string): string | null {
  const row = ctx.stmt("SELECT id FROM syncs WHERE build_id = ?").get(buildId) as { id: string } | undefined;
  return row?.id ?? null;
}

/** Remembers the last rio event sequence applied (never moves backwards). No event. */
export function recordRioSequence(ctx: StoreContext, syncId: string, sequence: number): void {
  recordSyncProgress(ctx, syncId, { rioSequence: sequence });
}

export interface SyncProgress {
  /** The last rio event sequence covered by this batch. */
  readonly rioSequence?: number;
  /** New values of the build counters (only the given ones change). */
  readonly counters?: Partial<BuildCounters>;
  /** Domain events to store in order: build.started, build.progress, derivation, deploy.started, deploy.finished… */
  readonly events?: readonly PendingEvent[];
}

/** One batch of progress of an in-flight sync, in one transaction. Returns the stored events. */
export function recordSyncProgress(ctx: StoreContext, syncId: string, progress: SyncProgress): StoredEvent[] {
  return ctx.write((log) => {
    const at = ctx.now();
    const row = requireSync(ctx, syncId);
    const c = progress.counters ?? {};
    const r = ctx
      .stmt(
        `UPDATE syncs SET
           rio_sequence = max(rio_sequence, coalesce(?, rio_sequence)),
           build_total = coalesce(?, build_total), build_completed = coalesce(?, build_completed),
           build_cached = coalesce(?, build_cached), build_running = coalesce(?, build_running),
           build_failed = coalesce(?, build_failed), build_queued = coalesce(?, build_queued),
           build_critical_path_secs = CASE WHEN ? = 1 THEN ? ELSE build_critical_path_secs END
         WHERE n = ? AND state IN ${IN_FLIGHT}`,
      )
      .run(
        progress.rioSequence ?? null,
        c.total ?? null,
        c.completed ?? null,
        c.cached ?? null,
        c.running ?? null,
        c.failed ?? null,
        c.queued ?? null,
        "critical_path_remaining_secs" in c ? 1 : 0,
        c.critical_path_remaining_secs ?? null,
        row.n,
      );
    if (r.changes === 0) throw new AppError("conflict", `sync ${syncId} is ${row.state}, not in flight`);
    checkRunnerEvents(syncId, progress.events ?? []);
    return appendEvents(ctx, log, { id: row.deployment_id, tenant: row.tenant, name: row.deployment }, progress.events ?? [], at);
  });
}
