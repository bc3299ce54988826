/**
 * Submit rules (docs/api.md "Submit modes"), step by step:
 * 1. A `request_id` already used for this deployment returns that first sync; nothing else happens.
 * 2. `replace` (default) supersedes every `queued` sync and the in-flight sync if it is still
 *    `evaluating` or `building`. A sync `deploying` or `destroying` is never interrupted: the new
 *    sync waits behind it. So only the newest request ever reaches `deploying`.
 *    `enqueue` supersedes nothing; the new sync goes behind everything.
 * 3. If the deployment would then hold more than `maxNonTerminalSyncs` non-terminal syncs, the
 *    submit is rejected with `resource_exhausted` and nothing changes.
 * 4. The new sync is `queued`; its position is the number of non-terminal syncs ahead of it.
 * Events, in order: per superseded sync `sync.superseded`, `sync.state`, `sync.finished`; then
 * `deployment.state` if superseding the in-flight sync changed it; then `sync.queued`.
 */
import { unreachable } from "./assert-never.js";
import type { PriorityClass } from "./dag.js";
import type { DeploymentFacts } from "./deployment-state.js";
import type { PendingEvent } from "./events.js";
import { pendingEvent } from "./events.js";
import type { Limits } from "./limits.js";
import { isInFlightSyncState, isInterruptibleSyncState } from "./sync-state.js";
import type { SubmitMode, SyncKind, SyncState } from "./sync-state.js";
import { decideTransition } from "./transition.js";
import type { SyncFacts } from "./transition.js";

export interface SubmitSituation {
  readonly deployment: DeploymentFacts;
  /** The deployment's non-terminal syncs, oldest first. */
  readonly nonTerminal: readonly SyncFacts[];
  /** The sync created earlier with the same request_id for this deployment, if any. */
  readonly sameRequest: string | null;
}

export interface SubmitRequest {
  /** The id the new sync gets if it is accepted. */
  readonly id: string;
  readonly kind: SyncKind;
  readonly mode: SubmitMode;
  readonly priority: PriorityClass;
  readonly configHash: string | null;
  readonly rollbackGeneration: number | null;
}

export interface SupersededSync {
  readonly id: string;
  readonly from: SyncState;
}

export type SubmitDecision =
  | { readonly outcome: "existing"; readonly syncId: string }
  | { readonly outcome: "rejected"; readonly code: "resource_exhausted"; readonly message: string }
  | {
      readonly outcome: "accepted";
      readonly superseded: readonly SupersededSync[];
      readonly position: number;
      /** The deployment after superseding (before the new sync runs). */
      readonly deployment: DeploymentFacts;
      readonly events: PendingEvent[];
    };

export function decideSubmit(
  situation: SubmitSituation,
  request: SubmitRequest,
  limits: Pick<Limits, "maxNonTerminalSyncs">,
): SubmitDecision {
  if (situation.sameRequest !== null) return { outcome: "existing", syncId: situation.sameRequest };

  const toSupersede = request.mode === "replace" ? situation.nonTerminal.filter((s) => isInterruptibleSyncState(s.state)) : [];
  const remaining = situation.nonTerminal.length - toSupersede.length;
  if (remaining + 1 > limits.maxNonTerminalSyncs) {
    return {
      outcome: "rejected",
      code: "resource_exhausted",
      message: `the deployment already has ${remaining} unfinished syncs (limit ${limits.maxNonTerminalSyncs})`,
    };
  }

  const events: PendingEvent[] = [];
  const superseded: SupersededSync[] = [];
  let deployment = situation.deployment;
  const ended = new Set<string>();
  for (const sync of toSupersede) {
    // Another sync still in flight once this one is superseded (in any phase), as in cancel.ts.
    const keptInFlight = situation.nonTerminal.find((s) => s.id !== sync.id && isInFlightSyncState(s.state) && !ended.has(s.id));
    const decision = decideTransition(sync, deployment, { to: "superseded", supersededBy: request.id }, keptInFlight?.kind ?? null);
    if (!decision.ok) unreachable(decision.message); // interruptible states may always be superseded
    deployment = decision.deployment;
    ended.add(sync.id);
    superseded.push({ id: sync.id, from: sync.state });
    events.push(...decision.events);
  }
  events.push(
    pendingEvent("sync.queued", request.id, {
      kind: request.kind,
      mode: request.mode,
      priority: request.priority,
      config_hash: request.configHash,
      rollback_generation: request.rollbackGeneration,
      position: remaining,
    }),
  );
  return { outcome: "accepted", superseded, position: remaining, deployment, events };
}
