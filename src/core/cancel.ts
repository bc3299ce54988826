/**
 * Cancel rules (docs/api.md `deployment.cancel`): without a sync id, the in-flight sync and every queued
 * sync are cancelled; with one, only that sync. A sync that is `deploying` or `destroying` is refused
 * with reason "deploying" (a deploy is never interrupted); an already finished sync is refused with
 * reason "terminal". Events per cancelled sync: `sync.state`, `sync.finished` (with the reason),
 * then `deployment.state` if the in-flight sync was cancelled.
 */
import { unreachable } from "./assert-never.js";
import type { DeploymentFacts } from "./deployment-state.js";
import type { PendingEvent } from "./events.js";
import { isInFlightSyncState, isInterruptibleSyncState, isTerminalSyncState } from "./sync-state.js";
import type { SyncState } from "./sync-state.js";
import { decideTransition } from "./transition.js";
import type { SyncFacts } from "./transition.js";

export type CancelRefusal = "deploying" | "terminal";

export interface CancelSituation {
  readonly deployment: DeploymentFacts;
  /** The deployment's non-terminal syncs, oldest first. */
  readonly nonTerminal: readonly SyncFacts[];
}

export interface CancelRequest {
  /** One sync (which may be terminal) or, when absent, everything unfinished. */
  readonly target?: SyncFacts;
  readonly reason?: string;
}

export interface CancelDecision {
  readonly cancelled: readonly { readonly id: string; readonly from: SyncState }[];
  readonly refused: readonly { readonly sync: string; readonly reason: CancelRefusal }[];
  readonly deployment: DeploymentFacts;
  readonly events: PendingEvent[];
}

export function decideCancel(situation: CancelSituation, request: CancelRequest): CancelDecision {
  const targets = request.target ? [request.target] : situation.nonTerminal;
  const cancelled: { id: string; from: SyncState }[] = [];
  const refused: { sync: string; reason: CancelRefusal }[] = [];
  const events: PendingEvent[] = [];
  const ended = new Set<string>();
  let deployment = situation.deployment;
  for (const sync of targets) {
    if (isTerminalSyncState(sync.state)) {
      refused.push({ sync: sync.id, reason: "terminal" });
      continue;
    }
    if (!isInterruptibleSyncState(sync.state)) {
      refused.push({ sync: sync.id, reason: "deploying" });
      continue;
    }
    // The deployment keeps following whichever other sync is still in flight in any phase (e.g. an
    // apply evaluating while a queued sync behind it is cancelled), unless this decision ended it.
    const keptInFlight = situation.nonTerminal.find((s) => s.id !== sync.id && isInFlightSyncState(s.state) && !ended.has(s.id));
    const decision = decideTransition(
      sync,
      deployment,
      { to: "cancelled", ...(request.reason !== undefined ? { reason: request.reason } : {}) },
      keptInFlight?.kind ?? null,
    );
    if (!decision.ok) unreachable(`interruptible states may always be cancelled: ${decision.message}`);
    deployment = decision.deployment;
    ended.add(sync.id);
    cancelled.push({ id: sync.id, from: sync.state });
    events.push(...decision.events);
  }
  return { cancelled, refused, deployment, events };
}
