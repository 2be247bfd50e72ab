DROP TABLE team_folders;
DROP TABLE oauth_clients;
DROP TABLE user_preferences;
DROP TABLE app_config;
