-- Schema version 1: the first local store. Frozen: never edit; add a new migration.

CREATE TABLE family_case (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	reference VARCHAR(40) NOT NULL, 
	family_name VARCHAR(200) NOT NULL, 
	lead_worker VARCHAR(120) NOT NULL, 
	team VARCHAR(120) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	opened_on DATE, 
	closed_on DATE, 
	PRIMARY KEY (id), 
	UNIQUE (reference)
);

CREATE TABLE outbox (
	change_id VARCHAR(36) NOT NULL, 
	device_seq INTEGER NOT NULL, 
	entity VARCHAR(40) NOT NULL, 
	record_id VARCHAR(36) NOT NULL, 
	op VARCHAR(16) NOT NULL, 
	base_rev INTEGER, 
	base_change_id VARCHAR(36), 
	fields TEXT NOT NULL, 
	payload_sha256 VARCHAR(64) NOT NULL, 
	client_time VARCHAR(32) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	last_error TEXT NOT NULL, 
	result TEXT NOT NULL, 
	PRIMARY KEY (change_id), 
	UNIQUE (device_seq)
);

CREATE INDEX ix_outbox_record_state ON outbox (record_id, state);

CREATE INDEX ix_outbox_state ON outbox (state);

CREATE TABLE sync_meta (
	id INTEGER NOT NULL, 
	device_id VARCHAR(36) NOT NULL, 
	next_device_seq INTEGER NOT NULL, 
	server_url VARCHAR(400) NOT NULL, 
	server_epoch VARCHAR(64) NOT NULL, 
	cursor TEXT NOT NULL, 
	clock_offset_s FLOAT NOT NULL, 
	last_success_at VARCHAR(32), 
	PRIMARY KEY (id)
);

