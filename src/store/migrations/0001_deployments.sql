-- Deployments: one row per (tenant, name). `state` is kept equal to what core/deployment-state.ts
-- derives from the in-flight sync and the live generation; `seq` is the last event sequence number.
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

CREATE INDEX deployments_by_state ON deployments (state, tenant, name);
