DROP INDEX oauth_tokens_retry_until;
ALTER TABLE oauth_tokens DROP COLUMN retry_until;
ALTER TABLE oauth_tokens DROP COLUMN successor_sealed;
