-- Pairing by one code (Extension, issue 20); the signing keys, outbox and inbox are
-- peer-link's (its migration of the same version runs first). The single-use nonces of the pairing codes, as digests; a code dies with its storage. The
-- admin who issued it owns the OAuth application the exchange creates.
CREATE TABLE pairing_codes (
    nonce_digest TEXT PRIMARY KEY NOT NULL,
    storage_id BIGINT NOT NULL REFERENCES storages (id) ON DELETE CASCADE,
    issued_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX pairing_codes_storage ON pairing_codes (storage_id);
CREATE INDEX pairing_codes_expires ON pairing_codes (expires_at);

-- The Nextcloud a storage is paired with: its URL and the public key its messages are signed
-- with (a JWK); when Nextcloud reset the integration, when it did (no message goes to it since).
CREATE TABLE pairing_peers (
    storage_id BIGINT PRIMARY KEY NOT NULL REFERENCES storages (id) ON DELETE CASCADE,
    nextcloud_url TEXT NOT NULL,
    public_key TEXT NOT NULL,
    paired_at BIGINT NOT NULL,
    reset_at BIGINT
);
