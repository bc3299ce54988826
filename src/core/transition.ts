/**
 * One sync changes state: is the move legal, and which events record it (including the deployment
 * state that follows). Used for claiming, for every step of a running sync and for finishing it.
 */
import { deploymentStateFor } from "./deployment-state.js";
import type { DeploymentFacts, DeploymentState } from "./deployment-state.js";
import type { PendingEvent } from "./events.js";
import { pendingEvent } from "./events.js";
import type { SyncError } from "./sync-error.js";
import { canTransitionSync, isInFlightSyncState, isTerminalSyncState } from "./sync-state.js";
import type { SyncFlow, SyncKind, SyncState } from "./sync-state.js";

/** What the rules need to know about a sync. */
export interface SyncFacts {
  readonly id: string;
  readonly kind: SyncKind;
  readonly flow: SyncFlow;
  readonly state: SyncState;
}

export interface TransitionRequest {
  readonly to: SyncState;
  /** Required when `to` is `failed`; defaults to code `timeout` for `timed_out`; refused otherwise. */
  readonly error?: SyncError | null;
  /** For `superseded`: the id of the newer sync. */
  readonly supersededBy?: string;
  /** For `cancelled`: the caller's reason, recorded in `sync.finished`. */
  readonly reason?: string;
}

export type TransitionDecision =
  | {
      readonly ok: true;
      readonly to: SyncState;
      readonly error: SyncError | null;
      /** The deployment after the change (state, live and latest generation). */
      readonly deployment: DeploymentFacts;
      /** Set when this transition produced a new generation (a successful apply or rollback). */
      readonly newGeneration: number | null;
      readonly events: PendingEvent[];
    }
  | { readonly ok: false; readonly message: string };

/**
 * Decides `sync: from → to` given the deployment it belongs to. `inFlightOther` is the kind of a
 * different in-flight sync of the deployment, if any (normally none: at most one is in flight).
 */
export function decideTransition(
  sync: SyncFacts,
  deployment: DeploymentFacts,
  request: TransitionRequest,
  inFlightOther: SyncKind | null = null,
): TransitionDecision {
  const { to } = request;
  if (!canTransitionSync(sync.flow, sync.state, to)) {
    return { ok: false, message: `sync ${sync.id} (${sync.flow}) cannot go from ${sync.state} to ${to}` };
  }
  if (isInFlightSyncState(to) && !isInFlightSyncState(sync.state) && inFlightOther !== null) {
    return { ok: false, message: `sync ${sync.id} cannot start: another sync of the deployment is in flight` };
  }
  let error: SyncError | null = null;
  if (to === "failed") {
    if (!request.error) return { ok: false, message: `sync ${sync.id}: failing needs an error` };
    error = request.error;
  } else if (to === "timed_out") {
    error = request.error ?? { code: "timeout", message: "the sync timed out", derivation: null };
  } else if (request.error) {
    return { ok: false, message: `sync ${sync.id}: an error is only recorded when it fails or times out` };
  }
  if (to === "superseded" && !request.supersededBy) {
    return { ok: false, message: `sync ${sync.id}: superseding needs the newer sync's id` };
  }

  let liveGeneration = deployment.liveGeneration;
  let latestGeneration = deployment.latestGeneration;
  let newGeneration: number | null = null;
  if (to === "succeeded") {
    if (sync.kind === "apply") {
      newGeneration = latestGeneration + 1;
      latestGeneration = newGeneration;
      liveGeneration = newGeneration;
    } else {
      liveGeneration = null;
    }
  }
  const inFlightKind = isInFlightSyncState(to) ? sync.kind : inFlightOther;
  const after: DeploymentFacts = { state: deploymentStateFor(inFlightKind, liveGeneration), liveGeneration, latestGeneration };

  const events: PendingEvent[] = [];
  if (to === "superseded" && request.supersededBy) {
    events.push(pendingEvent("sync.superseded", sync.id, { by: request.supersededBy }));
  }
  events.push(pendingEvent("sync.state", sync.id, { from: sync.state, to }));
  if (isTerminalSyncState(to)) {
    events.push(
      pendingEvent("sync.finished", sync.id, {
        state: to,
        error,
        ...(to === "cancelled" && request.reason !== undefined ? { reason: request.reason } : {}),
      }),
    );
  }
  events.push(...deploymentStateEvents(deployment.state, after, sync.id));
  return { ok: true, to, error, deployment: after, newGeneration, events };
}

/** The `deployment.state` event for a change, or nothing when the state stays the same. */
function deploymentStateEvents(before: DeploymentState, after: DeploymentFacts, causedBy: string | null): PendingEvent[] {
  if (before === after.state) return [];
  return [pendingEvent("deployment.state", causedBy, { from: before, to: after.state, generation: after.liveGeneration })];
}
