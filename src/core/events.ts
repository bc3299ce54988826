/**
 * Domain events (docs/api.md "Topics"). Core functions return them as `PendingEvent`s; the store gives
 * each its per-deployment `seq` and time and writes it in the same transaction as the change that
 * caused it. Field names inside `data` are the wire names (snake_case).
 */
import type { PriorityClass } from "./dag.js";
import type { DeploymentState } from "./deployment-state.js";
import type { SyncError } from "./sync-error.js";
import type { SubmitMode, SyncKind, SyncState, TerminalSyncState } from "./sync-state.js";

export interface BuildCounters {
  readonly total: number;
  readonly completed: number;
  readonly cached: number;
  readonly running: number;
  readonly failed: number;
  readonly queued: number;
  readonly critical_path_remaining_secs: number | null;
}

export type DerivationEventKind = "started" | "completed" | "cached" | "failed" | "substituting";

interface EventShapes {
  "sync.queued": {
    kind: SyncKind;
    mode: SubmitMode;
    priority: PriorityClass;
    config_hash: string | null;
    /** The generation re-applied by a rollback, else null. */
    rollback_generation: number | null;
    position: number;
  };
  "sync.state": { from: SyncState; to: SyncState };
  "sync.superseded": { by: string };
  "sync.finished": { state: TerminalSyncState; error: SyncError | null; reason?: string };
  "build.submitted": { build_id: string };
  "build.started": { total: number; cached: number };
  "build.progress": BuildCounters;
  derivation: { drv: string; pname: string; kind: DerivationEventKind; error?: string };
  "deploy.started": Record<string, unknown>;
  "deploy.finished": Record<string, unknown>;
  "deployment.state": { from: DeploymentState; to: DeploymentState; generation: number | null };
}

export type EventType = keyof EventShapes;
export const eventTypes: readonly EventType[] = [
  "sync.queued",
  "sync.state",
  "sync.superseded",
  "sync.finished",
  "build.submitted",
  "build.started",
  "build.progress",
  "derivation",
  "deploy.started",
  "deploy.finished",
  "deployment.state",
];

export type EventData<T extends EventType> = EventShapes[T];

/** An event decided but not stored yet: no seq, no time. */
export type PendingEvent = {
  [T in EventType]: { readonly type: T; readonly sync: string | null; readonly data: EventShapes[T] };
}[EventType];

/** An event as stored and published: exactly the docs/api.md event shape. */
export interface StoredEvent {
  readonly seq: number;
  readonly tenant: string;
  readonly deployment: string;
  readonly sync: string | null;
  readonly type: EventType;
  /** RFC 3339 UTC. */
  readonly at: string;
  readonly data: Record<string, unknown>;
}

export function pendingEvent<T extends EventType>(type: T, sync: string | null, data: EventShapes[T]): PendingEvent {
  return { type, sync, data } as PendingEvent;
}

export function isEventType(value: string): value is EventType {
  return (eventTypes as readonly string[]).includes(value);
}
