-- Tokens carry their pair's id (a selector) and are found by the primary key, then checked
-- against the stored digest of the rest: no unique index on random digests, so issuing a pair
-- appends instead of dirtying pages all over two indexes (crates/oauth-provider, TokenShape).
-- Pairs issued before are `legacy`, their digests those of whole tokens: found by them, in
-- indexes that hold only those pairs. (Existing rows take the first default, later ones the
-- second, without rewriting the table.)
ALTER TABLE oauth_tokens ADD COLUMN legacy BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE oauth_tokens ALTER COLUMN legacy SET DEFAULT FALSE;
ALTER TABLE oauth_tokens DROP CONSTRAINT oauth_tokens_access_digest_key;
ALTER TABLE oauth_tokens DROP CONSTRAINT oauth_tokens_refresh_digest_key;
CREATE INDEX oauth_tokens_legacy_access ON oauth_tokens (access_digest) WHERE legacy;
CREATE INDEX oauth_tokens_legacy_refresh ON oauth_tokens (refresh_digest) WHERE legacy;
