-- Schema version 4: conference logs imported from the QA Unit's spreadsheets.
-- They count in the statistics only: they belong to no case, hold no names, and stay on this
-- device (no sync columns, no outbox rows). One import is one transaction.

CREATE TABLE qau_log_import (
	id VARCHAR(36) NOT NULL, 
	imported_at VARCHAR(32) NOT NULL, 
	imported_by VARCHAR(120) NOT NULL, 
	source_name VARCHAR(200) NOT NULL, 
	conferences INTEGER NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE qau_log_conference (
	id VARCHAR(36) NOT NULL, 
	import_id VARCHAR NOT NULL, 
	source_id VARCHAR(100) NOT NULL, 
	starts_at VARCHAR(32) NOT NULL, 
	start_time_known BOOLEAN NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	gp_invited VARCHAR(32) NOT NULL, 
	gp_outcome VARCHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(import_id) REFERENCES qau_log_import (id) DEFERRABLE INITIALLY DEFERRED, 
	UNIQUE (source_id)
);

CREATE INDEX ix_qau_log_conference_import_id ON qau_log_conference (import_id);

CREATE INDEX ix_qau_log_conference_starts_at ON qau_log_conference (starts_at);

CREATE TABLE qau_log_report (
	id VARCHAR(36) NOT NULL, 
	conference_id VARCHAR NOT NULL, 
	agency VARCHAR(200) NOT NULL, 
	shared_at VARCHAR(32), 
	sent_to_qau_at VARCHAR(32), 
	PRIMARY KEY (id), 
	FOREIGN KEY(conference_id) REFERENCES qau_log_conference (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_qau_log_report_conference_id ON qau_log_report (conference_id);
