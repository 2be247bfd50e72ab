-- Pairing by one code (Extension, issue 20). The instance's signing keys: the Ed25519 seed
-- sealed with the secret box, the public half published at /.well-known/jwks.json.
CREATE TABLE pairing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    seed_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The single-use nonces of the pairing codes, as digests; a code dies with its storage.
CREATE TABLE pairing_codes (
    nonce_digest TEXT PRIMARY KEY NOT NULL,
    storage_id BIGINT NOT NULL REFERENCES storages (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX pairing_codes_storage ON pairing_codes (storage_id);
CREATE INDEX pairing_codes_expires ON pairing_codes (expires_at);
