/**
 * The rio client's domain vocabulary. Nothing outside src/rio/ sees protobuf types: callers get
 * these plain objects, with uint64 values as numbers (all < 2^53 in practice) and log lines decoded
 * as UTF-8 with replacement characters.
 */
import type { BuildDag, PriorityClass } from "../core/dag.js";

export interface SubmitRequest {
  readonly dag: BuildDag;
  readonly tenant?: string;
  readonly priority?: PriorityClass;
  readonly keepGoing?: boolean;
  readonly buildTimeoutSecs?: number;
  readonly maxSilentTimeSecs?: number;
  readonly buildCores?: number;
}

export type DerivationEventKind = "queued" | "started" | "completed" | "cached" | "failed" | "substituting";

interface EventBase {
  readonly buildId: string;
  readonly sequence: number;
  /** RFC 3339 UTC; rio's emission time. */
  readonly at: string;
}

export type RioEvent =
  | (EventBase & { readonly type: "started"; readonly totalDerivations: number; readonly cachedDerivations: number })
  | (EventBase & { readonly type: "inputs_resolved" })
  | (EventBase & {
      readonly type: "progress";
      readonly completed: number;
      readonly running: number;
      readonly queued: number;
      readonly total: number;
      readonly criticalPathRemainingSecs: number | null;
      readonly assignedExecutors: readonly string[];
    })
  | (EventBase & {
      readonly type: "log";
      readonly derivation: string;
      readonly firstLineNumber: number;
      readonly lines: readonly string[];
      readonly executorId: string;
    })
  | (EventBase & {
      readonly type: "derivation";
      readonly derivation: string;
      readonly kind: DerivationEventKind;
      readonly executorId: string;
      readonly outputPaths: readonly string[];
      readonly errorMessage: string;
      /** rio's BuildResultStatus name in lower case without prefix, e.g. "permanent_failure"; "" when unset. */
      readonly failureStatus: string;
    })
  | (EventBase & { readonly type: "phase"; readonly derivation: string; readonly phase: string })
  | (EventBase & { readonly type: "completed"; readonly outputPaths: readonly string[] })
  | (EventBase & { readonly type: "failed"; readonly errorMessage: string; readonly failedDerivation: string })
  | (EventBase & { readonly type: "cancelled"; readonly reason: string });

export type TerminalRioEvent = Extract<RioEvent, { type: "completed" | "failed" | "cancelled" }>;

export function isTerminalRioEvent(e: RioEvent): e is TerminalRioEvent {
  return e.type === "completed" || e.type === "failed" || e.type === "cancelled";
}

export type BuildState = "unspecified" | "pending" | "active" | "succeeded" | "failed" | "cancelled";
