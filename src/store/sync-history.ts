/**
 * Any sync by id (`sync.get`) and a deployment's syncs newest first (`deployment.history`), terminal
 * ones included, for as long as retention keeps them. Pages follow the insertion order `n`
 * downwards, so syncs submitted while a client pages never shift a page: they are newer than the
 * first page. Indexes (migration 0008) make every page an index range scan, whatever the filter.
 */
import type { HistoryResult, SyncKind, SyncState } from "../core/index.js";
import { AppError } from "../errors.js";
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
  const rows = ctx
    .stmt(`SELECT ${SYNC_COLUMNS} ${SYNC_FROM} WHERE ${where.join(" AND ")} ORDER BY s.n DESC LIMIT ?`)
    .all(...params, limit + 1) as SyncRow[];
  const page = rows.slice(0, limit);
  const syncs = page.map((row) => syncViewOf(row, positionOf(ctx, row)));
  const last = page.at(-1);
  return { syncs, next_cursor: rows.length > limit && last ? encodeHistoryCursor(last.n) : null };
}

function encodeHistoryCursor(n: number): string {
  return Buffer.from(`h1:${n}`, "utf8").toString("base64url");
}

function decodeHistoryCursor(cursor: string): number {
  const m = /^h1:(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw new AppError("invalid_argument", "bad cursor", [{ path: "cursor", message: "not a cursor from deployment.history" }]);
  return Number(m[1]);
}
