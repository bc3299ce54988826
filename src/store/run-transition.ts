/**
 * Inside a `write`: one decided sync transition, stored. Reads the deployment, asks
 * core/transition.ts, applies the guarded update, the deployment facts, a new generation when an
 * apply succeeded, and the events (the caller's extra events first, then the transition's own).
 */
import type { PendingEvent, StoredEvent, SyncKind, SyncState, TransitionRequest } from "../core/index.js";
import { decideTransition } from "../core/index.js";
import { AppError } from "../errors.js";
import type { StoreContext, WriteLog } from "./context.js";
import { appendEvents, checkRunnerEvents } from "./event-log.js";
import { deploymentById, rememberLastSync, saveDeploymentFacts } from "./lookups.js";
import { deploymentFactsOf, IN_FLIGHT, syncFactsOf } from "./rows.js";
import type { SyncRow } from "./rows.js";
import { updateSyncState } from "./sync-updates.js";

export interface StoredTransition {
  readonly to: SyncState;
  readonly newGeneration: number | null;
  readonly events: StoredEvent[];
}

export function runTransition(
  ctx: StoreContext,
  log: WriteLog,
  row: SyncRow,
  expectedFrom: SyncState,
  request: TransitionRequest,
  extra: { readonly events?: readonly PendingEvent[]; readonly outputPaths?: readonly string[] },
  at: string,
): StoredTransition {
  if (row.state !== expectedFrom) {
    throw new AppError("conflict", `sync ${row.id}: cannot go ${expectedFrom} → ${request.to}, it is ${row.state}`);
  }
  checkRunnerEvents(row.id, extra.events ?? []);
  const dep = deploymentById(ctx, row.deployment_id);
  const other = ctx
    .stmt(`SELECT kind FROM syncs WHERE deployment_id = ? AND state IN ${IN_FLIGHT} AND n <> ?`)
    .get(row.deployment_id, row.n) as { kind: SyncKind } | undefined;
  const decision = decideTransition(syncFactsOf(row), deploymentFactsOf(dep), request, other?.kind ?? null);
  if (!decision.ok) throw new AppError("conflict", decision.message);

  if (decision.newGeneration !== null) {
    if (!extra.outputPaths) throw new AppError("invalid_argument", `sync ${row.id}: a successful apply needs its output paths`);
    const cfg = ctx.stmt("SELECT configuration FROM syncs WHERE n = ?").get(row.n) as { configuration: string | null };
    ctx
      .stmt("INSERT INTO generations (deployment_id, number, config_hash, configuration, output_paths, sync, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(row.deployment_id, decision.newGeneration, row.config_hash ?? "", cfg.configuration ?? "null", JSON.stringify(extra.outputPaths), row.id, at);
  }
  updateSyncState(
    ctx,
    row,
    {
      to: decision.to,
      error: decision.error,
      ...(request.supersededBy !== undefined ? { supersededBy: request.supersededBy } : {}),
      ...(request.reason !== undefined ? { cancelReason: request.reason } : {}),
      generation: decision.newGeneration,
    },
    at,
  );
  saveDeploymentFacts(ctx, row.deployment_id, decision.deployment, at);
  rememberLastSync(ctx, row.deployment_id, row.id, decision.to);
  const events = appendEvents(ctx, log, dep, [...(extra.events ?? []), ...decision.events], at);
  return { to: decision.to, newGeneration: decision.newGeneration, events };
}
