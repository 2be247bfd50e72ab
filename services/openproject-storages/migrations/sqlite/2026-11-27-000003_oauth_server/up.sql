-- OpenProject as OAuth authorization server for Nextcloud: the tables of the shared engine
-- (crates/oauth-provider). `subject` is the user id (a locked user's tokens are refused at use); a
-- code or token dies with its application (replaced, or its storage deleted).
CREATE TABLE oauth_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_pk BIGINT NOT NULL REFERENCES oauth_applications (id) ON DELETE CASCADE,
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

CREATE TABLE oauth_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_pk BIGINT NOT NULL REFERENCES oauth_applications (id) ON DELETE CASCADE,
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
