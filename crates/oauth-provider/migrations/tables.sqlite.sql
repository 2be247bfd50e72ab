-- The engine's tables (crates/oauth-provider), in every service that runs it: codes and token
-- pairs, stored as SHA-256 digests only. `subject` is the service's user; `client_pk` references
-- the service's client table, {clients}, so deleting a client deletes every code and token it
-- was issued. Instants are BIGINT unix milliseconds.
CREATE TABLE oauth_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_pk BIGINT NOT NULL REFERENCES {clients} (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    code_digest TEXT NOT NULL UNIQUE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT,
    code_challenge_method TEXT,
    family_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX oauth_codes_client ON oauth_codes (client_pk);

CREATE TABLE oauth_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_pk BIGINT NOT NULL REFERENCES {clients} (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    family_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    access_digest TEXT NOT NULL UNIQUE,
    refresh_digest TEXT UNIQUE,
    access_expires_at BIGINT NOT NULL,
    previous_id BIGINT,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_client_subject ON oauth_tokens (client_pk, subject);
