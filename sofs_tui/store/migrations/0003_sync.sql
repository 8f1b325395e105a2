-- Schema version 3: the client side of sync.
-- shadow: the last version the service confirmed for each record (pull writes here, never
-- over unsent work). sync_conflict: the service's conflicts mirrored with both full versions.
-- revoked_case: cases that left this worker's scope, removed once their changes are stored.
-- outbox.resolves carries a resolution's conflict ids; outbox.done_at marks the sent log.
-- sync_meta: the sync lock (one sync at a time, across processes) and where we sign in.

CREATE TABLE shadow (
	record_id VARCHAR(36) NOT NULL, 
	entity VARCHAR(40) NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	rev INTEGER NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	data TEXT NOT NULL, 
	PRIMARY KEY (record_id)
);

CREATE INDEX ix_shadow_case_id ON shadow (case_id);

CREATE TABLE sync_conflict (
	conflict_id VARCHAR(36) NOT NULL, 
	entity VARCHAR(40) NOT NULL, 
	record_id VARCHAR(36) NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	status VARCHAR(10) NOT NULL, 
	kind VARCHAR(8) NOT NULL, 
	base_rev INTEGER, 
	current_rev INTEGER, 
	theirs_rev INTEGER, 
	theirs TEXT NOT NULL, 
	mine TEXT NOT NULL, 
	mine_is_local BOOLEAN NOT NULL, 
	incoming_change_id VARCHAR(36), 
	incoming_op VARCHAR(16) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	client_time VARCHAR(32), 
	detected_at VARCHAR(32), 
	noticed_at VARCHAR(32) NOT NULL, 
	resolution_change_id VARCHAR(36), 
	resolved_at VARCHAR(32), 
	PRIMARY KEY (conflict_id)
);

CREATE INDEX ix_sync_conflict_status ON sync_conflict (status);

CREATE INDEX ix_sync_conflict_record_id ON sync_conflict (record_id);

CREATE TABLE revoked_case (
	case_id VARCHAR(36) NOT NULL, 
	revoked_at VARCHAR(32) NOT NULL, 
	PRIMARY KEY (case_id)
);

ALTER TABLE outbox ADD COLUMN resolves TEXT NOT NULL DEFAULT '[]';
ALTER TABLE outbox ADD COLUMN done_at VARCHAR(32);

ALTER TABLE sync_meta ADD COLUMN server_username VARCHAR(120) NOT NULL DEFAULT '';
ALTER TABLE sync_meta ADD COLUMN ca_file TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_meta ADD COLUMN registered_url VARCHAR(400) NOT NULL DEFAULT '';
ALTER TABLE sync_meta ADD COLUMN sync_lock_owner VARCHAR(64) NOT NULL DEFAULT '';
ALTER TABLE sync_meta ADD COLUMN sync_lock_until VARCHAR(32);
