-- Direct download tokens (spec §8): stored as SHA-256 digests, bound to the user who asked and
-- the file; usable until they expire (unix seconds), then purged.
CREATE TABLE direct_downloads (
    token_digest TEXT PRIMARY KEY NOT NULL,
    uid TEXT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    file_id BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX direct_downloads_expires_at ON direct_downloads (expires_at);
