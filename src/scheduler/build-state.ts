/**
 * A build's state as a tagged type (the connect-es session-manager model): each state carries only
 * its own data (timers belong to the lifecycle), and the lifecycle changes it in one place
 * (`setState` in build-lifecycle.ts). Also the terminal event each end state stands for, and
 * rio's synthetic copy of it for a late WatchBuild (actor/build.rs handle_watch_build).
 */
import { BuildResultStatus } from "../../generated/types_pb.js";
import type { EventBody } from "./build-registry.js";

export type BuildState =
  | { readonly name: "active" }
  | { readonly name: "succeeded"; readonly outputPaths: readonly string[] }
  | { readonly name: "failed"; readonly errorSummary: string; readonly failedDerivation: string }
  | { readonly name: "cancelled"; readonly reason: string };

/** What a build ends with. */
export type TerminalState = Exclude<BuildState, { name: "active" }>;

/** The error_summary column and QueryBuildStatus/ListBuilds text of a state. */
export function errorSummaryOf(state: BuildState): string {
  switch (state.name) {
    case "failed":
      return state.errorSummary;
    case "cancelled":
      return state.reason;
    case "active":
    case "succeeded":
      return "";
    default: {
      const never: never = state;
      return never;
    }
  }
}

/** The terminal event emitted when a build reaches `outcome`. */
export function terminalEvent(outcome: TerminalState): EventBody {
  switch (outcome.name) {
    case "succeeded":
      return { case: "completed", value: { outputPaths: [...outcome.outputPaths] } };
    case "failed":
      // rio hard-codes BuildFailed.status to UNSPECIFIED; the per-derivation event has the status.
      return { case: "failed", value: { errorMessage: outcome.errorSummary, failedDerivation: outcome.failedDerivation, status: BuildResultStatus.UNSPECIFIED } };
    case "cancelled":
      return { case: "cancelled", value: { reason: outcome.reason } };
    default: {
      const never: never = outcome;
      return never;
    }
  }
}

/**
 * rio's re-sent terminal event for a watcher of a finished build: rebuilt from the build's state,
 * so a cancellation loses its reason ("build was cancelled"), as in handle_watch_build.
 */
export function resentTerminalEvent(state: TerminalState): EventBody {
  return state.name === "cancelled" ? terminalEvent({ name: "cancelled", reason: "build was cancelled" }) : terminalEvent(state);
}
