-- The rio build of a sync: its id, the last rio event sequence applied (to resume a stream after a
-- restart) and the counters shown in the sync view's `build`.
ALTER TABLE syncs ADD COLUMN build_id TEXT;
ALTER TABLE syncs ADD COLUMN rio_sequence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE syncs ADD COLUMN build_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE syncs ADD COLUMN build_completed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE syncs ADD COLUMN build_cached INTEGER NOT NULL DEFAULT 0;
ALTER TABLE syncs ADD COLUMN build_running INTEGER NOT NULL DEFAULT 0;
ALTER TABLE syncs ADD COLUMN build_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE syncs ADD COLUMN build_queued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE syncs ADD COLUMN build_critical_path_secs INTEGER;
