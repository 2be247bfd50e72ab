DROP TABLE throttle_failures;
CREATE TABLE auth_failures (
    client_address TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL
);
