-- File storages (Nextcloud instances), OpenProject's OAuth application for each, Nextcloud's OAuth
-- client credentials for each, and the Nextcloud tokens users hold through those credentials.
-- Everything hanging off a storage goes with it (ON DELETE CASCADE), so later tables that
-- reference these rows (grants, project storages, file links) are removed in the same statement.
CREATE TABLE storages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    provider_type TEXT NOT NULL,
    host TEXT UNIQUE,
    authentication_method TEXT NOT NULL,
    -- Sealed with the service's secret key; NULL when automatic management is off.
    application_password_sealed TEXT,
    storage_audience TEXT,
    token_exchange_scope TEXT,
    forbidden_file_name_characters TEXT,
    creator_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE oauth_applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    -- SHA-256 of the secret; the secret itself is shown once and never stored.
    secret_digest TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    confidential BOOLEAN NOT NULL DEFAULT 1,
    owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    storage_id BIGINT NOT NULL UNIQUE REFERENCES storages (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE oauth_client_credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    storage_id BIGINT NOT NULL UNIQUE REFERENCES storages (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    -- Sealed: OpenProject must present it to Nextcloud.
    client_secret_sealed TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A user's Nextcloud tokens and remote identity, per set of client credentials: replacing the
-- credentials of a storage deletes them all.
CREATE TABLE oauth_client_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    oauth_client_credentials_id BIGINT NOT NULL REFERENCES oauth_client_credentials (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access_token_sealed TEXT NOT NULL,
    refresh_token_sealed TEXT,
    expires_at BIGINT,
    origin_user_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (user_id, oauth_client_credentials_id)
);
CREATE INDEX oauth_client_tokens_credentials ON oauth_client_tokens (oauth_client_credentials_id);
