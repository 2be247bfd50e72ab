-- `retry_until` is set exactly while a rotated pair holds a sealed successor: the index holds
-- those pairs only, so issuing a pair (retry_until NULL) does not touch it (crates/oauth-provider).
DROP INDEX oauth_tokens_retry_until;
CREATE INDEX oauth_tokens_retry_until ON oauth_tokens (retry_until) WHERE retry_until IS NOT NULL;
