-- The OAuth server for OpenProject (oauth.md §3) and the client state towards OpenProject (§5).
-- The engine's tables, oauth_codes and oauth_tokens, come first from crates/oauth-provider
-- (oauth_provider::migrations::tables, listed in src/db/mod.rs). Instants are BIGINT unix
-- milliseconds.

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
