/**
 * The result shapes of the API contract (/work/shared/api.md), exactly as clients receive them in
 * `args[0]`: snake_case keys, RFC 3339 strings, `null` rather than missing values.
 */
import type {
  BuildCounters,
  DeploymentState,
  EventType,
  PriorityClass,
  StoredEvent,
  SubmitMode,
  SyncError,
  SyncKind,
  SyncState,
  TerminalSyncState,
} from "../core/index.js";
import { deploymentStates, submitModes, terminalSyncStates } from "../core/index.js";

export type { BuildCounters, DeploymentState, EventType, SubmitMode, SyncError, SyncKind, SyncState, TerminalSyncState };
export { deploymentStates, submitModes };

/** For any string (e.g. a state read off the wire). */
export function isTerminalSyncState(state: string): state is TerminalSyncState {
  return (terminalSyncStates as readonly string[]).includes(state);
}

export interface BuildSummary extends BuildCounters {
  build_id: string;
}

export interface SyncView {
  readonly sync: string;
  readonly deployment: string;
  readonly tenant: string;
  readonly kind: SyncKind;
  readonly state: SyncState;
  readonly mode: SubmitMode;
  readonly priority: PriorityClass;
  /** 0 = running now; n = n syncs ahead of it; null when terminal. */
  readonly position: number | null;
  readonly submitted_at: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  /** null for a teardown. */
  readonly config_hash: string | null;
  readonly build: BuildSummary | null;
  readonly error: SyncError | null;
  readonly superseded_by: string | null;
}

export interface DeploymentView {
  readonly deployment: string;
  readonly tenant: string;
  readonly deployment_type: string;
  readonly state: DeploymentState;
  /** The live generation; null when nothing is live. */
  readonly generation: number | null;
  /** Last event sequence number of this deployment. */
  readonly seq: number;
  readonly current: SyncView | null;
  /** Always present in `deployment.get` results (the edge fills in `[]`); absent in list items. */
  readonly queue?: readonly SyncView[];
  readonly last: SyncView | null;
  readonly created_at: string;
  readonly updated_at: string;
}

/** `deployment.list` items carry no queue. */
export type DeploymentSummary = Omit<DeploymentView, "queue">;

export interface SubmitResult {
  readonly sync: SyncView;
  readonly superseded: readonly string[];
}

export interface PlanNode {
  drv: string;
  pname: string;
  cached: boolean;
}

export interface PlanResult {
  derivations: number;
  to_build: number;
  cached: number;
  nodes: readonly PlanNode[];
}

export interface ListResult {
  deployments: readonly DeploymentSummary[];
  next_cursor: string | null;
}

export interface CancelResult {
  readonly cancelled: readonly string[];
  readonly refused: readonly { readonly sync: string; readonly reason: string }[];
}

/** An event as stored and published (api.md "Topics"). */
export type DeploymentEvent = StoredEvent;

export interface EventsResult {
  events: readonly DeploymentEvent[];
  next: number;
  more: boolean;
}

export type LogSource = "build" | "deploy";

export interface LogLine {
  readonly line: number;
  readonly source: LogSource;
  readonly derivation: string | null;
  readonly text: string;
}

export interface LogsResult {
  lines: readonly LogLine[];
  next_line: number;
  complete: boolean;
}

/** What `fediversity.logs.<tenant>.<deployment>` carries in args[0]. */
export interface LogBatch {
  readonly sync: string;
  readonly lines: readonly LogLine[];
}

export interface GraphNode {
  drv: string;
  pname: string;
  system: string;
  status: string;
  executor: string | null;
}

export interface GraphResult {
  nodes: readonly GraphNode[];
  /** [parent, child] pairs. */
  edges: readonly (readonly [string, string])[];
  truncated: boolean;
}

export interface SchemaResult {
  deployment_types: Record<string, { description: string; schema: Record<string, unknown> }>;
}

export interface QueueStatusResult {
  syncs: { queued: number; evaluating: number; building: number; deploying: number };
  /** rio ClusterStatus fields, as the scheduler reports them. */
  scheduler: Record<string, unknown>;
}
