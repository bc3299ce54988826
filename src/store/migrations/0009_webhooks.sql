-- Webhooks of a tenant (api.md "Additions in v1.1"). `events` is a JSON array of event types;
-- `deployment` a deployment name, or NULL for every deployment of the tenant. `secret_sealed` is the
-- signing secret sealed under the operator's key file (src/webhooks/secret-box.ts): the database
-- never holds a usable secret.
CREATE TABLE webhooks (
  n                INTEGER PRIMARY KEY,
  id               TEXT    NOT NULL UNIQUE,
  tenant           TEXT    NOT NULL,
  url              TEXT    NOT NULL,
  events           TEXT    NOT NULL,
  deployment       TEXT,
  description      TEXT,
  secret_sealed    TEXT    NOT NULL,
  created_at       TEXT    NOT NULL,
  last_delivery_at TEXT,
  failing_since    TEXT
);

CREATE INDEX webhooks_by_tenant ON webhooks (tenant);

-- The outbox: one row per (webhook, stored event) that matched, inserted in the transaction that
-- stored the event. A lane is (webhook, deployment); its deliveries go in event_seq order. Only the
-- lane's head (its oldest pending delivery) has a next_attempt_at; the others wait with NULL and
-- are promoted when the head is delivered or failed. While an attempt runs, next_attempt_at is its
-- lease: when the attempt's worker dies, the delivery becomes due again then.
CREATE TABLE webhook_deliveries (
  n                INTEGER PRIMARY KEY,
  id               TEXT    NOT NULL UNIQUE,
  webhook_n        INTEGER NOT NULL REFERENCES webhooks (n) ON DELETE CASCADE,
  deployment_id    INTEGER NOT NULL REFERENCES deployments (id),
  event_seq        INTEGER NOT NULL,
  type             TEXT    NOT NULL,
  state            TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  first_attempt_at TEXT,
  next_attempt_at  TEXT,
  last_status      INTEGER,
  last_error       TEXT,
  created_at       TEXT    NOT NULL,
  finished_at      TEXT,
  UNIQUE (webhook_n, deployment_id, event_seq),
  CHECK ((finished_at IS NULL) = (state = 'pending')),
  CHECK (state = 'pending' OR next_attempt_at IS NULL)
);

-- At most one head per lane, whoever writes.
CREATE UNIQUE INDEX webhook_deliveries_one_head ON webhook_deliveries (webhook_n, deployment_id)
  WHERE state = 'pending' AND next_attempt_at IS NOT NULL;
-- The delivery loop: due heads, earliest first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
  WHERE state = 'pending' AND next_attempt_at IS NOT NULL;
-- Promoting the next delivery of a lane.
CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (webhook_n, deployment_id, event_seq)
  WHERE state = 'pending';
-- webhook.deliveries, newest first (the rowid n orders it); retention of finished deliveries.
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_n);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE finished_at IS NOT NULL;
