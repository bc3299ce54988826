/**
 * Any sync by id (`sync.get`) and a deployment's syncs newest first (`deployment.history`), terminal
 * ones included, for as long as retention keeps them. Pages follow the insertion order `n`
 * downwards, so syncs submitted while a client pages never shift a page: they are newer than the
 * first page. Indexes (migration 0008) make every page an index range scan, whatever the filter.
 */
import type { HistoryResult, SyncKind, SyncState } from "../core/index.js";
import { AppError } from "../errors.js";
import type { Statement } from "better-sqlite3";
import type { StoreContext } from "./context.js";
import { findDeployment, findSync, positionOf } from "./lookups.js";
import { SYNC_COLUMNS, SYNC_FROM, syncViewOf } from "./rows.js";
import type { SyncRow, SyncView } from "./rows.js";

/** The sync view of `syncId` if it belongs to `tenant`; not_found otherwise (unknown and foreign alike). */
export function getSyncById(ctx: StoreContext, tenant: string, syncId: string): SyncView {
  const row = findSync(ctx, syncId);
  if (!row || row.tenant !== tenant) throw new AppError("not_found", `no sync ${syncId}`);
  return syncViewOf(row, positionOf(ctx, row));
}

export interface SyncHistoryInput {
  readonly tenant: string;
  readonly deployment: string;
  readonly state?: SyncState;
  readonly kind?: SyncKind;
  /** 1..500, default 50. */
  readonly limit?: number;
  /** `next_cursor` of the previous page. */
  readonly cursor?: string;
}

export function syncHistory(ctx: StoreContext, input: SyncHistoryInput): HistoryResult {
  const limit = input.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new AppError("invalid_argument", "limit must be 1..500", [{ path: "limit", message: "out of range" }]);
  }
  const before = input.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeHistoryCursor(input.cursor);
  const dep = findDeployment(ctx, input.tenant, input.deployment);
  if (!dep) throw new AppError("not_found", `no deployment ${input.deployment} for tenant ${input.tenant}`);
  // One statement per filter combination, each matching one index exactly (no OR on optional filters).
  const where = ["s.deployment_id = ?", "s.n < ?"];
  const params: unknown[] = [dep.id, before];
  if (input.state !== undefined) {
    where.push("s.state = ?");
    params.push(input.state);
  }
  if (input.kind !== undefined) {
    where.push("s.kind = ?");
    params.push(input.kind);
  }
  const stmt = ctx.stmt(`SELECT ${SYNC_COLUMNS} ${SYNC_FROM} WHERE ${where.join(" AND ")} ORDER BY s.n DESC LIMIT ?`);
  checkColumns(stmt);
  const rows = (stmt.raw(true).all(...params, limit + 1) as unknown[][]).map(syncRowOf);
  const page = rows.slice(0, limit);
  const syncs = page.map((row) => syncViewOf(row, positionOf(ctx, row)));
  const last = page.at(-1);
  return { syncs, next_cursor: rows.length > limit && last ? encodeHistoryCursor(last.n) : null };
}

// Pages are read as arrays (better-sqlite3's raw mode) and turned into rows here: objects built in JS
// cost about half of what the driver's named-column rows cost, which is most of a page's time
// (bench/history.ts). The order is SYNC_COLUMNS's, checked once per statement.
const rowKeys = [
  "n", "id", "deployment_id", "tenant", "deployment", "kind", "mode", "priority", "state",
  "request_id", "deployment_type", "config_hash", "rollback_generation", "submitted_at", "started_at", "finished_at",
  "error_code", "error_message", "error_derivation", "superseded_by", "cancel_reason", "generation", "build_id",
  "submit_attempted", "rio_sequence", "build_total", "build_completed", "build_cached", "build_running", "build_failed", "build_queued",
  "build_critical_path_secs", "log_next_line", "log_first_line",
] as const satisfies readonly (keyof SyncRow)[];

const checked = new WeakSet<Statement>();
function checkColumns(stmt: Statement): void {
  if (checked.has(stmt)) return;
  const names = stmt.columns().map((c) => c.name);
  if (names.join() !== rowKeys.join()) throw new AppError("internal", `sync columns changed: ${names.join()}`);
  checked.add(stmt);
}

function syncRowOf(v: unknown[]): SyncRow {
  return {
    n: v[0], id: v[1], deployment_id: v[2], tenant: v[3], deployment: v[4], kind: v[5], mode: v[6], priority: v[7], state: v[8],
    request_id: v[9], deployment_type: v[10], config_hash: v[11], rollback_generation: v[12], submitted_at: v[13], started_at: v[14], finished_at: v[15],
    error_code: v[16], error_message: v[17], error_derivation: v[18], superseded_by: v[19], cancel_reason: v[20], generation: v[21], build_id: v[22],
    submit_attempted: v[23], rio_sequence: v[24], build_total: v[25], build_completed: v[26], build_cached: v[27], build_running: v[28], build_failed: v[29], build_queued: v[30],
    build_critical_path_secs: v[31], log_next_line: v[32], log_first_line: v[33],
  } as SyncRow;
}

function encodeHistoryCursor(n: number): string {
  return Buffer.from(`h1:${n}`, "utf8").toString("base64url");
}

function decodeHistoryCursor(cursor: string): number {
  const m = /^h1:(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw new AppError("invalid_argument", "bad cursor", [{ path: "cursor", message: "not a cursor from deployment.history" }]);
  return Number(m[1]);
}
