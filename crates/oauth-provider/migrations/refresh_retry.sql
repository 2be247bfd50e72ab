-- A rotated pair keeps its successor sealed (encrypted with the service's secret box) until
-- `retry_until` (unix ms) or the successor's first use: a retry of the rotated refresh token in
-- that time gets the same successor, never a second chain (crates/oauth-provider).
ALTER TABLE oauth_tokens ADD COLUMN successor_sealed TEXT;
ALTER TABLE oauth_tokens ADD COLUMN retry_until BIGINT;
CREATE INDEX oauth_tokens_retry_until ON oauth_tokens (retry_until);
