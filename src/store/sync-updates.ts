/**
 * The one guarded UPDATE through which a sync changes state: `WHERE n = ? AND state = ?`. A lost
 * race or an illegal move changes zero rows and becomes an AppError `conflict`, never a silent no-op.
 */
import type { SyncError, SyncState } from "../core/index.js";
import { isInFlightSyncState, isTerminalSyncState } from "../core/index.js";
import { AppError } from "../errors.js";
import type { StoreContext } from "./context.js";

export interface SyncStateChange {
  readonly to: SyncState;
  readonly error: SyncError | null;
  readonly supersededBy?: string;
  readonly cancelReason?: string;
  /** The generation a successful apply produced. */
  readonly generation?: number | null;
}

export function updateSyncState(ctx: StoreContext, sync: { readonly n: number; readonly id: string; readonly state: SyncState }, change: SyncStateChange, at: string): void {
  const result = ctx
    .stmt(
      `UPDATE syncs SET state = ?,
         started_at = CASE WHEN ? = 1 AND started_at IS NULL THEN ? ELSE started_at END,
         finished_at = CASE WHEN ? = 1 THEN ? ELSE NULL END,
         error_code = ?, error_message = ?, error_derivation = ?,
         superseded_by = coalesce(?, superseded_by),
         cancel_reason = coalesce(?, cancel_reason),
         generation = coalesce(?, generation)
       WHERE n = ? AND state = ?`,
    )
    .run(
      change.to,
      isInFlightSyncState(change.to) ? 1 : 0,
      at,
      isTerminalSyncState(change.to) ? 1 : 0,
      at,
      change.error?.code ?? null,
      change.error?.message ?? null,
      change.error?.derivation ?? null,
      change.supersededBy ?? null,
      change.cancelReason ?? null,
      change.generation ?? null,
      sync.n,
      sync.state,
    );
  if (result.changes === 0) throw staleSync(ctx, sync.n, sync.id, sync.state, change.to);
}

/** The conflict error for a guarded update that changed nothing, naming the state actually found. */
export function staleSync(ctx: StoreContext, n: number, id: string, expected: SyncState, to: string): AppError {
  const row = ctx.stmt("SELECT state FROM syncs WHERE n = ?").get(n) as { state: SyncState } | undefined;
  const found = row ? row.state : "missing";
  return new AppError("conflict", `sync ${id}: cannot go ${expected} → ${to}, it is ${found}`);
}
