-- Files of the host model (spec §1, §7): one row per file or folder. Ids come from an
-- autoincrementing key, so they grow and are never reused. A tree is a user's (owner_uid) or
-- the team folder's (team_folder_id); each tree has one root (parent_id NULL). Contents live in
-- the data directory under content_key. Times are unix seconds.
CREATE TABLE file_nodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    owner_uid TEXT REFERENCES users (uid) ON DELETE CASCADE,
    team_folder_id BIGINT REFERENCES team_folders (id) ON DELETE CASCADE,
    parent_id BIGINT REFERENCES file_nodes (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    is_folder BOOLEAN NOT NULL,
    size BIGINT NOT NULL,
    mime_type TEXT NOT NULL,
    content_key TEXT,
    etag TEXT NOT NULL,
    mtime BIGINT NOT NULL,
    ctime BIGINT NOT NULL,
    modifier_uid TEXT REFERENCES users (uid) ON DELETE SET NULL,
    CHECK ((owner_uid IS NULL) <> (team_folder_id IS NULL))
);
CREATE UNIQUE INDEX file_nodes_child_name ON file_nodes (parent_id, name);
CREATE UNIQUE INDEX file_nodes_user_root ON file_nodes (owner_uid) WHERE parent_id IS NULL;
CREATE UNIQUE INDEX file_nodes_team_root ON file_nodes (team_folder_id) WHERE parent_id IS NULL;
