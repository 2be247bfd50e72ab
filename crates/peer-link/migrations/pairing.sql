-- What paired services keep about each other. Instants are BIGINT unix milliseconds; {id} is the
-- backend's auto-increment primary key.

-- The instance's signing keys: the Ed25519 seed sealed with the secret box, the public half
-- published at /.well-known/jwks.json. The oldest signs.
CREATE TABLE pairing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    seed_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Messages to peers, written in the transaction of the change that causes them and delivered in
-- `id` order per `peer` (the sender's name for it). The event is sealed with the secret box (it
-- may carry a client secret); `event_type` is its `type` tag, for status lines. A message is
-- pending until `delivered_at` or `failed_at` (refused for good) is set; `claimed_until` is the
-- lease of the replica sending it.
CREATE TABLE peer_outbox (
    id {id},
    message_id TEXT NOT NULL UNIQUE,
    peer TEXT NOT NULL,
    peer_url TEXT NOT NULL,
    path TEXT NOT NULL,
    event_sealed TEXT NOT NULL,
    event_type TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    last_attempt_at BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    failed_at BIGINT
);
-- Each peer's pending messages in order: what the worker reads every second.
CREATE INDEX peer_outbox_pending ON peer_outbox (peer, id)
    WHERE delivered_at IS NULL AND failed_at IS NULL;

-- The ids of the peers' messages already applied: each is applied once.
CREATE TABLE peer_inbox (
    peer TEXT NOT NULL,
    message_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (peer, message_id)
);
CREATE INDEX peer_inbox_received ON peer_inbox (received_at);
