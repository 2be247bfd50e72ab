-- Tokens carry their pair's id (a selector) and are found by the primary key, then checked
-- against the stored digest of the rest: no unique index on random digests, so issuing a pair
-- appends instead of dirtying pages all over two indexes (crates/oauth-provider, TokenShape).
-- Pairs issued before are `legacy`, their digests those of whole tokens: found by them, in
-- indexes that hold only those pairs. SQLite cannot drop a column's UNIQUE, hence the rebuild.
CREATE TABLE oauth_tokens_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_pk BIGINT NOT NULL REFERENCES {clients} (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    family_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    access_digest TEXT NOT NULL,
    refresh_digest TEXT,
    access_expires_at BIGINT NOT NULL,
    previous_id BIGINT,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT,
    successor_sealed TEXT,
    retry_until BIGINT,
    legacy BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO oauth_tokens_rebuilt (id, client_pk, subject, family_id, scope, access_digest,
    refresh_digest, access_expires_at, previous_id, created_at, rotated_at, revoked_at,
    successor_sealed, retry_until, legacy)
SELECT id, client_pk, subject, family_id, scope, access_digest, refresh_digest,
    access_expires_at, previous_id, created_at, rotated_at, revoked_at, successor_sealed,
    retry_until, TRUE
FROM oauth_tokens;
DROP TABLE oauth_tokens;
ALTER TABLE oauth_tokens_rebuilt RENAME TO oauth_tokens;
CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_client_subject ON oauth_tokens (client_pk, subject);
CREATE INDEX oauth_tokens_retry_until ON oauth_tokens (retry_until);
CREATE INDEX oauth_tokens_legacy_access ON oauth_tokens (access_digest) WHERE legacy;
CREATE INDEX oauth_tokens_legacy_refresh ON oauth_tokens (refresh_digest) WHERE legacy;
