/**
 * The port between the WAMP edge (api/) and the application service (service/deployment-service.ts).
 * The service implements it; `registerApi` calls it with inputs that are already validated (zod, at
 * the edge) and tenant-resolved (the caller's own tenant, or the `tenant` a panel/operator session
 * named). Every method returns exactly the docs/api.md result shape for its procedure and throws
 * `AppError` (not_found, conflict, resource_exhausted, unavailable, ...) for anything else; the edge
 * maps it to `fediversity.error.<code>`. Both sides import this file; neither imports the other.
 */
import type {
  CancelResult,
  CommitListener,
  DeploymentState,
  DeliveriesResult,
  DeploymentView,
  EventsResult,
  EventType,
  GraphResult,
  HistoryResult,
  ListResult,
  LogsResult,
  PlanResult,
  PriorityClass,
  QueueStatusResult,
  SchemaResult,
  SubmitMode,
  SubmitResult,
  SyncKind,
  SyncState,
  SyncView,
  WebhookCreateResult,
  WebhookDeleteResult,
  WebhookListResult,
} from "../core/index.js";

/** Who asked, from the WAMP session (never from arguments). For audit and logging. */
export interface Actor {
  readonly authid: string;
  readonly authrole: string;
  /** The caller's WAMP session id, when the router disclosed it. */
  readonly session: number | null;
}

export interface DeploymentRef {
  readonly tenant: string;
  readonly deployment: string;
}

export interface SubmitInput extends DeploymentRef {
  /** A JSON object, ≤ the configured size limit. */
  readonly configuration: Record<string, unknown>;
  /** Absent: the deployment's existing type, or (new deployment) the service's default rule. */
  readonly deploymentType: string | undefined;
  readonly mode: SubmitMode;
  readonly priority: PriorityClass;
  /** Idempotency key per deployment (length: core limits.ts). */
  readonly requestId: string | undefined;
  readonly actor: Actor;
}

export interface PlanInput extends DeploymentRef {
  readonly configuration: Record<string, unknown>;
  readonly deploymentType: string | undefined;
  readonly priority: PriorityClass;
  readonly actor: Actor;
}

export interface ListInput {
  /** null: every tenant (only panel/operator sessions that named no tenant). */
  readonly tenant: string | null;
  readonly state: DeploymentState | undefined;
  /** 1..500, default 100. */
  readonly limit: number;
  readonly cursor: string | undefined;
}

export interface CancelInput extends DeploymentRef {
  /** Absent: the current sync and all queued ones. */
  readonly sync: string | undefined;
  readonly reason: string | undefined;
  readonly actor: Actor;
}

export interface DeleteInput extends DeploymentRef {
  readonly mode: SubmitMode;
  readonly requestId: string | undefined;
  readonly actor: Actor;
}

export interface RollbackInput extends DeploymentRef {
  /** Absent: the generation before the live one. */
  readonly generation: number | undefined;
  readonly actor: Actor;
}

export interface EventsInput extends DeploymentRef {
  /** Exclusive; 0 = from the start. */
  readonly since: number;
  /** 1..1000, default 1000. */
  readonly limit: number;
}

export interface LogsInput extends DeploymentRef {
  readonly sync: string;
  /** Inclusive, 0-based. */
  readonly sinceLine: number;
  /** 1..10000, default 1000. */
  readonly limit: number;
  readonly derivation: string | undefined;
}

export interface FollowLogsInput extends LogsInput {
  /** Fires when the caller cancelled, left, or the API is shutting down. */
  readonly signal: AbortSignal;
}

export interface GraphInput extends DeploymentRef {
  readonly sync: string;
}

export interface SchemaInput {
  readonly deploymentType: string | undefined;
}

export interface SyncRef {
  readonly tenant: string;
  readonly sync: string;
}

export interface HistoryInput extends DeploymentRef {
  readonly state: SyncState | undefined;
  readonly kind: SyncKind | undefined;
  /** 1..500, default 50. */
  readonly limit: number;
  readonly cursor: string | undefined;
}

