/**
 * openStore: the SQLite store, the only writer of deployment state. Opens (or creates) the file in
 * WAL mode, applies the migrations, and returns one object whose methods are the database
 * operations. Every write runs in one transaction and returns the events it stored; commit
 * listeners (`onCommit`) see them only after the commit, so the API publishes stored events only.
 */
import Database from "better-sqlite3";
import type { DeliveriesResult, HistoryResult, Limits, StoredEvent, SyncState, WebhookView } from "../core/index.js";
import { defaultLimits } from "../core/index.js";
import type { CancelSyncsInput, CancelSyncsResult } from "./cancel-syncs.js";
import { cancelSyncs } from "./cancel-syncs.js";
import { createContext } from "./context.js";
import type { CommitListener } from "./context.js";
import { eventsSince } from "./event-log.js";
import type { EventPage } from "./event-log.js";
import { getGeneration, listGenerations } from "./generations.js";
import type { Generation } from "./generations.js";
import { createSyncIdGenerator } from "./ids.js";
import { appendLogLines, logLines } from "./log-lines.js";
import type { AppendLogResult, LogPage, NewLogLine } from "./log-lines.js";
import { requireSync } from "./lookups.js";
import { migrate } from "./migrate.js";
import { nonTerminalSyncs, queueCounts } from "./queue.js";
import type { QueueCounts } from "./queue.js";
import { keepEverything, sweepRetention } from "./retention.js";
import type { RetentionSettings, SweepResult } from "./retention.js";
import type { DeploymentView, SyncRecord, SyncView } from "./rows.js";
import { recordBuildSubmitted, recordRioSequence, recordSubmitAttempt, recordSyncProgress, syncOfBuild } from "./build-progress.js";
import type { SyncProgress } from "./build-progress.js";
import { submitSync, submitSyncs } from "./submit-sync.js";
import type { SubmitManyItem, SubmitSyncInput, SubmitSyncResult } from "./submit-sync.js";
import { claimRunnable, finishSync, recordOf, transitionSync } from "./sync-lifecycle.js";
import type { ClaimResult, FinishSyncInput, FinishSyncResult, TransitionResult } from "./sync-lifecycle.js";
import type { PendingEvent } from "../core/index.js";
import { getDeployment, getSync, listDeployments } from "./views.js";
import { getSyncById, syncHistory } from "./sync-history.js";
import type { SyncHistoryInput } from "./sync-history.js";
import { createWebhook, deleteWebhook, listDeliveries, listWebhooks } from "./webhooks.js";
import type { NewWebhook } from "./webhooks.js";
import { claimDeliveries, nextDeliveryDueAt, recordDeliveryOutcomes } from "./webhook-queue.js";
import type { DeliveryOutcome, DueDelivery } from "./webhook-queue.js";
import type { DeploymentList, ListDeploymentsInput } from "./views.js";

export interface StoreOptions {
  /** Database file; created with its directory's permissions. `:memory:` for throwaway use. */
  readonly path: string;
  readonly limits?: Partial<Limits>;
  /** Default retention for `sweepRetention()` without arguments (default: keep everything). */
  readonly retention?: RetentionSettings;
  /** For tests: the time source (default: the system clock). */
  readonly clock?: () => Date;
  /** Where an exception thrown by a commit listener goes (default: process warning). */
  readonly onListenerError?: (err: unknown) => void;
}

export interface Store {
  readonly path: string;
  readonly limits: Limits;
  readonly schemaVersion: number;

  /** Submit rules (replace/enqueue/request_id/limits) in one transaction. Events: see core/submit.ts. */
  submitSync(input: SubmitSyncInput): SubmitSyncResult;
  /** Several submits in one commit, each in its own savepoint: per item a result or its AppError. */
  submitSyncs(inputs: readonly SubmitSyncInput[]): SubmitManyItem[];
  /** Claims up to `limit` runnable syncs (one per deployment). Events: sync.state, deployment.state. */
  claimRunnable(limit: number): ClaimResult;
  /** A running sync moves on (guarded by `from`). Events: options.events…, sync.state. */
  transitionSync(syncId: string, from: SyncState, to: SyncState, options?: { events?: readonly PendingEvent[] }): TransitionResult;
  /** Ends a sync: succeeded / failed / timed_out. Events: input.events…, sync.state, sync.finished, deployment.state. */
  finishSync(syncId: string, input: FinishSyncInput): FinishSyncResult;
  /** Cancel rules. Events per cancelled sync: sync.state, sync.finished (+ deployment.state). */
  cancelSyncs(input: CancelSyncsInput): CancelSyncsResult;
  /** Records the rio build id of a building sync. Event: build.submitted. */
  recordBuildSubmitted(syncId: string, buildId: string): StoredEvent[];
  /** Marks that the build is about to be handed to rio; conflict unless building without a build id. */
  recordSubmitAttempt(syncId: string): void;
  /** The sync that recorded this rio build id, if any. */
  syncOfBuild(buildId: string): string | null;
  /** Remembers the last rio event sequence applied. No event. */
  recordRioSequence(syncId: string, sequence: number): void;
  /** Counters, rio sequence and derived events of an in-flight sync, in one transaction. */
  recordSyncProgress(syncId: string, progress: SyncProgress): StoredEvent[];
  /** Appends numbered log lines (published via onCommit `logs`). No event. */
  appendLogLines(syncId: string, lines: readonly NewLogLine[]): AppendLogResult;

