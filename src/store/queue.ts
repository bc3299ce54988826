/** Queue-wide reads: counts for `queue.status`, unfinished syncs for recovery after a restart. */
import type { NonTerminalSyncState } from "../core/index.js";
import { nonTerminalSyncStates } from "../core/index.js";
import type { StoreContext } from "./context.js";
import { IN_FLIGHT, SYNC_COLUMNS, SYNC_FROM, UNFINISHED } from "./rows.js";
import type { SyncRecord, SyncRow } from "./rows.js";
import { recordOf } from "./sync-lifecycle.js";

export type QueueCounts = Record<NonTerminalSyncState, number>;

/** Number of syncs per unfinished state, over all deployments. */
export function queueCounts(ctx: StoreContext): QueueCounts {
  const counts = Object.fromEntries(nonTerminalSyncStates.map((s) => [s, 0])) as QueueCounts;
  const rows = ctx.stmt(`SELECT state, count(*) AS c FROM syncs WHERE state IN ${UNFINISHED} GROUP BY state`).all() as {
    state: NonTerminalSyncState;
    c: number;
  }[];
  for (const r of rows) counts[r.state] = r.c;
  return counts;
}

/**
 * Unfinished syncs with everything needed to resume them (build id, rio sequence, configuration),
 * oldest first. `inFlightOnly` skips queued ones (which `claimRunnable` will hand out anyway).
 */
export function nonTerminalSyncs(ctx: StoreContext, options: { readonly inFlightOnly?: boolean } = {}): SyncRecord[] {
  const rows = ctx.stmt(`SELECT ${SYNC_COLUMNS} ${SYNC_FROM} WHERE s.state IN ${options.inFlightOnly ? IN_FLIGHT : UNFINISHED} ORDER BY s.n`).all() as SyncRow[];
  return rows.map((row) => recordOf(ctx, row));
}
