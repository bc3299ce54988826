/** The SQLite store: see store.ts (openStore); its guarantees are in docs/architecture.md. */
export { openStore } from "./store.js";
export type { Store, StoreOptions } from "./store.js";
export type { CommitBatch, CommitListener, LogBatch, LogLine, LogSource } from "./context.js";
export type { DeploymentView, SyncRecord, SyncView, BuildView } from "./rows.js";
export type { SubmitManyItem, SubmitSyncInput, SubmitSyncResult, InterruptedSync } from "./submit-sync.js";
export type { ClaimResult, FinishSyncInput, FinishSyncResult, TransitionResult } from "./sync-lifecycle.js";
export type { CancelSyncsInput, CancelSyncsResult } from "./cancel-syncs.js";
export type { SyncProgress } from "./build-progress.js";
export type { AppendLogResult, LogPage, NewLogLine } from "./log-lines.js";
export type { EventPage } from "./event-log.js";
export type { DeploymentList, ListDeploymentsInput } from "./views.js";
export type { Generation } from "./generations.js";
export type { QueueCounts } from "./queue.js";
export type { RetentionSettings, SweepResult } from "./retention.js";
export { keepEverything } from "./retention.js";
export { loadMigrations, migrate } from "./migrate.js";
