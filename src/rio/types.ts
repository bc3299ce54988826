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

/** QueryBuildStatus, in domain form (rio never fills its timestamps, so they are left out). */
export interface BuildStatus {
  readonly buildId: string;
  readonly state: BuildState;
  readonly totalDerivations: number;
  readonly completedDerivations: number;
  readonly cachedDerivations: number;
  readonly runningDerivations: number;
  readonly failedDerivations: number;
  readonly queuedDerivations: number;
  readonly errorSummary: string;
  readonly criticalPathRemainingSecs: number | null;
  readonly assignedExecutors: readonly string[];
}

/** ListBuilds' status filter values. */
export type BuildStatusFilter = "pending" | "active" | "succeeded" | "failed" | "cancelled";

export interface ListBuildsQuery {
  /** Opaque keyset cursor from a previous page's `nextCursor`; absent or "" = the first page. */
  readonly cursor?: string;
  readonly status?: BuildStatusFilter;
  /** Tenant name. */
  readonly tenant?: string;
  /** 1..1000; rio uses 100 when unset. */
  readonly limit?: number;
}

export interface BuildSummary {
  readonly buildId: string;
  /** UUID, or "" for single-tenant builds. */
  readonly tenantId: string;
  readonly priorityClass: string;
  readonly state: BuildState;
  readonly totalDerivations: number;
  readonly completedDerivations: number;
  readonly cachedDerivations: number;
  readonly errorSummary: string;
  /** RFC 3339, or null (rio does not populate these today). */
  readonly submittedAt: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface BuildPage {
  readonly builds: readonly BuildSummary[];
  /** 0 on cursor pages. */
  readonly totalCount: number;
  /** Set iff the page is full; pass it as `cursor` for the next page. */
  readonly nextCursor: string | null;
}

/** GetBuildLogs: a finite snapshot, not a tail. */
export interface LogSnapshot {
  readonly derivation: string;
  /** Absolute number of `lines[0]`; equals the requested `sinceLine` when no lines came back. */
  readonly firstLineNumber: number;
  readonly lines: readonly string[];
  /** True when the last chunk came from the archived (finished) log. */
  readonly complete: boolean;
}

export interface ClusterStatus {
  readonly totalExecutors: number;
  readonly activeExecutors: number;
  readonly drainingExecutors: number;
  readonly pendingBuilds: number;
  readonly activeBuilds: number;
  readonly queuedDerivations: number;
  readonly runningDerivations: number;
  readonly storeSizeBytes: number;
  readonly uptimeSince: string | null;
  readonly queuedFodDerivations: number;
  readonly queuedBySystem: Readonly<Record<string, number>>;
}

export interface BuildGraph {
  readonly nodes: readonly {
    readonly drvPath: string;
    readonly pname: string;
    readonly system: string;
    /** rio's derivation status text, e.g. "completed", "dependency_failed". */
    readonly status: string;
    readonly assignedExecutorId: string;
  }[];
  readonly edges: readonly { readonly parent: string; readonly child: string }[];
  readonly truncated: boolean;
  readonly totalNodes: number;
}

export interface Tenant {
  readonly tenantId: string;
  readonly tenantName: string;
  readonly gcRetentionHours: number;
  readonly gcMaxStoreBytes: number | null;
  readonly createdAt: string | null;
  readonly hasCacheToken: boolean;
}

export interface CreateTenantRequest {
  readonly name: string;
  readonly gcRetentionHours?: number;
  readonly gcMaxStoreBytes?: number;
  readonly cacheToken?: string;
}

/** How following a build ended (a transport giving up is an AppError `unavailable` instead). */
export type FollowOutcome =
  | { readonly type: "terminal"; readonly event: TerminalRioEvent; readonly lastSequence: number }
  /** NOT_FOUND on re-attach: rio cleaned the build up (or lost it); check listBuilds/buildGraph. */
  | { readonly type: "gone"; readonly lastSequence: number }
  /** The caller's signal fired. */
  | { readonly type: "aborted"; readonly lastSequence: number };
