-- Direct upload tokens (spec §10.1): stored as SHA-256 digests, bound to the user who asked and
-- the target folder; single use (the row is deleted when the token is looked up), valid until
-- `expires_at` (unix seconds), then purged. No foreign key on the user: a token of a user who is
-- gone must still be recognised (answered `unauthorized`).
CREATE TABLE direct_uploads (
    token_digest TEXT PRIMARY KEY NOT NULL,
    uid TEXT NOT NULL,
    folder_id BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX direct_uploads_expires_at ON direct_uploads (expires_at);
