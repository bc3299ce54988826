/**
 * The result shapes of the API's procedures and topics (docs/api.md), exactly as clients receive
 * them in `args[0]`: snake_case keys, RFC 3339 strings, `null` rather than missing values. The
 * service returns them, the API passes them on, the CLI reads them.
 */
import type { StoredEvent } from "./events.js";
import type { DeploymentView, LogLine, SyncView } from "./views.js";

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

/** An event as stored and published (docs/api.md "Topics"). */
export type DeploymentEvent = StoredEvent;

export interface EventsResult {
  events: readonly DeploymentEvent[];
  next: number;
  more: boolean;
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
