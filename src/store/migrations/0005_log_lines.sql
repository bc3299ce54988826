-- Build and deploy output per sync: `line` is 0-based and gapless per sync. syncs.log_next_line is
-- the next number to hand out; syncs.log_first_line the lowest number still stored (older lines
-- were trimmed by the per-sync cap or by a retention sweep).
ALTER TABLE syncs ADD COLUMN log_next_line INTEGER NOT NULL DEFAULT 0;
ALTER TABLE syncs ADD COLUMN log_first_line INTEGER NOT NULL DEFAULT 0;

CREATE TABLE log_lines (
  sync_n     INTEGER NOT NULL REFERENCES syncs (n),
  line       INTEGER NOT NULL,
  source     TEXT    NOT NULL CHECK (source IN ('build', 'deploy')),
  derivation TEXT,
  text       TEXT    NOT NULL,
  PRIMARY KEY (sync_n, line)
) WITHOUT ROWID;

CREATE INDEX log_lines_by_derivation ON log_lines (sync_n, derivation, line) WHERE derivation IS NOT NULL;
