/** Shapes of the WAMP API contract (docs/api.md v1.1) as the console reads them. */

export type Role = "tenant" | "panel" | "operator";

export interface Principal {
  readonly authid: string;
  readonly role: Role;
  /** The session's own tenant (role tenant only). */
  readonly tenant: string | null;
}

export interface BuildCounters {
  build_id?: string;
  total: number;
  completed: number;
  cached: number;
  running: number;
  failed: number;
  queued: number;
  critical_path_remaining_secs: number | null;
}

export interface SyncError {
  code: string;
  message: string;
  derivation: string | null;
}

export interface SyncView {
  sync: string;
  deployment: string;
  tenant: string;
  kind: "apply" | "teardown";
  state: string;
  mode: string;
  priority: string;
  position: number | null;
  submitted_at: string;
  started_at: string | null;
  finished_at: string | null;
  config_hash: string | null;
  build: BuildCounters | null;
  error: SyncError | null;
  superseded_by: string | null;
}

export interface DeploymentView {
  deployment: string;
  tenant: string;
  deployment_type: string;
  state: string;
  generation: number | null;
  seq: number;
  current: SyncView | null;
  queue?: SyncView[];
  last: SyncView | null;
  created_at: string;
  updated_at: string;
}

export interface ApiEvent {
  seq: number;
  tenant: string;
  deployment: string;
  sync: string | null;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export interface LogLine {
  line: number;
  source: "build" | "deploy";
  derivation: string | null;
  text: string;
}

export interface LogsResult {
  lines: LogLine[];
  next_line: number;
  complete: boolean;
}

export interface GraphNode {
  drv: string;
  pname: string;
  system: string;
  status: string;
  executor: string | null;
}

export interface GraphResult {
  nodes: GraphNode[];
  edges: [string, string][];
  truncated: boolean;
}

export interface PlanResult {
  derivations: number;
  to_build: number;
  cached: number;
  nodes: { drv: string; pname: string; cached: boolean }[];
}

export interface SubmitResult {
  sync: SyncView;
  superseded: string[];
}

export interface CancelResult {
  cancelled: string[];
  refused: { sync: string; reason: string }[];
}

export interface SchemaResult {
  deployment_types: Record<string, { description: string; schema: JsonSchema }>;
}

export interface QueueStatus {
  syncs: { queued: number; evaluating: number; building: number; deploying: number };
  scheduler: Record<string, unknown>;
}

export interface HistoryResult {
  syncs: SyncView[];
  next_cursor: string | null;
}

/** The subset of JSON Schema the form generator understands; the rest goes to the JSON editor. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  uniqueItems?: boolean;
  maxItems?: number;
  default?: unknown;
  examples?: unknown[];
}

export const terminalSyncStates: readonly string[] = ["succeeded", "failed", "cancelled", "superseded", "timed_out"];

export function isTerminal(state: string): boolean {
  return terminalSyncStates.includes(state);
}
