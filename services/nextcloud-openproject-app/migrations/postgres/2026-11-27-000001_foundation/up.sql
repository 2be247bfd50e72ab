-- Host model of the Nextcloud side: users, groups, app passwords, sessions, failed-login counters.
-- Instants are BIGINT unix milliseconds.
CREATE TABLE users (
    uid TEXT PRIMARY KEY NOT NULL,
    uid_lower TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE "groups" (
    gid TEXT PRIMARY KEY NOT NULL
);

CREATE TABLE group_members (
    gid TEXT NOT NULL REFERENCES "groups" (gid) ON DELETE CASCADE,
    uid TEXT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    is_subadmin BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (gid, uid)
);
CREATE INDEX group_members_uid ON group_members (uid);

CREATE TABLE app_passwords (
    id BIGSERIAL PRIMARY KEY,
    uid TEXT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX app_passwords_uid ON app_passwords (uid);

CREATE TABLE sessions (
    id_digest TEXT PRIMARY KEY NOT NULL,
    uid TEXT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_uid ON sessions (uid);

CREATE TABLE auth_failures (
    client_address TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL
);

INSERT INTO "groups" (gid) VALUES ('admin');
