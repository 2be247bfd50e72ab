-- The integration app's state: app config, user preferences, the Nextcloud OAuth client for
-- OpenProject and the team folder record. Instants are BIGINT unix milliseconds.

-- Key/value settings per app (Nextcloud's appconfig). Secrets are stored sealed.
CREATE TABLE app_config (
    app TEXT NOT NULL,
    config_key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (app, config_key)
);

-- Key/value settings per user and app (Nextcloud's preferences). Tokens are stored sealed.
CREATE TABLE user_preferences (
    uid TEXT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    app TEXT NOT NULL,
    config_key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (uid, app, config_key)
);
CREATE INDEX user_preferences_app_key ON user_preferences (app, config_key);

-- OAuth clients of this authorization server (at most one: OpenProject's). Codes and tokens
-- reference a client with ON DELETE CASCADE, so deleting it ends them all. AUTOINCREMENT:
-- ids are never reused, so a stale id can never name a newer client.
CREATE TABLE oauth_clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    client_identifier TEXT NOT NULL UNIQUE,
    secret_digest TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Team folders (groupfolders): the group it is shared with, its permission bits, and ACL.
CREATE TABLE team_folders (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    gid TEXT REFERENCES "groups" (gid) ON DELETE SET NULL,
    permissions INTEGER NOT NULL,
    acl BOOLEAN NOT NULL DEFAULT 0,
    acl_manager_uid TEXT REFERENCES users (uid) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);

INSERT INTO app_config (app, config_key, value)
VALUES ('integration_openproject', 'fresh_project_folder_setup', '1');
