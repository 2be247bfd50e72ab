ALTER TABLE types DROP COLUMN updated_at;
ALTER TABLE types DROP COLUMN created_at;
ALTER TABLE statuses DROP COLUMN default_done_ratio;
ALTER TABLE statuses DROP COLUMN is_readonly;