export interface WebhookCreateInput {
  readonly tenant: string;
  /** Checked by the service against the URL rules (docs/webhooks.md). */
  readonly url: string;
  /** Distinct event types, at least one; default `["sync.finished"]` (applied at the edge). */
  readonly events: readonly EventType[];
  /** Absent: every deployment of the tenant. */
  readonly deployment: string | undefined;
  readonly description: string | undefined;
  readonly actor: Actor;
}

export interface WebhookRef {
  readonly tenant: string;
  readonly webhook: string;
}

export interface DeliveriesInput extends WebhookRef {
  /** 1..500, default 50. */
  readonly limit: number;
  readonly cursor: string | undefined;
}

export interface DeploymentService {
  /** `fediversity.deployment.submit`. */
  submit(input: SubmitInput): Promise<SubmitResult>;
  /** `fediversity.deployment.plan`: evaluates, builds nothing. */
  plan(input: PlanInput): Promise<PlanResult>;
  /** `fediversity.deployment.get`: not_found for a deployment never submitted. */
  get(input: DeploymentRef): Promise<DeploymentView>;
  /** `fediversity.deployment.list`. */
  list(input: ListInput): Promise<ListResult>;
  /** `fediversity.deployment.cancel`: syncs in deploying/destroying are refused, not interrupted. */
  cancel(input: CancelInput): Promise<CancelResult>;
  /** `fediversity.deployment.delete`: enqueues a teardown sync. */
  delete(input: DeleteInput): Promise<SubmitResult>;
  /** `fediversity.deployment.rollback`: applies a stored generation without evaluating. */
  rollback(input: RollbackInput): Promise<SubmitResult>;
  /** `fediversity.deployment.events`: exactly the stored events after `since`. */
  events(input: EventsInput): Promise<EventsResult>;
  /** `fediversity.build.logs` (one page). */
  logs(input: LogsInput): Promise<LogsResult>;
  /**
   * `fediversity.build.logs` with `follow: true`: yields each new batch (lines, next_line,
   * complete) as it arrives, starting at `sinceLine`; the last batch yielded has
   * `complete: true` once the sync is terminal and every line was delivered. Stops early, without
   * throwing, when `signal` fires. Throws AppError like `logs` (e.g. not_found).
   */
  followLogs(input: FollowLogsInput): AsyncIterable<LogsResult>;
  /** `fediversity.build.graph`. */
  graph(input: GraphInput): Promise<GraphResult>;
  /** `fediversity.schema.get`: every type, or just the named one (not_found if unknown). */
  schema(input: SchemaInput): Promise<SchemaResult>;
  /** `fediversity.queue.status` (the edge lets only role operator through). */
  queueStatus(): Promise<QueueStatusResult>;

  // v1.1: history and webhooks (docs/api.md "Additions in v1.1").
  /** `fediversity.sync.get`: any sync of the tenant, terminal ones included; not_found otherwise (another tenant's too). */
  syncGet(input: SyncRef): Promise<SyncView>;
  /** `fediversity.deployment.history`: newest first, in cursor pages. */
  history(input: HistoryInput): Promise<HistoryResult>;
  /** `fediversity.webhook.create`: the only answer that carries the signing secret. */
  createWebhook(input: WebhookCreateInput): Promise<WebhookCreateResult>;
  /** `fediversity.webhook.list`: the tenant's webhooks, without secrets. */
  listWebhooks(input: { readonly tenant: string }): Promise<WebhookListResult>;
  /** `fediversity.webhook.delete`: not_found for an unknown or another tenant's webhook. */
  deleteWebhook(input: WebhookRef): Promise<WebhookDeleteResult>;
  /** `fediversity.webhook.deliveries`: newest first, in cursor pages. */
  webhookDeliveries(input: DeliveriesInput): Promise<DeliveriesResult>;
}

/**
 * What the service committed, for the API to publish: every listener is called synchronously after
 * each commit that stored events or log lines, in commit order, so a listener that publishes at once
 * publishes each deployment's events in `seq` order.
 */
export interface CommitFeed {
  onCommit(listener: CommitListener): () => void;
}
