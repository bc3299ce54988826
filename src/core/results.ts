/**
 * The result shapes of the API's procedures and topics (docs/api.md), exactly as clients receive
 * them in `args[0]`: snake_case keys, RFC 3339 strings, `null` rather than missing values. The
 * service returns them, the API passes them on, the CLI reads them.
 */
import type { EventType, StoredEvent } from "./events.js";
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

/** `deployment.history`: newest first. */
export interface HistoryResult {
  readonly syncs: readonly SyncView[];
  readonly next_cursor: string | null;
}

/** The webhook view (docs/api.md "Additions in v1.1"); never carries the secret. */
export interface WebhookView {
  readonly webhook: string;
  readonly tenant: string;
  readonly url: string;
  readonly events: readonly EventType[];
  /** Null: every deployment of the tenant. */
  readonly deployment: string | null;
  readonly description: string | null;
  readonly created_at: string;
  /** The last successful delivery. */
  readonly last_delivery_at: string | null;
  /** The first failed attempt since the last success; null while healthy. */
  readonly failing_since: string | null;
}

/** `webhook.create`: the only answer that ever shows the signing secret. */
export interface WebhookCreateResult {
  readonly webhook: WebhookView;
  readonly secret: string;
}

export interface WebhookListResult {
  readonly webhooks: readonly WebhookView[];
}

export interface WebhookDeleteResult {
  readonly deleted: true;
}

export type DeliveryState = "pending" | "delivered" | "failed";

/** One entry of `webhook.deliveries`. */
export interface DeliveryView {
  readonly delivery: string;
  readonly event_seq: number;
  readonly deployment: string;
  readonly type: EventType;
  readonly attempts: number;
  readonly state: DeliveryState;
  readonly last_status: number | null;
  readonly last_error: string | null;
  /** Null once settled, and while it waits for the delivery before it. */
  readonly next_attempt_at: string | null;
}

/** `webhook.deliveries`: newest first. */
export interface DeliveriesResult {
  readonly deliveries: readonly DeliveryView[];
  readonly next_cursor: string | null;
}
