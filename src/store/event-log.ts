/**
 * The per-deployment event log. `appendEvents` reserves `n` sequence numbers by bumping
 * `deployments.seq` and inserts the events, inside the caller's transaction, so an event exists
 * if and only if the change that caused it committed, and seq is gapless from 1. The webhook
 * deliveries of those events (webhook-outbox.ts) are stored in the same transaction.
 */
import type { EventType, PendingEvent, StoredEvent } from "../core/index.js";
import { AppError } from "../errors.js";
import type { StoreContext, WriteLog } from "./context.js";
import { rowInserter } from "../sqlite-insert.js";
import { requireDeployment } from "./lookups.js";
import { enqueueDeliveries } from "./webhook-outbox.js";

export interface EventOwner {
  readonly id: number;
  readonly tenant: string;
  readonly name: string;
}

const insertEvents = rowInserter("events", ["deployment_id", "seq", "sync", "type", "at", "data"]);

/** Inside a `write`: stores `pending` for one deployment, in order; returns them as stored. */
export function appendEvents(ctx: StoreContext, log: WriteLog, owner: EventOwner, pending: readonly PendingEvent[], at: string): StoredEvent[] {
  if (pending.length === 0) return [];
  const bumped = ctx
    .stmt("UPDATE deployments SET seq = seq + ?, updated_at = ? WHERE id = ? RETURNING seq")
    .get(pending.length, at, owner.id) as { seq: number } | undefined;
  if (!bumped) throw new AppError("internal", `deployment ${owner.tenant}/${owner.name} vanished`);
  let seq = bumped.seq - pending.length;
  const stored: StoredEvent[] = [];
  const rows: unknown[][] = [];
  for (const e of pending) {
    seq += 1;
    rows.push([owner.id, seq, e.sync, e.type, at, JSON.stringify(e.data)]);
    stored.push({ seq, tenant: owner.tenant, deployment: owner.name, sync: e.sync, type: e.type, at, data: e.data as Record<string, unknown> });
  }
  insertEvents(ctx.db, rows);
  log.events.push(...stored);
  enqueueDeliveries(ctx, owner.id, stored, at);
  return stored;
}

export interface EventPage {
  readonly events: StoredEvent[];
  /** The seq to pass as `since` next time (the last returned, or `since` when none). */
  readonly next: number;
  /** Whether more events follow after `next` right now. */
  readonly more: boolean;
}

/**
 * Stored events after `since` (exclusive), oldest first, at most `limit` (1..1000). Events removed
 * by a retention sweep are simply absent: the first returned seq is then above `since + 1`.
 */
export function eventsSince(ctx: StoreContext, tenant: string, deployment: string, since: number, limit: number): EventPage {
  const dep = requireDeployment(ctx, tenant, deployment);
  const rows = ctx
    .stmt("SELECT seq, sync, type, at, data FROM events WHERE deployment_id = ? AND seq > ? ORDER BY seq LIMIT ?")
    .all(dep.id, since, limit + 1) as { seq: number; sync: string | null; type: EventType; at: string; data: string }[];
  const more = rows.length > limit;
  const events = rows.slice(0, limit).map(
    (r): StoredEvent => ({ seq: r.seq, tenant, deployment, sync: r.sync, type: r.type, at: r.at, data: JSON.parse(r.data) as Record<string, unknown> }),
  );
  return { events, next: events.at(-1)?.seq ?? since, more };
}

/** Event types a runner may add itself; the state events are only ever written by the store's own rules. */
export const runnerEventTypes: readonly EventType[] = ["build.started", "build.progress", "derivation", "deploy.started", "deploy.finished"];

/** Refuses runner-supplied events of another sync or of a type the store's rules own. */
export function checkRunnerEvents(syncId: string, events: readonly PendingEvent[]): void {
  for (const e of events) {
    if (e.sync !== syncId) throw new AppError("invalid_argument", `event ${e.type} names sync ${String(e.sync)}, not ${syncId}`);
    if (!runnerEventTypes.includes(e.type)) throw new AppError("invalid_argument", `event type ${e.type} is written by the store itself`);
  }
}
