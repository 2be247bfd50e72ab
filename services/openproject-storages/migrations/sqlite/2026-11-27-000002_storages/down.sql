DROP TABLE oauth_client_tokens;
DROP TABLE oauth_client_credentials;
DROP TABLE oauth_applications;
DROP TABLE storages;
