/** The docs/api.md views: sync view, deployment view, and the paginated deployment list. */
import type { DeploymentState } from "../core/index.js";
import { AppError } from "../errors.js";
import type { StoreContext } from "./context.js";
import { findSync, positionOf, requireDeployment, unfinishedSyncs } from "./lookups.js";
import { DEPLOYMENT_COLUMNS, IN_FLIGHT, SYNC_COLUMNS, SYNC_FROM, syncViewOf } from "./rows.js";
import type { DeploymentRow, DeploymentView, SyncRow, SyncView } from "./rows.js";

/** The sync view of a sync of this tenant's deployment; not_found otherwise. */
export function getSync(ctx: StoreContext, tenant: string, deployment: string, syncId: string): SyncView {
  const row = findSync(ctx, syncId);
  if (!row || row.tenant !== tenant || row.deployment !== deployment) {
    throw new AppError("not_found", `no sync ${syncId} in deployment ${deployment}`);
  }
  return syncViewOf(row, positionOf(ctx, row));
}

/** The deployment view with `current`, `queue` (oldest first) and `last`. */
export function getDeployment(ctx: StoreContext, tenant: string, deployment: string): DeploymentView {
  const dep = requireDeployment(ctx, tenant, deployment);
  const unfinished = unfinishedSyncs(ctx, dep.id);
  const currentRow = unfinished.find((s) => s.state !== "queued");
  const current = currentRow ? syncViewOf(currentRow, 0) : null;
  const offset = current ? 1 : 0;
  const queue = unfinished.filter((s) => s.state === "queued").map((s, i) => syncViewOf(s, i + offset));
  return deploymentViewOf(ctx, dep, current, queue);
}

export interface ListDeploymentsInput {
  /** Only this tenant's deployments; all tenants when absent (operator). */
  readonly tenant?: string;
  readonly state?: DeploymentState;
  /** 1..500, default 100. */
  readonly limit?: number;
  /** `next_cursor` of the previous page. */
  readonly cursor?: string;
}

export interface DeploymentList {
  /** Deployment views without `queue`, ordered by tenant then name. */
  readonly deployments: DeploymentView[];
  readonly next_cursor: string | null;
}

export function listDeployments(ctx: StoreContext, input: ListDeploymentsInput = {}): DeploymentList {
  const limit = input.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new AppError("invalid_argument", "limit must be 1..500", [{ path: "limit", message: "out of range" }]);
  }
  const [afterTenant, afterName] = input.cursor === undefined ? ["", ""] : decodeCursor(input.cursor);
  const rows = ctx
    .stmt(
      `SELECT ${DEPLOYMENT_COLUMNS} FROM deployments
       WHERE (? IS NULL OR tenant = ?) AND (? IS NULL OR state = ?) AND (tenant, name) > (?, ?)
       ORDER BY tenant, name LIMIT ?`,
    )
    .all(input.tenant ?? null, input.tenant ?? null, input.state ?? null, input.state ?? null, afterTenant, afterName, limit + 1) as DeploymentRow[];
  const page = rows.slice(0, limit);
  const deployments = page.map((dep) => {
    const currentRow = ctx
      .stmt(`SELECT ${SYNC_COLUMNS} ${SYNC_FROM} WHERE s.deployment_id = ? AND s.state IN ${IN_FLIGHT}`)
      .get(dep.id) as SyncRow | undefined;
    return deploymentViewOf(ctx, dep, currentRow ? syncViewOf(currentRow, 0) : null, undefined);
  });
  const lastRow = page.at(-1);
  return { deployments, next_cursor: rows.length > limit && lastRow ? encodeCursor(lastRow.tenant, lastRow.name) : null };
}

function deploymentViewOf(ctx: StoreContext, dep: DeploymentRow, current: SyncView | null, queue: SyncView[] | undefined): DeploymentView {
  const lastRow = dep.last_sync === null ? undefined : findSync(ctx, dep.last_sync);
  return {
    deployment: dep.name,
    tenant: dep.tenant,
    deployment_type: dep.deployment_type,
    state: dep.state,
    generation: dep.live_generation,
    seq: dep.seq,
    current,
    ...(queue ? { queue } : {}),
    last: lastRow ? syncViewOf(lastRow, null) : null,
    created_at: dep.created_at,
    updated_at: dep.updated_at,
  };
}

function encodeCursor(tenant: string, name: string): string {
  return Buffer.from(JSON.stringify([tenant, name]), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string") return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new AppError("invalid_argument", "bad cursor", [{ path: "cursor", message: "not a cursor from deployment.list" }]);
}
