/** Reads shared by several operations (inside or outside a transaction). */
import type { DeploymentFacts, SyncState } from "../core/index.js";
import { isTerminalSyncState } from "../core/index.js";
import { AppError } from "../errors.js";
import type { StoreContext } from "./context.js";
import { DEPLOYMENT_COLUMNS, SYNC_COLUMNS, SYNC_FROM, UNFINISHED } from "./rows.js";
import type { DeploymentRow, SyncRow } from "./rows.js";

export function findDeployment(ctx: StoreContext, tenant: string, name: string): DeploymentRow | undefined {
  return ctx.stmt(`SELECT ${DEPLOYMENT_COLUMNS} FROM deployments WHERE tenant = ? AND name = ?`).get(tenant, name) as DeploymentRow | undefined;
}

export function requireDeployment(ctx: StoreContext, tenant: string, name: string): DeploymentRow {
  const dep = findDeployment(ctx, tenant, name);
  if (!dep) throw new AppError("not_found", `no deployment ${name} for tenant ${tenant}`);
  return dep;
}

export function deploymentById(ctx: StoreContext, id: number): DeploymentRow {
  const dep = ctx.stmt(`SELECT ${DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?`).get(id) as DeploymentRow | undefined;
  if (!dep) throw new AppError("internal", `deployment #${id} vanished`);
  return dep;
}

export function findSync(ctx: StoreContext, id: string): SyncRow | undefined {
  return ctx.stmt(`SELECT ${SYNC_COLUMNS} ${SYNC_FROM} WHERE s.id = ?`).get(id) as SyncRow | undefined;
}

export function requireSync(ctx: StoreContext, id: string): SyncRow {
  const row = findSync(ctx, id);
  if (!row) throw new AppError("not_found", `no sync ${id}`);
  return row;
}

/** The deployment's queued and in-flight syncs, oldest first. */
export function unfinishedSyncs(ctx: StoreContext, deploymentId: number): SyncRow[] {
  return ctx
    .stmt(`SELECT ${SYNC_COLUMNS} ${SYNC_FROM} WHERE s.deployment_id = ? AND s.state IN ${UNFINISHED} ORDER BY s.n`)
    .all(deploymentId) as SyncRow[];
}

/** The few columns the submit and cancel rules need. */
export type UnfinishedBrief = Pick<SyncRow, "n" | "id" | "kind" | "state" | "rollback_generation" | "build_id">;

/** Like `unfinishedSyncs`, reading only what the rules need (no join): the submit hot path. */
export function unfinishedBriefs(ctx: StoreContext, deploymentId: number): UnfinishedBrief[] {
  return ctx
    .stmt(`SELECT n, id, kind, state, rollback_generation, build_id FROM syncs WHERE deployment_id = ? AND state IN ${UNFINISHED} ORDER BY n`)
    .all(deploymentId) as UnfinishedBrief[];
}

/** Number of unfinished syncs of the deployment ahead of sync `n`; null for a terminal sync. */
export function positionOf(ctx: StoreContext, row: Pick<SyncRow, "n" | "deployment_id" | "state">): number | null {
  if (isTerminalSyncState(row.state)) return null;
  const r = ctx
    .stmt(`SELECT count(*) AS c FROM syncs WHERE deployment_id = ? AND n < ? AND state IN ${UNFINISHED}`)
    .get(row.deployment_id, row.n) as { c: number };
  return r.c;
}

/** Saves what the domain rules decided about the deployment (state and generations). */
export function saveDeploymentFacts(ctx: StoreContext, deploymentId: number, facts: DeploymentFacts, at: string): void {
  ctx
    .stmt("UPDATE deployments SET state = ?, live_generation = ?, latest_generation = ?, updated_at = ? WHERE id = ?")
    .run(facts.state, facts.liveGeneration, facts.latestGeneration, at, deploymentId);
}

/** Remembers the most recently finished sync for the deployment view's `last` (superseded ones are skipped). */
export function rememberLastSync(ctx: StoreContext, deploymentId: number, syncId: string, state: SyncState): void {
  if (state === "superseded" || !isTerminalSyncState(state)) return;
  ctx.stmt("UPDATE deployments SET last_sync = ? WHERE id = ?").run(syncId, deploymentId);
}
