/** cancelSyncs: applies the core cancel rules (core/cancel.ts) atomically. */
import type { StoredEvent } from "../core/index.js";
import { decideCancel } from "../core/index.js";
import type { CancelRefusal } from "../core/index.js";
import { AppError } from "../errors.js";
import type { StoreContext } from "./context.js";
import { appendEvents } from "./event-log.js";
import { findSync, rememberLastSync, requireDeployment, saveDeploymentFacts, unfinishedBriefs } from "./lookups.js";
import { deploymentFactsOf, syncFactsOf } from "./rows.js";
import type { InterruptedSync } from "./submit-sync.js";
import { updateSyncState } from "./sync-updates.js";

export interface CancelSyncsInput {
  readonly tenant: string;
  readonly deployment: string;
  /** One sync of this deployment; default: the in-flight one and every queued one. */
  readonly sync?: string;
  readonly reason?: string;
}

export interface CancelSyncsResult {
  readonly cancelled: string[];
  /** `deploying`: it is deploying or destroying and is never interrupted; `terminal`: already finished. */
  readonly refused: { readonly sync: string; readonly reason: CancelRefusal }[];
  /** Cancelled syncs that were in flight (evaluating/building): the runner stops them and cancels their rio build. */
  readonly interrupted: InterruptedSync[];
  readonly events: StoredEvent[];
}

export function cancelSyncs(ctx: StoreContext, input: CancelSyncsInput): CancelSyncsResult {
  return ctx.write((log) => {
    const at = ctx.now();
    const dep = requireDeployment(ctx, input.tenant, input.deployment);
    const unfinished = unfinishedBriefs(ctx, dep.id);
    let target;
    if (input.sync !== undefined) {
      const row = findSync(ctx, input.sync);
      if (!row || row.deployment_id !== dep.id) throw new AppError("not_found", `no sync ${input.sync} in deployment ${input.deployment}`);
      target = syncFactsOf(row);
    }
    const decision = decideCancel(
      { deployment: deploymentFactsOf(dep), nonTerminal: unfinished.map(syncFactsOf) },
      { ...(target ? { target } : {}), ...(input.reason !== undefined ? { reason: input.reason } : {}) },
    );
    const interrupted: InterruptedSync[] = [];
    for (const c of decision.cancelled) {
      const row = unfinished.find((u) => u.id === c.id);
      if (!row) throw new AppError("internal", `cancelled sync ${c.id} is not unfinished`);
      updateSyncState(ctx, row, { to: "cancelled", error: null, ...(input.reason !== undefined ? { cancelReason: input.reason } : {}) }, at);
      rememberLastSync(ctx, dep.id, row.id, "cancelled");
      if (row.state !== "queued") interrupted.push({ sync: row.id, from: row.state, buildId: row.build_id });
    }
    if (decision.cancelled.length > 0) saveDeploymentFacts(ctx, dep.id, decision.deployment, at);
    const events = appendEvents(ctx, log, dep, decision.events, at);
    return { cancelled: decision.cancelled.map((c) => c.id), refused: [...decision.refused], interrupted, events };
  });
}