  /** `build.logs`: lines of a sync of this tenant's deployment (not_found otherwise). */
  logLines(tenant: string, deployment: string, syncId: string, options?: { sinceLine?: number; limit?: number; derivation?: string }): LogPage;
  eventsSince(tenant: string, deployment: string, since: number, limit: number): EventPage;
  getDeployment(tenant: string, deployment: string): DeploymentView;
  getSync(tenant: string, deployment: string, syncId: string): SyncView;
  /** The runner's full record of a sync (configuration included); not_found when unknown. */
  getSyncRecord(syncId: string): SyncRecord;
  listDeployments(input?: ListDeploymentsInput): DeploymentList;
  /** `sync.get`: any sync of this tenant by id, terminal ones included; not_found otherwise. */
  getSyncById(tenant: string, syncId: string): SyncView;
  /** `deployment.history`: the deployment's syncs newest first, in cursor pages. */
  syncHistory(input: SyncHistoryInput): HistoryResult;
  getGeneration(tenant: string, deployment: string, number: number): Generation;
  listGenerations(tenant: string, deployment: string): Generation[];
  queueCounts(): QueueCounts;
  nonTerminalSyncs(options?: { inFlightOnly?: boolean }): SyncRecord[];

  /** `webhook.create`: resource_exhausted beyond `limits.maxWebhooksPerTenant`. */
  createWebhook(input: NewWebhook): WebhookView;
  listWebhooks(tenant: string): WebhookView[];
  /** Removes the webhook and its deliveries; not_found for an unknown or another tenant's webhook. */
  deleteWebhook(tenant: string, webhookId: string): void;
  listDeliveries(tenant: string, webhookId: string, options?: { limit?: number; cursor?: string }): DeliveriesResult;
  /** The delivery loop's queue (src/webhooks/delivery-worker.ts). */
  claimDeliveries(input: { readonly now: Date; readonly limit: number; readonly leaseUntil: Date }): DueDelivery[];
  recordDeliveryOutcomes(outcomes: readonly DeliveryOutcome[]): void;
  nextDeliveryDueAt(): Date | null;

  /** Deletes what is older than the retention settings (default: the store's). */
  sweepRetention(settings?: RetentionSettings): SweepResult;
  /** Called after each commit that stored events or log lines; returns an unsubscribe function. */
  onCommit(listener: CommitListener): () => void;
  close(): void;
}

export function openStore(options: StoreOptions): Store {
  const db = new Database(options.path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  // Checkpoint less often than the default 1,000 pages: hot pages (deployments, index tails) are
  // then written back once per ~40 MB of WAL instead of every ~4 MB.
  db.pragma("wal_autocheckpoint = 10000");
  const schemaVersion = migrate(db);
  const limits: Limits = Object.freeze({ ...defaultLimits, ...options.limits });
  const ctx = createContext({
    db,
    limits,
    clock: options.clock ?? (() => new Date()),
    newSyncId: createSyncIdGenerator(),
    onListenerError: options.onListenerError ?? ((err) => process.emitWarning(`store commit listener failed: ${String(err)}`)),
  });
  const retention = options.retention ?? keepEverything;
  return {
    path: options.path,
    limits,
    schemaVersion,
    submitSync: (input) => submitSync(ctx, input),
    submitSyncs: (inputs) => submitSyncs(ctx, inputs),
    claimRunnable: (limit) => claimRunnable(ctx, limit),
    transitionSync: (syncId, from, to, opts) => transitionSync(ctx, syncId, from, to, opts),
    finishSync: (syncId, input) => finishSync(ctx, syncId, input),
    cancelSyncs: (input) => cancelSyncs(ctx, input),
    recordBuildSubmitted: (syncId, buildId) => recordBuildSubmitted(ctx, syncId, buildId),
    recordSubmitAttempt: (syncId) => recordSubmitAttempt(ctx, syncId),
    syncOfBuild: (buildId) => syncOfBuild(ctx, buildId),
    recordRioSequence: (syncId, sequence) => recordRioSequence(ctx, syncId, sequence),
    recordSyncProgress: (syncId, progress) => recordSyncProgress(ctx, syncId, progress),
    appendLogLines: (syncId, lines) => appendLogLines(ctx, syncId, lines),
    logLines: (tenant, deployment, syncId, opts) => logLines(ctx, tenant, deployment, syncId, opts),
    eventsSince: (tenant, deployment, since, limit) => eventsSince(ctx, tenant, deployment, since, limit),
    getDeployment: (tenant, deployment) => getDeployment(ctx, tenant, deployment),
    getSync: (tenant, deployment, syncId) => getSync(ctx, tenant, deployment, syncId),
    getSyncRecord: (syncId) => recordOf(ctx, requireSync(ctx, syncId)),
    listDeployments: (input) => listDeployments(ctx, input),
    getSyncById: (tenant, syncId) => getSyncById(ctx, tenant, syncId),
    syncHistory: (input) => syncHistory(ctx, input),
    createWebhook: (input) => createWebhook(ctx, input),
    listWebhooks: (tenant) => listWebhooks(ctx, tenant),
    deleteWebhook: (tenant, webhookId) => deleteWebhook(ctx, tenant, webhookId),
    listDeliveries: (tenant, webhookId, opts) => listDeliveries(ctx, tenant, webhookId, opts),
    claimDeliveries: (input) => claimDeliveries(ctx, input),
    recordDeliveryOutcomes: (outcomes) => recordDeliveryOutcomes(ctx, outcomes),
    nextDeliveryDueAt: () => nextDeliveryDueAt(ctx),
    getGeneration: (tenant, deployment, number) => getGeneration(ctx, tenant, deployment, number),
    listGenerations: (tenant, deployment) => listGenerations(ctx, tenant, deployment),
    queueCounts: () => queueCounts(ctx),
    nonTerminalSyncs: (opts) => nonTerminalSyncs(ctx, opts),
    sweepRetention: (settings) => sweepRetention(ctx, settings ?? retention),
    onCommit: (listener) => ctx.onCommit(listener),
    close: () => db.close(),
  };
}
