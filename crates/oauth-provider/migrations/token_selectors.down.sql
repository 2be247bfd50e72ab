DROP INDEX oauth_tokens_legacy_refresh;
DROP INDEX oauth_tokens_legacy_access;
CREATE UNIQUE INDEX oauth_tokens_access_digest ON oauth_tokens (access_digest);
CREATE UNIQUE INDEX oauth_tokens_refresh_digest ON oauth_tokens (refresh_digest);
ALTER TABLE oauth_tokens DROP COLUMN legacy;
