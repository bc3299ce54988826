/**
 * Rows as read from SQLite and their mapping to the docs/api.md views and to the runner's SyncRecord.
 */
import type { DeploymentFacts, DeploymentState, PriorityClass, SubmitMode, SyncError, SyncErrorCode, SyncFlow, SyncKind, SyncState } from "../core/index.js";
import { isTerminalSyncState, syncFlowOf } from "../core/index.js";
import type { SyncFacts } from "../core/index.js";

export interface DeploymentRow {
  id: number;
  tenant: string;
  name: string;
  deployment_type: string;
  state: DeploymentState;
  live_generation: number | null;
  latest_generation: number;
  seq: number;
  last_sync: string | null;
  created_at: string;
  updated_at: string;
}

export const DEPLOYMENT_COLUMNS =
  "id, tenant, name, deployment_type, state, live_generation, latest_generation, seq, last_sync, created_at, updated_at";

/** A sync row without its configuration (which can be large): what views and rules need. */
export interface SyncRow {
  n: number;
  id: string;
  deployment_id: number;
  tenant: string;
  deployment: string;
  kind: SyncKind;
  mode: SubmitMode;
  priority: PriorityClass;
  state: SyncState;
  request_id: string | null;
  deployment_type: string;
  config_hash: string | null;
  rollback_generation: number | null;
  submitted_at: string;
  started_at: string | null;
  finished_at: string | null;
  error_code: SyncErrorCode | null;
  error_message: string | null;
  error_derivation: string | null;
  superseded_by: string | null;
  cancel_reason: string | null;
  generation: number | null;
  build_id: string | null;
  submit_attempted: number;
  rio_sequence: number;
  build_total: number;
  build_completed: number;
  build_cached: number;
  build_running: number;
  build_failed: number;
  build_queued: number;
  build_critical_path_secs: number | null;
  log_next_line: number;
  log_first_line: number;
}

/** Select list for SyncRow; use with `FROM syncs s JOIN deployments d ON d.id = s.deployment_id`. */
export const SYNC_COLUMNS = `s.n, s.id, s.deployment_id, d.tenant, d.name AS deployment, s.kind, s.mode, s.priority, s.state,
  s.request_id, s.deployment_type, s.config_hash, s.rollback_generation, s.submitted_at, s.started_at, s.finished_at,
  s.error_code, s.error_message, s.error_derivation, s.superseded_by, s.cancel_reason, s.generation, s.build_id,
  s.submit_attempted, s.rio_sequence, s.build_total, s.build_completed, s.build_cached, s.build_running, s.build_failed, s.build_queued,
  s.build_critical_path_secs, s.log_next_line, s.log_first_line`;
export const SYNC_FROM = "FROM syncs s JOIN deployments d ON d.id = s.deployment_id";

export const UNFINISHED = "('queued', 'evaluating', 'building', 'deploying', 'destroying')";
export const IN_FLIGHT = "('evaluating', 'building', 'deploying', 'destroying')";

export type { BuildView, DeploymentView, SyncView } from "../core/views.js";
import type { SyncView } from "../core/views.js";

/** Everything the runner needs to run (or resume) a sync. */
export interface SyncRecord {
  readonly id: string;
  readonly tenant: string;
  readonly deployment: string;
  readonly deploymentType: string;
  readonly kind: SyncKind;
  readonly flow: SyncFlow;
  readonly mode: SubmitMode;
  readonly priority: PriorityClass;
  readonly state: SyncState;
  readonly requestId: string | null;
  readonly configHash: string | null;
  /** The configuration object (for a rollback: the stored generation's); null for a teardown. */
  readonly configuration: unknown;
  /** The generation a rollback re-applies, else null. */
  readonly rollbackGeneration: number | null;
  readonly buildId: string | null;
  /** The build was handed to rio at least once (its id may not have reached us). */
  readonly submitAttempted: boolean;
  /** The last rio event sequence recorded for this sync's build (0 = none). */
  readonly rioSequence: number;
  readonly submittedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: SyncError | null;
  readonly supersededBy: string | null;
  /** The generation this sync produced when it succeeded as an apply. */
  readonly generation: number | null;
  /** The next log line number this sync will hand out. */
  readonly logNextLine: number;
}

export function syncError(row: SyncRow): SyncError | null {
  return row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? "", derivation: row.error_derivation };
}

export function syncViewOf(row: SyncRow, position: number | null): SyncView {
  return {
    sync: row.id,
    deployment: row.deployment,
    tenant: row.tenant,
    kind: row.kind,
    state: row.state,
    mode: row.mode,
    priority: row.priority,
    position: isTerminalSyncState(row.state) ? null : position,
    submitted_at: row.submitted_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
    config_hash: row.config_hash,
    build:
      row.build_id === null
        ? null
        : {
            build_id: row.build_id,
            total: row.build_total,
            completed: row.build_completed,
            cached: row.build_cached,
            running: row.build_running,
            failed: row.build_failed,
            queued: row.build_queued,
            critical_path_remaining_secs: row.build_critical_path_secs,
          },
    error: syncError(row),
    superseded_by: row.superseded_by,
  };
}

export function syncRecordOf(row: SyncRow, configuration: string | null): SyncRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    deployment: row.deployment,
    deploymentType: row.deployment_type,
    kind: row.kind,
    flow: syncFlowOf(row.kind, row.rollback_generation),
    mode: row.mode,
    priority: row.priority,
    state: row.state,
    requestId: row.request_id,
    configHash: row.config_hash,
    configuration: configuration === null ? null : (JSON.parse(configuration) as unknown),
    rollbackGeneration: row.rollback_generation,
    buildId: row.build_id,
    submitAttempted: row.submit_attempted === 1,
    rioSequence: row.rio_sequence,
    submittedAt: row.submitted_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: syncError(row),
    supersededBy: row.superseded_by,
    generation: row.generation,
    logNextLine: row.log_next_line,
  };
}

export function syncFactsOf(row: Pick<SyncRow, "id" | "kind" | "state" | "rollback_generation">): SyncFacts {
  return { id: row.id, kind: row.kind, flow: syncFlowOf(row.kind, row.rollback_generation), state: row.state };
}

export function deploymentFactsOf(row: DeploymentRow): DeploymentFacts {
  return { state: row.state, liveGeneration: row.live_generation, latestGeneration: row.latest_generation };
}
