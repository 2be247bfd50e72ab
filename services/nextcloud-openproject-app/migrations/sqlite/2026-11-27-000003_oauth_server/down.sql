DROP TABLE openproject_token_refreshes;
DROP TABLE oauth_pending_authorizations;
DROP TABLE oauth_tokens;
DROP TABLE oauth_codes;
