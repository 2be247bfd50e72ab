-- Fields real OpenProject shows on statuses and types and real clients read (issue 21):
-- `isReadonly` and `defaultDoneRatio` (null: no default) on statuses, `createdAt`/`updatedAt`
-- (unix ms) on types; the seeded types get the time of this migration.
ALTER TABLE statuses ADD COLUMN is_readonly BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE statuses ADD COLUMN default_done_ratio BIGINT;
ALTER TABLE types ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE types ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE types SET created_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000, updated_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
