-- Every successful apply (or rollback) of a deployment produces a generation: its configuration
-- and the output store paths that were activated, so a later rollback can re-apply it.
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
