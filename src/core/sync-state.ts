/**
 * Sync states and the transition table. A sync runs one of three flows:
 * - `apply`    queued → evaluating → building → deploying → succeeded
 *              (evaluating → deploying directly when there is nothing to build)
 * - `rollback` queued → deploying → succeeded (kind "apply" of a stored generation: no evaluation, no build)
 * - `teardown` queued → destroying → succeeded
 * Any non-terminal state may end in `failed` or `timed_out`; `cancelled` and `superseded` end a sync
 * only while it is `queued`, `evaluating` or `building` (a deploy or teardown is never interrupted).
 * A terminal sync never changes again.
 */
import { assertNever } from "./assert-never.js";

export const syncStates = [
  "queued",
  "evaluating",
  "building",
  "deploying",
  "destroying",
  "succeeded",
  "failed",
  "cancelled",
  "superseded",
  "timed_out",
] as const;
export type SyncState = (typeof syncStates)[number];

export const terminalSyncStates = ["succeeded", "failed", "cancelled", "superseded", "timed_out"] as const;
export type TerminalSyncState = (typeof terminalSyncStates)[number];

/** States in which a sync holds its deployment (at most one per deployment). */
export const inFlightSyncStates = ["evaluating", "building", "deploying", "destroying"] as const;
export type InFlightSyncState = (typeof inFlightSyncStates)[number];

/** Not terminal: queued or in flight. */
export const nonTerminalSyncStates = ["queued", ...inFlightSyncStates] as const;
export type NonTerminalSyncState = (typeof nonTerminalSyncStates)[number];

export type SyncKind = "apply" | "teardown";
export const syncKinds: readonly SyncKind[] = ["apply", "teardown"];

export type SubmitMode = "replace" | "enqueue";
export const submitModes: readonly SubmitMode[] = ["replace", "enqueue"];

/** How a sync proceeds: derived from its kind and whether it re-applies a stored generation. */
export type SyncFlow = "apply" | "rollback" | "teardown";
export const syncFlows: readonly SyncFlow[] = ["apply", "rollback", "teardown"];

export function syncFlowOf(kind: SyncKind, rollbackGeneration: number | null): SyncFlow {
  switch (kind) {
    case "apply":
      return rollbackGeneration === null ? "apply" : "rollback";
    case "teardown":
      return "teardown";
    default:
      return assertNever(kind, "sync kind");
  }
}

export function isSyncState(value: string): value is SyncState {
  return (syncStates as readonly string[]).includes(value);
}
/** For any string, e.g. a state read off the wire. */
export function isTerminalSyncState(state: string): state is TerminalSyncState {
  return (terminalSyncStates as readonly string[]).includes(state);
}
export function isInFlightSyncState(state: SyncState): state is InFlightSyncState {
  return (inFlightSyncStates as readonly string[]).includes(state);
}
export function isNonTerminalSyncState(state: SyncState): state is NonTerminalSyncState {
  return !isTerminalSyncState(state);
}
/** A sync in these states can still be cancelled or superseded. */
export function isInterruptibleSyncState(state: SyncState): boolean {
  return state === "queued" || state === "evaluating" || state === "building";
}

const ENDINGS = ["failed", "timed_out"] as const;
const INTERRUPTS = ["cancelled", "superseded"] as const;

/** The legal transitions per flow; anything absent is illegal. */
export const syncTransitions: Readonly<Record<SyncFlow, Readonly<Partial<Record<SyncState, readonly SyncState[]>>>>> = {
  apply: {
    queued: ["evaluating", ...INTERRUPTS, ...ENDINGS],
    evaluating: ["building", "deploying", ...INTERRUPTS, ...ENDINGS],
    building: ["deploying", ...INTERRUPTS, ...ENDINGS],
    deploying: ["succeeded", ...ENDINGS],
  },
  rollback: {
    queued: ["deploying", ...INTERRUPTS, ...ENDINGS],
    deploying: ["succeeded", ...ENDINGS],
  },
  teardown: {
    queued: ["destroying", ...INTERRUPTS, ...ENDINGS],
    destroying: ["succeeded", ...ENDINGS],
  },
};

export function canTransitionSync(flow: SyncFlow, from: SyncState, to: SyncState): boolean {
  return syncTransitions[flow][from]?.includes(to) ?? false;
}

/** The state a claimed sync moves to first: evaluating, deploying (rollback) or destroying (teardown). */
export function firstRunningState(flow: SyncFlow): InFlightSyncState {
  switch (flow) {
    case "apply":
      return "evaluating";
    case "rollback":
      return "deploying";
    case "teardown":
      return "destroying";
    default:
      return assertNever(flow, "sync flow");
  }
}
