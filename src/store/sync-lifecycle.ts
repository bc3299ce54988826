/**
 * The runner's operations on a sync's life: claim the next runnable syncs, move a running sync on,
 * finish it. Each is one transaction; each returns the events it stored.
 */
import type { PendingEvent, StoredEvent, SyncError, SyncState } from "../core/index.js";
import { firstRunningState, isInFlightSyncState, syncFlowOf } from "../core/index.js";
import { AppError } from "../errors.js";
import type { StoreContext } from "./context.js";
import { requireSync, positionOf } from "./lookups.js";
import { IN_FLIGHT, SYNC_COLUMNS, SYNC_FROM, syncRecordOf, syncViewOf } from "./rows.js";
import type { SyncRecord, SyncRow, SyncView } from "./rows.js";
import { runTransition } from "./run-transition.js";

export interface ClaimResult {
  /** The claimed syncs, now `evaluating` (apply), `deploying` (rollback) or `destroying` (teardown). */
  readonly claimed: SyncRecord[];
  readonly events: StoredEvent[];
}

/**
 * Claims up to `limit` syncs, at most one per deployment: for every deployment with nothing in
 * flight, its oldest queued sync. Interactive before scheduled before ci, then oldest first.
 * The partial unique index makes a second claim of the same deployment impossible.
 */
export function claimRunnable(ctx: StoreContext, limit: number): ClaimResult {
  return ctx.write((log) => {
    const at = ctx.now();
    const rows = ctx
      .stmt(
        `SELECT ${SYNC_COLUMNS} ${SYNC_FROM}
         WHERE s.state = 'queued'
           AND NOT EXISTS (SELECT 1 FROM syncs o WHERE o.deployment_id = s.deployment_id AND o.state IN ${IN_FLIGHT})
           AND NOT EXISTS (SELECT 1 FROM syncs o WHERE o.deployment_id = s.deployment_id AND o.state = 'queued' AND o.n < s.n)
         ORDER BY CASE s.priority WHEN 'interactive' THEN 0 WHEN 'scheduled' THEN 1 ELSE 2 END, s.n
         LIMIT ?`,
      )
      .all(limit) as SyncRow[];
    const claimed: SyncRecord[] = [];
    const events: StoredEvent[] = [];
    for (const row of rows) {
      const to = firstRunningState(syncFlowOf(row.kind, row.rollback_generation));
      events.push(...runTransition(ctx, log, row, "queued", { to }, {}, at).events);
      claimed.push(recordOf(ctx, requireSync(ctx, row.id)));
    }
    return { claimed, events };
  });
}

export interface TransitionResult {
  readonly sync: SyncView;
  readonly events: StoredEvent[];
}

/**
 * Moves a running sync on to another running state (evaluating → building, building → deploying,
 * evaluating → deploying). `events` (e.g. `deploy.started`) are stored before the `sync.state` event.
 * Wrong `from` or an illegal move: AppError conflict, nothing written.
 */
export function transitionSync(
  ctx: StoreContext,
  syncId: string,
  from: SyncState,
  to: SyncState,
  options: { readonly events?: readonly PendingEvent[] } = {},
): TransitionResult {
  if (!isInFlightSyncState(to)) {
    throw new AppError("invalid_argument", `transitionSync moves to a running state; use finishSync, cancelSyncs or submitSync for ${to}`);
  }
  return ctx.write((log) => {
    const at = ctx.now();
    const row = requireSync(ctx, syncId);
    const { events } = runTransition(ctx, log, row, from, { to }, { ...(options.events ? { events: options.events } : {}) }, at);
    const after = requireSync(ctx, syncId);
    return { sync: syncViewOf(after, positionOf(ctx, after)), events };
  });
}

export interface FinishSyncInput {
  /** The state the caller believes the sync is in (guard). */
  readonly from: SyncState;
  readonly state: "succeeded" | "failed" | "timed_out";
  /** Required for `failed`; optional for `timed_out` (default code `timeout`). */
  readonly error?: SyncError;
  /** For a successful apply or rollback: the activated output store paths, stored with the new generation. */
  readonly outputPaths?: readonly string[];
  /** Stored before the transition's own events, e.g. `deploy.finished`. */
  readonly events?: readonly PendingEvent[];
}

export interface FinishSyncResult {
  readonly sync: SyncView;
  /** The generation a successful apply produced, else null. */
  readonly generation: number | null;
  readonly events: StoredEvent[];
}

/**
 * Ends a sync as succeeded, failed or timed out. A successful apply/rollback stores a new
 * generation and makes it live; a successful teardown leaves nothing live; a failure leaves the
 * deployment on what is live. Events: extra events, `sync.state`, `sync.finished`, `deployment.state`.
 */
export function finishSync(ctx: StoreContext, syncId: string, input: FinishSyncInput): FinishSyncResult {
  return ctx.write((log) => {
    const at = ctx.now();
    const row = requireSync(ctx, syncId);
    const done = runTransition(
      ctx,
      log,
      row,
      input.from,
      { to: input.state, ...(input.error ? { error: input.error } : {}) },
      { ...(input.events ? { events: input.events } : {}), ...(input.outputPaths ? { outputPaths: input.outputPaths } : {}) },
      at,
    );
    return { sync: syncViewOf(requireSync(ctx, syncId), null), generation: done.newGeneration, events: done.events };
  });
}

export function recordOf(ctx: StoreContext, row: SyncRow): SyncRecord {
  const cfg = ctx.stmt("SELECT configuration FROM syncs WHERE n = ?").get(row.n) as { configuration: string | null };
  return syncRecordOf(row, cfg.configuration);
}
