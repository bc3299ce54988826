-- sync.get reads by id (syncs.id is UNIQUE). deployment.history pages a deployment's syncs newest
-- first, optionally by state or kind: each index below ends, implicitly, in the rowid `n`, so a page
-- is one backwards range scan of one index, whatever the number of stored syncs.
CREATE INDEX syncs_history ON syncs (deployment_id);
CREATE INDEX syncs_history_by_state ON syncs (deployment_id, state);
CREATE INDEX syncs_history_by_kind ON syncs (deployment_id, kind);
