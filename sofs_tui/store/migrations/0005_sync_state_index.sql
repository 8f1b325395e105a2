-- Schema version 5: an index on every synced table's sync_state. The sync status bar counts
-- held records after each save; without it that was a scan of every table (0.5 s at 10,000
-- cases).

CREATE INDEX ix_family_case_sync_state ON family_case (sync_state);

CREATE INDEX ix_person_sync_state ON person (sync_state);

CREATE INDEX ix_assessment_sync_state ON assessment (sync_state);

CREATE INDEX ix_entry_sync_state ON entry (sync_state);

CREATE INDEX ix_score_sync_state ON score (sync_state);

CREATE INDEX ix_child_voice_sync_state ON child_voice (sync_state);

CREATE INDEX ix_conference_sync_state ON conference (sync_state);

CREATE INDEX ix_attendee_sync_state ON attendee (sync_state);

CREATE INDEX ix_family_plan_item_sync_state ON family_plan_item (sync_state);

CREATE INDEX ix_child_outcome_sync_state ON child_outcome (sync_state);

CREATE INDEX ix_report_sync_state ON report (sync_state);

CREATE INDEX ix_report_share_sync_state ON report_share (sync_state);
