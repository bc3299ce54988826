/**
 * The sync and deployment views of the API contract, exactly as clients receive them: snake_case
 * keys, RFC 3339 strings, null rather than missing values. The store builds them; the API returns them.
 */
import type { PriorityClass } from "./dag.js";
import type { DeploymentState } from "./deployment-state.js";
import type { BuildCounters } from "./events.js";
import type { SyncError } from "./sync-error.js";
import type { SubmitMode, SyncKind, SyncState } from "./sync-state.js";

/** The build part of the sync view (docs/api.md), null until a rio build was submitted. */
export interface BuildView extends BuildCounters {
  readonly build_id: string;
}

/** The sync view of docs/api.md, exactly. */
export interface SyncView {
  readonly sync: string;
  readonly deployment: string;
  readonly tenant: string;
  readonly kind: SyncKind;
  readonly state: SyncState;
  readonly mode: SubmitMode;
  readonly priority: PriorityClass;
  /** 0 = running now (or first in line); n = n unfinished syncs ahead; null when terminal. */
  readonly position: number | null;
  readonly submitted_at: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  /** `sha256:<hex>` of the canonical configuration JSON; null for a teardown. */
  readonly config_hash: string | null;
  readonly build: BuildView | null;
  readonly error: SyncError | null;
  readonly superseded_by: string | null;
}

/** The deployment view of docs/api.md; `queue` is omitted in `listDeployments`. */
export interface DeploymentView {
  readonly deployment: string;
  readonly tenant: string;
  readonly deployment_type: string;
  readonly state: DeploymentState;
  /** The live generation, or null when nothing is live. */
  readonly generation: number | null;
  /** The last event sequence number (0 before any event). */
  readonly seq: number;
  readonly current: SyncView | null;
  readonly queue?: SyncView[];
  readonly last: SyncView | null;
  readonly created_at: string;
  readonly updated_at: string;
}

export type LogSource = "build" | "deploy";

/** One stored log line, as `build.logs` returns it. */
export interface LogLine {
  readonly line: number;
  readonly source: LogSource;
  readonly derivation: string | null;
  readonly text: string;
}
