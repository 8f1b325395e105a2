-- Schema version 2.
-- Every entry says who may read it in exported documents. Entries written before this
-- version are 'undecided', so a parent summary cannot include them until a worker has
-- looked at each one (third-party information stays out).
ALTER TABLE entry ADD COLUMN audience VARCHAR(32) NOT NULL DEFAULT 'undecided';
-- The worker this store belongs to, recorded as the author of every change.
ALTER TABLE sync_meta ADD COLUMN username VARCHAR(120) NOT NULL DEFAULT '';
ALTER TABLE sync_meta ADD COLUMN role VARCHAR(16) NOT NULL DEFAULT 'worker';
