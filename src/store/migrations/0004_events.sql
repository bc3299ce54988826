-- The per-deployment event log: seq starts at 1 and has no gaps (deployments.seq is bumped in the
-- same transaction that inserts the events). `data` is JSON.
CREATE TABLE events (
  deployment_id INTEGER NOT NULL REFERENCES deployments (id),
  seq           INTEGER NOT NULL,
  sync          TEXT,
  type          TEXT    NOT NULL,
  at            TEXT    NOT NULL,
  data          TEXT    NOT NULL,
  PRIMARY KEY (deployment_id, seq)
) WITHOUT ROWID;
