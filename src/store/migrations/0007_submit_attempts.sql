-- Set just before a sync's build is handed to rio. A sync found building after a crash with this
-- set but no build id may have a build rio accepted whose id never reached us: recovery looks for
-- it (and adopts it) before submitting again.
ALTER TABLE syncs ADD COLUMN submit_attempted INTEGER NOT NULL DEFAULT 0 CHECK (submit_attempted IN (0, 1));
CREATE INDEX syncs_by_build_id ON syncs (build_id) WHERE build_id IS NOT NULL;
