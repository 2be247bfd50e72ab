DROP INDEX oauth_tokens_retry_until;
CREATE INDEX oauth_tokens_retry_until ON oauth_tokens (retry_until);
