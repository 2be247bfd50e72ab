ALTER TABLE oauth_client_tokens DROP COLUMN refreshed_at;
ALTER TABLE oauth_client_tokens DROP COLUMN refresh_claimed_at;
DROP TABLE oauth_client_states;
