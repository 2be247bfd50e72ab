DROP TABLE upload_chunks;
DROP TABLE uploads;
ALTER TABLE users DROP COLUMN quota_bytes;
ALTER TABLE file_nodes DROP COLUMN checksum;