CREATE TABLE assessment (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	case_id VARCHAR NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	zero_wording TEXT NOT NULL, 
	ten_wording TEXT NOT NULL, 
	signed_off_by VARCHAR(120) NOT NULL, 
	signed_off_at VARCHAR(32), 
	reopened_by VARCHAR(120) NOT NULL, 
	reopened_at VARCHAR(32), 
	reopen_reason TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(case_id) REFERENCES family_case (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_assessment_case_id ON assessment (case_id);

CREATE TABLE child_voice (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	case_id VARCHAR NOT NULL, 
	child_id VARCHAR(36) NOT NULL, 
	tool VARCHAR(32) NOT NULL, 
	part VARCHAR(40) NOT NULL, 
	text TEXT NOT NULL, 
	written_by VARCHAR(200) NOT NULL, 
	recorded_on DATE, 
	consent_to_share BOOLEAN NOT NULL, 
	consent_note TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(case_id) REFERENCES family_case (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_child_voice_case_id ON child_voice (case_id);

CREATE TABLE conference (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	case_id VARCHAR NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	model VARCHAR(32) NOT NULL, 
	starts_at VARCHAR(32) NOT NULL, 
	chair VARCHAR(120) NOT NULL, 
	location VARCHAR(200) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	strategy_discussion_on DATE, 
	gp_invited VARCHAR(32), 
	gp_outcome VARCHAR(32), 
	family_preparation_on DATE, 
	family_preparation_note TEXT NOT NULL, 
	private_family_time BOOLEAN, 
	PRIMARY KEY (id), 
	FOREIGN KEY(case_id) REFERENCES family_case (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_conference_case_id ON conference (case_id);

CREATE TABLE person (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	case_id VARCHAR NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	relationship VARCHAR(120) NOT NULL, 
	date_of_birth DATE, 
	expected_on DATE, 
	parental_responsibility BOOLEAN NOT NULL, 
	plan_category_initial VARCHAR(32), 
	plan_category_latest VARCHAR(32), 
	plan_start DATE, 
	plan_end DATE, 
	role VARCHAR(120) NOT NULL, 
	agency VARCHAR(200) NOT NULL, 
	is_gp BOOLEAN NOT NULL, 
	gp_practice VARCHAR(200) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(case_id) REFERENCES family_case (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_person_case_id ON person (case_id);

CREATE TABLE attendee (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	conference_id VARCHAR NOT NULL, 
	person_id VARCHAR(36), 
	name VARCHAR(200) NOT NULL, 
	role VARCHAR(120) NOT NULL, 
	agency VARCHAR(200) NOT NULL, 
	invited BOOLEAN NOT NULL, 
	attendance VARCHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(conference_id) REFERENCES conference (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_attendee_conference_id ON attendee (conference_id);

CREATE TABLE child_outcome (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	conference_id VARCHAR NOT NULL, 
	child_id VARCHAR(36) NOT NULL, 
	"plan" BOOLEAN NOT NULL, 
	category VARCHAR(32), 
	lead_worker VARCHAR(120) NOT NULL, 
	core_group_on DATE, 
	contingency TEXT NOT NULL, 
	next_review_on DATE, 
	dissent TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(conference_id) REFERENCES conference (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_child_outcome_conference_id ON child_outcome (conference_id);

CREATE TABLE entry (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	assessment_id VARCHAR NOT NULL, 
	section VARCHAR(32) NOT NULL, 
	text TEXT NOT NULL, 
	source VARCHAR(200) NOT NULL, 
	agreement VARCHAR(32) NOT NULL, 
	disputed_by VARCHAR(200) NOT NULL, 
	position VARCHAR(64) NOT NULL, 
	goal_for_id VARCHAR(36), 
	PRIMARY KEY (id), 
	FOREIGN KEY(assessment_id) REFERENCES assessment (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_entry_assessment_id ON entry (assessment_id);

CREATE INDEX ix_entry_goal_for_id ON entry (goal_for_id);

CREATE TABLE family_plan_item (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	conference_id VARCHAR NOT NULL, 
	task TEXT NOT NULL, 
	who VARCHAR(200) NOT NULL, 
	by_when DATE, 
	who_checks VARCHAR(200) NOT NULL, 
	position VARCHAR(64) NOT NULL, 
	done BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(conference_id) REFERENCES conference (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_family_plan_item_conference_id ON family_plan_item (conference_id);

CREATE TABLE report (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	conference_id VARCHAR NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	author_name VARCHAR(200) NOT NULL, 
	agency VARCHAR(200) NOT NULL, 
	completed_at VARCHAR(32), 
	sent_to_qau_at VARCHAR(32), 
	qau_reason VARCHAR(32), 
	qau_reason_note TEXT NOT NULL, 
	redactions TEXT NOT NULL, 
	redaction_reason TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(conference_id) REFERENCES conference (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_report_conference_id ON report (conference_id);

CREATE TABLE score (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	assessment_id VARCHAR NOT NULL, 
	danger_statement_id VARCHAR(36), 
	scorer_name VARCHAR(200) NOT NULL, 
	scorer_role VARCHAR(120) NOT NULL, 
	value INTEGER NOT NULL, 
	rationale TEXT NOT NULL, 
	zero_wording TEXT NOT NULL, 
	ten_wording TEXT NOT NULL, 
	scored_on DATE, 
	PRIMARY KEY (id), 
	FOREIGN KEY(assessment_id) REFERENCES assessment (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_score_assessment_id ON score (assessment_id);

CREATE TABLE report_share (
	id VARCHAR(36) NOT NULL, 
	server_rev INTEGER, 
	sync_state VARCHAR(32) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	created_at VARCHAR(32) NOT NULL, 
	updated_at VARCHAR(32) NOT NULL, 
	author VARCHAR(120) NOT NULL, 
	report_id VARCHAR NOT NULL, 
	parent_id VARCHAR(36) NOT NULL, 
	shared_at VARCHAR(32) NOT NULL, 
	method VARCHAR(32) NOT NULL, 
	gone_through_together BOOLEAN NOT NULL, 
	translated BOOLEAN NOT NULL, 
	language VARCHAR(80) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(report_id) REFERENCES report (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX ix_report_share_report_id ON report_share (report_id);
