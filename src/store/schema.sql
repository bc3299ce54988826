-- Generated from src/store/migrations by test/store/schema.test.ts; do not edit.
CREATE TABLE deployments (
  id                INTEGER PRIMARY KEY,
  tenant            TEXT    NOT NULL,
  name              TEXT    NOT NULL,
  deployment_type   TEXT    NOT NULL,
  state             TEXT    NOT NULL CHECK (state IN ('idle', 'active', 'deploying', 'destroying')),
  live_generation   INTEGER,
  latest_generation INTEGER NOT NULL DEFAULT 0,
  seq               INTEGER NOT NULL DEFAULT 0,
  last_sync         TEXT,
  created_at        TEXT    NOT NULL,
  updated_at        TEXT    NOT NULL,
  UNIQUE (tenant, name)
);

CREATE TABLE events (
  deployment_id INTEGER NOT NULL REFERENCES deployments (id),
  seq           INTEGER NOT NULL,
  sync          TEXT,
  type          TEXT    NOT NULL,
  at            TEXT    NOT NULL,
  data          TEXT    NOT NULL,
  PRIMARY KEY (deployment_id, seq)
) WITHOUT ROWID;

CREATE TABLE generations (
  deployment_id INTEGER NOT NULL REFERENCES deployments (id),
  number        INTEGER NOT NULL,
  config_hash   TEXT    NOT NULL,
  configuration TEXT    NOT NULL,
  output_paths  TEXT    NOT NULL,
  sync          TEXT    NOT NULL,
  created_at    TEXT    NOT NULL,
  PRIMARY KEY (deployment_id, number)
) WITHOUT ROWID;

CREATE TABLE log_lines (
  sync_n     INTEGER NOT NULL REFERENCES syncs (n),
  line       INTEGER NOT NULL,
  source     TEXT    NOT NULL CHECK (source IN ('build', 'deploy')),
  derivation TEXT,
  text       TEXT    NOT NULL,
  PRIMARY KEY (sync_n, line)
) WITHOUT ROWID;

CREATE TABLE schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  );

CREATE TABLE syncs (
  n                   INTEGER PRIMARY KEY,
  id                  TEXT    NOT NULL UNIQUE,
  deployment_id       INTEGER NOT NULL REFERENCES deployments (id),
  kind                TEXT    NOT NULL CHECK (kind IN ('apply', 'teardown')),
  mode                TEXT    NOT NULL CHECK (mode IN ('replace', 'enqueue')),
  priority            TEXT    NOT NULL CHECK (priority IN ('interactive', 'scheduled', 'ci')),
  state               TEXT    NOT NULL CHECK (state IN ('queued', 'evaluating', 'building', 'deploying', 'destroying',
                                                        'succeeded', 'failed', 'cancelled', 'superseded', 'timed_out')),
  request_id          TEXT,
  deployment_type     TEXT    NOT NULL,
  config_hash         TEXT,
  configuration       TEXT,
  rollback_generation INTEGER,
  submitted_at        TEXT    NOT NULL,
  started_at          TEXT,
  finished_at         TEXT,
  error_code          TEXT CHECK (error_code IN ('eval_failed', 'build_failed', 'deploy_failed', 'teardown_failed',
                                                 'timeout', 'scheduler_lost', 'internal')),
  error_message       TEXT,
  error_derivation    TEXT,
  superseded_by       TEXT,
  cancel_reason       TEXT,
  generation          INTEGER, build_id TEXT, rio_sequence INTEGER NOT NULL DEFAULT 0, build_total INTEGER NOT NULL DEFAULT 0, build_completed INTEGER NOT NULL DEFAULT 0, build_cached INTEGER NOT NULL DEFAULT 0, build_running INTEGER NOT NULL DEFAULT 0, build_failed INTEGER NOT NULL DEFAULT 0, build_queued INTEGER NOT NULL DEFAULT 0, build_critical_path_secs INTEGER, log_next_line INTEGER NOT NULL DEFAULT 0, log_first_line INTEGER NOT NULL DEFAULT 0, submit_attempted INTEGER NOT NULL DEFAULT 0 CHECK (submit_attempted IN (0, 1)),
  CHECK (kind = 'teardown' OR configuration IS NOT NULL),
  CHECK ((finished_at IS NULL) = (state IN ('queued', 'evaluating', 'building', 'deploying', 'destroying')))
);

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

CREATE INDEX deployments_by_state ON deployments (state, tenant, name);

CREATE INDEX log_lines_by_derivation ON log_lines (sync_n, derivation, line) WHERE derivation IS NOT NULL;

CREATE INDEX syncs_by_build_id ON syncs (build_id) WHERE build_id IS NOT NULL;

CREATE UNIQUE INDEX syncs_by_request_id ON syncs (deployment_id, request_id) WHERE request_id IS NOT NULL;

CREATE INDEX syncs_finished ON syncs (finished_at) WHERE finished_at IS NOT NULL;

CREATE INDEX syncs_history ON syncs (deployment_id);

CREATE INDEX syncs_history_by_kind ON syncs (deployment_id, kind);

CREATE INDEX syncs_history_by_state ON syncs (deployment_id, state);

CREATE UNIQUE INDEX syncs_one_in_flight ON syncs (deployment_id)
  WHERE state IN ('evaluating', 'building', 'deploying', 'destroying');

CREATE INDEX syncs_queued ON syncs (deployment_id, n) WHERE state = 'queued';

CREATE INDEX syncs_unfinished ON syncs (deployment_id, n)
  WHERE state IN ('queued', 'evaluating', 'building', 'deploying', 'destroying');

CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_n);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
  WHERE state = 'pending' AND next_attempt_at IS NOT NULL;

CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE finished_at IS NOT NULL;

CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (webhook_n, deployment_id, event_seq)
  WHERE state = 'pending';

CREATE UNIQUE INDEX webhook_deliveries_one_head ON webhook_deliveries (webhook_n, deployment_id)
  WHERE state = 'pending' AND next_attempt_at IS NOT NULL;

CREATE INDEX webhooks_by_tenant ON webhooks (tenant);
