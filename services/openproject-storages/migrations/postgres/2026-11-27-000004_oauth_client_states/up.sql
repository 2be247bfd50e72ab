-- OpenProject users authorizing OpenProject at Nextcloud (oauth.md §4): each pending state, by
-- digest, with the session user who started it, the storage, and the sealed PKCE verifier, so any
-- replica can finish the flow. A consumed state keeps its digest (verifier cleared) for the
-- cookie's lifetime, so a replayed state is recognised instead of taken for a front-end nonce.
CREATE TABLE oauth_client_states (
    id BIGSERIAL PRIMARY KEY,
    state_digest TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    storage_id BIGINT NOT NULL REFERENCES storages (id) ON DELETE CASCADE,
    code_verifier_sealed TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX oauth_client_states_created_at ON oauth_client_states (created_at);

-- Single-flight refresh across replicas: a replica claims the row (a lease) before it calls
-- Nextcloud's token endpoint, outside any transaction; the others wait for its result. A token
-- refreshed in the last seconds is not refreshed again.
ALTER TABLE oauth_client_tokens ADD COLUMN refresh_claimed_at BIGINT;
ALTER TABLE oauth_client_tokens ADD COLUMN refreshed_at BIGINT;
