-- The authorization server for OpenProject (oauth.md §3) and the client state towards
-- OpenProject (§5). Instants are BIGINT unix milliseconds.

-- The tables of the shared engine (crates/oauth-provider): codes and token pairs, stored as
-- SHA-256 digests only. `subject` is the Nextcloud uid. Deleting the client deletes them all.
CREATE TABLE oauth_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    client_pk BIGINT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
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
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    client_pk BIGINT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
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

-- Authorization requests waiting for the user's consent (§3.2): kept here, not in the page,
-- under the digest of a random id, for 10 minutes.
CREATE TABLE oauth_pending_authorizations (
    id_digest TEXT PRIMARY KEY NOT NULL,
    client_pk BIGINT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    uid TEXT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    state TEXT NOT NULL,
    code_challenge TEXT,
    code_challenge_method TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_pending_authorizations_expires ON oauth_pending_authorizations (expires_at);

-- One refresh of a user's OpenProject token at a time, across replicas (§5 step 3): a lease
-- claimed by a conditional write, so no database lock is held during the call to OpenProject.
CREATE TABLE openproject_token_refreshes (
    uid TEXT PRIMARY KEY NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    locked_until BIGINT NOT NULL
);
