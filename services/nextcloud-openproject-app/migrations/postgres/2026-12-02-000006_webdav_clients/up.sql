-- What Nextcloud's own clients rely on (desktop client, rclone): checksums of file contents
-- (`OC-Checksum`, `oc:checksums`), per-user quotas (provisioning's `quota`), and chunked uploads
-- kept aside until they are assembled.

-- Space-separated `TYPE:hex` entries, e.g. `SHA1:… MD5:…`; SHA1 is always there for files.
ALTER TABLE file_nodes ADD COLUMN checksum TEXT;
-- Bytes the user's own files may take; NULL is unlimited.
ALTER TABLE users ADD COLUMN quota_bytes BIGINT;

-- A chunked upload in progress: v2 (`/remote.php/dav/uploads/<user>/<name>`, the destination
-- given at MKCOL or at the final MOVE) or legacy v1 (`<file>-chunking-<id>-<count>-<index>`,
-- named `v1-<id>` with its chunk count). Abandoned uploads expire (updated_at, unix seconds).
CREATE TABLE uploads (
    id BIGSERIAL PRIMARY KEY,
    owner_uid TEXT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- The target as percent-decoded path segments joined by `/`, when known.
    destination TEXT,
    -- Legacy v1: the number of chunks that make the file.
    chunk_count BIGINT,
    -- Set while one request assembles the upload, so a second one does not.
    assembling_since BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX uploads_owner_name ON uploads (owner_uid, name);
CREATE INDEX uploads_updated_at ON uploads (updated_at);

-- The chunks of an upload, each a content in the data directory.
CREATE TABLE upload_chunks (
    upload_id BIGINT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_key TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (upload_id, name)
);
