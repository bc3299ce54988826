/**
 * How a deployment's state follows its syncs: it is `deploying`/`destroying` while an apply/teardown
 * sync is past `queued`, otherwise `active` when a generation is live and `idle` when none is. So
 * after a failed apply it falls back to what is live.
 */
import { assertNever } from "./assert-never.js";
import type { SyncKind } from "./sync-state.js";

export const deploymentStates = ["idle", "active", "deploying", "destroying"] as const;
export type DeploymentState = (typeof deploymentStates)[number];

export function isDeploymentState(value: string): value is DeploymentState {
  return (deploymentStates as readonly string[]).includes(value);
}

/** The part of a deployment that the domain rules read and change. */
export interface DeploymentFacts {
  readonly state: DeploymentState;
  /** The generation currently live, or null when nothing is (never applied, or torn down). */
  readonly liveGeneration: number | null;
  /** The highest generation number ever produced (0 before the first successful apply). */
  readonly latestGeneration: number;
}

export const newDeploymentFacts: DeploymentFacts = Object.freeze({ state: "idle", liveGeneration: null, latestGeneration: 0 });

export function deploymentStateFor(inFlightKind: SyncKind | null, liveGeneration: number | null): DeploymentState {
  if (inFlightKind === null) return liveGeneration === null ? "idle" : "active";
  switch (inFlightKind) {
    case "apply":
      return "deploying";
    case "teardown":
      return "destroying";
    default:
      return assertNever(inFlightKind, "sync kind");
  }
}
