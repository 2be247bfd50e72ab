-- Throttle counts are kept under fixed-size digests (64 hex digits), never under what a
-- request sent; the old table held raw addresses and client ids.
DROP TABLE auth_failures;
CREATE TABLE throttle_failures (
    key_digest TEXT PRIMARY KEY NOT NULL CHECK (length(key_digest) = 64),
    failures BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL
);
CREATE INDEX throttle_failures_window ON throttle_failures (window_started_at);
