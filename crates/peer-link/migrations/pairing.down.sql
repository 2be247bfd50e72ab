DROP TABLE peer_inbox;
DROP TABLE peer_outbox;
DROP TABLE pairing_keys;
