-- Syncs. `n` (the rowid) is the insertion order, which orders the syncs of a deployment; `id` is the
-- external sortable id (ULID). A terminal sync is never updated again (guarded updates in store/).
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
  generation          INTEGER,
  CHECK (kind = 'teardown' OR configuration IS NOT NULL),
  CHECK ((finished_at IS NULL) = (state IN ('queued', 'evaluating', 'building', 'deploying', 'destroying')))
);

-- At most one sync in flight per deployment, whoever writes.
CREATE UNIQUE INDEX syncs_one_in_flight ON syncs (deployment_id)
  WHERE state IN ('evaluating', 'building', 'deploying', 'destroying');

-- request_id makes submit idempotent per deployment.
CREATE UNIQUE INDEX syncs_by_request_id ON syncs (deployment_id, request_id) WHERE request_id IS NOT NULL;

-- The unfinished syncs of a deployment in order (claim, positions, submit rules, recovery).
CREATE INDEX syncs_unfinished ON syncs (deployment_id, n)
  WHERE state IN ('queued', 'evaluating', 'building', 'deploying', 'destroying');
-- Claiming: the queued syncs, per deployment in order.
CREATE INDEX syncs_queued ON syncs (deployment_id, n) WHERE state = 'queued';

-- Retention sweeps.
CREATE INDEX syncs_finished ON syncs (finished_at) WHERE finished_at IS NOT NULL;
