-- The instance's signing keys: the Ed25519 seed sealed with the secret box, the public half
-- published at /.well-known/jwks.json. The oldest signs.
CREATE TABLE pairing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    seed_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
