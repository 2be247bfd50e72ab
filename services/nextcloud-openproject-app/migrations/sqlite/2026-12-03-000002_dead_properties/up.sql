-- Dead properties (RFC 4918 §4), set and removed with PROPPATCH: what Nextcloud keeps in
-- `oc_properties`, per user and node. The value is XML content that declares its own
-- namespaces. Rows go with their node (a deleted folder takes its subtree's) and their user.
CREATE TABLE dead_properties (
    node_id BIGINT NOT NULL REFERENCES file_nodes (id) ON DELETE CASCADE,
    uid TEXT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (node_id, uid, namespace, name)
);
CREATE INDEX dead_properties_uid ON dead_properties (uid);
