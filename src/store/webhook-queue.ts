/**
 * The delivery loop's view of the outbox (src/webhooks/delivery-worker.ts `DeliveryQueue`):
 * claim due lane heads with a lease, record attempt outcomes, say when the next head is due.
 * Every change is guarded by the delivery's state and attempt count, so a late outcome of an
 * expired lease, or of a webhook deleted meanwhile, changes nothing.
 */
import { assertNever } from "../core/index.js";
import type { StoreContext } from "./context.js";

export interface DueDelivery {
  readonly delivery: string;
  readonly webhook: string;
  readonly url: string;
  readonly sealedSecret: string;
  readonly eventType: string;
  /** The event exactly as published (same keys, same order). */
  readonly body: string;
  readonly attempt: number;
  readonly firstAttemptAt: Date;
}

export type DeliveryOutcome =
  | { readonly outcome: "delivered"; readonly delivery: string; readonly attempt: number; readonly status: number; readonly at: Date }
  | {
      readonly outcome: "retry";
      readonly delivery: string;
      readonly attempt: number;
      readonly status: number | null;
      readonly error: string;
      readonly at: Date;
      readonly nextAttemptAt: Date;
    }
  | { readonly outcome: "failed"; readonly delivery: string; readonly attempt: number; readonly status: number | null; readonly error: string; readonly at: Date };

interface HeadRow {
  n: number;
  id: string;
  webhook_n: number;
  deployment_id: number;
  event_seq: number;
  type: string;
  attempts: number;
  first_attempt_at: string | null;
  webhook: string;
  url: string;
  secret_sealed: string;
}

interface EventRow {
  seq: number;
  sync: string | null;
  type: string;
  at: string;
  data: string;
  tenant: string;
  name: string;
}

/** The event's JSON as the topic carries it; `data` is stored as JSON text already. */
function eventBody(e: EventRow): string {
  return `{"seq":${e.seq},"tenant":${JSON.stringify(e.tenant)},"deployment":${JSON.stringify(e.name)},"sync":${JSON.stringify(e.sync)},"type":${JSON.stringify(e.type)},"at":${JSON.stringify(e.at)},"data":${e.data}}`;
}

/** Makes the next pending delivery of a lane its head, due at `at`. */
function promoteNext(ctx: StoreContext, webhookN: number, deploymentId: number, at: string): void {
  ctx
    .stmt(
      `UPDATE webhook_deliveries SET next_attempt_at = ?
       WHERE n = (SELECT n FROM webhook_deliveries WHERE webhook_n = ? AND deployment_id = ? AND state = 'pending' ORDER BY event_seq LIMIT 1)
         AND next_attempt_at IS NULL`,
    )
    .run(at, webhookN, deploymentId);
}

export function claimDeliveries(ctx: StoreContext, input: { readonly now: Date; readonly limit: number; readonly leaseUntil: Date }): DueDelivery[] {
  const now = input.now.toISOString();
  const lease = input.leaseUntil.toISOString();
  // Read first, outside a write: most wake-ups find nothing due and then take no write lock.
  const heads = ctx
    .stmt(
      `SELECT d.n, d.id, d.webhook_n, d.deployment_id, d.event_seq, d.type, d.attempts, d.first_attempt_at,
              w.id AS webhook, w.url, w.secret_sealed
       FROM webhook_deliveries d JOIN webhooks w ON w.n = d.webhook_n
       WHERE d.state = 'pending' AND d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= ?
       ORDER BY d.next_attempt_at LIMIT ?`,
    )
    .all(now, input.limit) as HeadRow[];
  if (heads.length === 0) return [];
  return ctx.write(() => {
    const claimed: DueDelivery[] = [];
    for (const h of heads) {
      const event = ctx
        .stmt(
          `SELECT e.seq, e.sync, e.type, e.at, e.data, dep.tenant, dep.name
           FROM events e JOIN deployments dep ON dep.id = e.deployment_id WHERE e.deployment_id = ? AND e.seq = ?`,
        )
        .get(h.deployment_id, h.event_seq) as EventRow | undefined;
      // Guarded by what was read: another worker's claim or outcome in between changes zero rows here.
      const guard = "WHERE n = ? AND state = 'pending' AND attempts = ? AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?";
      if (!event) {
        // Swept by event retention while it waited: nothing left to send.
        const gone = ctx
          .stmt(`UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, last_error = 'the event is no longer stored', finished_at = ? ${guard}`)
          .run(now, h.n, h.attempts, now);
        if (gone.changes === 1) promoteNext(ctx, h.webhook_n, h.deployment_id, now);
        continue;
      }
      const firstAttemptAt = h.first_attempt_at ?? now;
      const taken = ctx
        .stmt(`UPDATE webhook_deliveries SET attempts = attempts + 1, first_attempt_at = ?, next_attempt_at = ? ${guard}`)
        .run(firstAttemptAt, lease, h.n, h.attempts, now);
      if (taken.changes !== 1) continue;
      claimed.push({
        delivery: h.id,
        webhook: h.webhook,
        url: h.url,
        sealedSecret: h.secret_sealed,
        eventType: h.type,
        body: eventBody(event),
        attempt: h.attempts + 1,
        firstAttemptAt: new Date(firstAttemptAt),
      });
    }
    return claimed;
  });
}

export function recordDeliveryOutcomes(ctx: StoreContext, outcomes: readonly DeliveryOutcome[]): void {
  if (outcomes.length === 0) return;
  ctx.write(() => {
    for (const o of outcomes) {
      const at = o.at.toISOString();
      const row = ctx
        .stmt("SELECT n, webhook_n, deployment_id FROM webhook_deliveries WHERE id = ? AND state = 'pending' AND attempts = ?")
        .get(o.delivery, o.attempt) as { n: number; webhook_n: number; deployment_id: number } | undefined;
      if (!row) continue; // lease expired and re-claimed, or the webhook was deleted
      switch (o.outcome) {
        case "delivered":
          ctx
            .stmt("UPDATE webhook_deliveries SET state = 'delivered', next_attempt_at = NULL, last_status = ?, last_error = NULL, finished_at = ? WHERE n = ?")
            .run(o.status, at, row.n);
          ctx.stmt("UPDATE webhooks SET last_delivery_at = ?, failing_since = NULL WHERE n = ?").run(at, row.webhook_n);
          promoteNext(ctx, row.webhook_n, row.deployment_id, at);
          break;
        case "retry":
          ctx
            .stmt("UPDATE webhook_deliveries SET next_attempt_at = ?, last_status = ?, last_error = ? WHERE n = ?")
            .run(o.nextAttemptAt.toISOString(), o.status, o.error, row.n);
          ctx.stmt("UPDATE webhooks SET failing_since = COALESCE(failing_since, ?) WHERE n = ?").run(at, row.webhook_n);
          break;
        case "failed":
          ctx
            .stmt("UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, last_status = ?, last_error = ?, finished_at = ? WHERE n = ?")
            .run(o.status, o.error, at, row.n);
          ctx.stmt("UPDATE webhooks SET failing_since = COALESCE(failing_since, ?) WHERE n = ?").run(at, row.webhook_n);
          promoteNext(ctx, row.webhook_n, row.deployment_id, at);
          break;
        default:
          assertNever(o, "delivery outcome");
      }
    }
  });
}

/** When the earliest lane head is due (a lease's end included), or null when no delivery waits. */
export function nextDeliveryDueAt(ctx: StoreContext): Date | null {
  const row = ctx
    .stmt("SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at IS NOT NULL")
    .get() as { at: string | null };
  return row.at === null ? null : new Date(row.at);
}
