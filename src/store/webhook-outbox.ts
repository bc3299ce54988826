/**
 * The webhook outbox: inside the transaction that stores events, one delivery row per (matching
 * webhook, event). So a stored event has its deliveries whatever crashes after the commit, and no
 * delivery exists for an event that was rolled back. The first delivery of an idle lane is due at
 * once; later ones wait behind it (next_attempt_at NULL) to keep `seq` order per lane.
 */
import type { StoredEvent } from "../core/index.js";
import type { StoreContext } from "./context.js";

interface Subscriber {
  n: number;
  events: string;
}

/** Inside a `write`, right after `events` of deployment `deploymentId` were inserted. Returns the deliveries stored. */
export function enqueueDeliveries(ctx: StoreContext, deploymentId: number, events: readonly StoredEvent[], at: string): number {
  const first = events[0];
  if (!first) return 0;
  const subscribers = ctx
    .stmt("SELECT n, events FROM webhooks WHERE tenant = ? AND (deployment IS NULL OR deployment = ?)")
    .all(first.tenant, first.deployment) as Subscriber[];
  if (subscribers.length === 0) return 0;
  let stored = 0;
  for (const w of subscribers) {
    const wanted = new Set(JSON.parse(w.events) as string[]);
    let laneBusy = ctx
      .stmt("SELECT 1 FROM webhook_deliveries WHERE webhook_n = ? AND deployment_id = ? AND state = 'pending' LIMIT 1")
      .get(w.n, deploymentId) !== undefined;
    for (const e of events) {
      if (!wanted.has(e.type)) continue;
      ctx
        .stmt(
          `INSERT INTO webhook_deliveries (id, webhook_n, deployment_id, event_seq, type, state, next_attempt_at, created_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
        )
        .run(ctx.newSyncId(), w.n, deploymentId, e.seq, e.type, laneBusy ? null : at, at);
      laneBusy = true;
      stored += 1;
    }
  }
  return stored;
}
