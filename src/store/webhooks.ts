/**
 * Webhooks of a tenant and their deliveries as `webhook.create/list/delete/deliveries` show them.
 * Every operation is scoped by tenant: another tenant's webhook is `not_found`, exactly like an
 * unknown id. The sealed secret never leaves the store through these views.
 */
import type { DeliveriesResult, DeliveryView, EventType, WebhookView } from "../core/index.js";
import { AppError } from "../errors.js";
import type { StoreContext } from "./context.js";

export interface NewWebhook {
  readonly tenant: string;
  readonly url: string;
  readonly events: readonly EventType[];
  readonly deployment: string | null;
  readonly description: string | null;
  /** Seals the secret for the id the store gives the webhook (the id is bound into the seal). */
  readonly sealSecret: (webhookId: string) => string;
}

interface WebhookRow {
  n: number;
  id: string;
  tenant: string;
  url: string;
  events: string;
  deployment: string | null;
  description: string | null;
  created_at: string;
  last_delivery_at: string | null;
  failing_since: string | null;
}

const WEBHOOK_COLUMNS = "n, id, tenant, url, events, deployment, description, created_at, last_delivery_at, failing_since";

function viewOf(row: WebhookRow): WebhookView {
  return {
    webhook: row.id,
    tenant: row.tenant,
    url: row.url,
    events: JSON.parse(row.events) as EventType[],
    deployment: row.deployment,
    description: row.description,
    created_at: row.created_at,
    last_delivery_at: row.last_delivery_at,
    failing_since: row.failing_since,
  };
}

function requireWebhook(ctx: StoreContext, tenant: string, id: string): WebhookRow {
  const row = ctx.stmt(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?`).get(id) as WebhookRow | undefined;
  if (!row || row.tenant !== tenant) throw new AppError("not_found", `no webhook ${id}`);
  return row;
}

export function createWebhook(ctx: StoreContext, input: NewWebhook): WebhookView {
  return ctx.write(() => {
    const { c } = ctx.stmt("SELECT count(*) AS c FROM webhooks WHERE tenant = ?").get(input.tenant) as { c: number };
    const max = ctx.limits.maxWebhooksPerTenant;
    if (c >= max) throw new AppError("resource_exhausted", `tenant ${input.tenant} has ${c} webhooks, the most allowed (${max})`);
    const id = ctx.newSyncId();
    const at = ctx.now();
    ctx
      .stmt(
        `INSERT INTO webhooks (id, tenant, url, events, deployment, description, secret_sealed, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, input.tenant, input.url, JSON.stringify(input.events), input.deployment, input.description, input.sealSecret(id), at);
    return viewOf(requireWebhook(ctx, input.tenant, id));
  });
}

/** The tenant's webhooks, oldest first. */
export function listWebhooks(ctx: StoreContext, tenant: string): WebhookView[] {
  return (ctx.stmt(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE tenant = ? ORDER BY n`).all(tenant) as WebhookRow[]).map(viewOf);
}

/** Deletes the webhook and its deliveries (pending ones are dropped; an attempt in flight then records nothing). */
export function deleteWebhook(ctx: StoreContext, tenant: string, id: string): void {
  ctx.write(() => {
    const row = requireWebhook(ctx, tenant, id);
    ctx.stmt("DELETE FROM webhook_deliveries WHERE webhook_n = ?").run(row.n);
    ctx.stmt("DELETE FROM webhooks WHERE n = ?").run(row.n);
  });
}

export function listDeliveries(ctx: StoreContext, tenant: string, id: string, options: { limit?: number; cursor?: string } = {}): DeliveriesResult {
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new AppError("invalid_argument", "limit must be 1..500", [{ path: "limit", message: "out of range" }]);
  }
  const before = options.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeDeliveryCursor(options.cursor);
  const webhook = requireWebhook(ctx, tenant, id);
  const rows = ctx
    .stmt(
      `SELECT w.n, w.id AS delivery, w.event_seq, d.name AS deployment, w.type, w.attempts, w.state, w.last_status, w.last_error, w.next_attempt_at
       FROM webhook_deliveries w JOIN deployments d ON d.id = w.deployment_id
       WHERE w.webhook_n = ? AND w.n < ? ORDER BY w.n DESC LIMIT ?`,
    )
    .all(webhook.n, before, limit + 1) as (DeliveryView & { n: number })[];
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    deliveries: page.map(({ n: _n, ...view }) => view),
    next_cursor: rows.length > limit && last ? Buffer.from(`d1:${last.n}`, "utf8").toString("base64url") : null,
  };
}

function decodeDeliveryCursor(cursor: string): number {
  const m = /^d1:(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw new AppError("invalid_argument", "bad cursor", [{ path: "cursor", message: "not a cursor from webhook.deliveries" }]);
  return Number(m[1]);
}
