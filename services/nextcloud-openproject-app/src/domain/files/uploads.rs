//! Chunked uploads as Nextcloud's clients send them. Chunks are kept aside (each a content in
//! the store, listed in `upload_chunks`) and only the request that completes the upload turns
//! them into the user's file, so a chunk is never stored as a file.
//!
//! - Version 2 (`/remote.php/dav/uploads/<user>/<upload>`): MKCOL creates the upload (with
//!   `Destination`, chunk names must be 1–10000), PUT adds chunks, MOVE of `.file` assembles
//!   them in the natural order of their names, DELETE aborts.
//! - Legacy v1 (`PUT <file>-chunking-<transfer>-<count>-<index>` with `OC-Chunked`): the upload
//!   is named after the transfer and completes with its `count`-th distinct chunk.
//!
//! Uploads unused for [`EXPIRY_SECS`] are purged with their chunks.

use std::cmp::Ordering;

use service_kit::db::AnyConnection;

use super::{valid_name, FileError, Viewer};
use crate::db::uploads::{self, ChunkRow, NewUploadRow, UploadRow};

/// Abandoned uploads expire after a day, as on Nextcloud.
pub const EXPIRY_SECS: i64 = 24 * 3600;
/// A claim to assemble older than this belongs to a request that died.
const STALE_ASSEMBLY_SECS: i64 = 3600;
/// Chunk numbers of version 2.
const V2_CHUNKS: std::ops::RangeInclusive<u64> = 1..=10_000;
/// The most chunks a legacy upload may announce.
const V1_MAX_CHUNKS: i64 = 10_000;

/// Compares chunk names as Nextcloud's assembly does (`strnatcmp`): digit runs by value.
pub fn natural_order(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let run = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (run(a), run(b));
                let trim = |s: &[u8]| {
                    let zeros = s.iter().take_while(|c| **c == b'0').count();
                    s[zeros..].to_vec()
                };
                let (da, db) = (trim(&a[..na]), trim(&b[..nb]));
                let by_value = da.len().cmp(&db.len()).then_with(|| da.cmp(&db));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

/// The parts of a legacy chunk name `<file>-chunking-<transfer>-<count>-<index>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyChunk {
    pub file_name: String,
    pub transfer: String,
    pub count: i64,
    pub index: i64,
}

impl LegacyChunk {
    pub fn parse(name: &str) -> Result<Self, FileError> {
        let bad = || FileError::BadRequest("Invalid chunk name".into());
        let (file_name, rest) = name.rsplit_once("-chunking-").ok_or_else(bad)?;
        let mut parts = rest.splitn(3, '-');
        let transfer = parts.next().filter(|t| !t.is_empty()).ok_or_else(bad)?;
        let count: i64 = parts.next().and_then(|c| c.parse().ok()).ok_or_else(bad)?;
        let index: i64 = parts.next().and_then(|i| i.parse().ok()).ok_or_else(bad)?;
        let valid = !file_name.is_empty()
            && transfer
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && (1..=V1_MAX_CHUNKS).contains(&count)
            && (0..count).contains(&index);
        if !valid {
            return Err(bad());
        }
        Ok(Self {
            file_name: file_name.to_string(),
            transfer: transfer.to_string(),
            count,
            index,
        })
    }

    /// The upload that collects this transfer's chunks for `destination`.
    pub fn upload_name(&self, destination: &str) -> String {
        let digest = service_kit::crypto::digest(destination);
        format!("v1-{}-{}", self.transfer, &digest[..16])
    }
}

/// The uploads folder `name` of the viewer, or 404.
pub fn find(conn: &mut AnyConnection, viewer: &Viewer, name: &str) -> Result<UploadRow, FileError> {
    uploads::find(conn, &viewer.uid, name)?.ok_or(FileError::NotFound)
}

/// MKCOL of an upload folder; `destination` is the target's path (v2).
pub fn create(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    name: &str,
    destination: Option<&str>,
    now: i64,
) -> Result<(), FileError> {
    valid_name(name)?;
    if uploads::find(conn, &viewer.uid, name)?.is_some() {
        return Err(FileError::NotAllowed(
            "The resource you tried to create already exists",
        ));
    }
    uploads::insert(
        conn,
        &NewUploadRow {
            owner_uid: &viewer.uid,
            name,
            destination,
            chunk_count: None,
            created_at: now,
            updated_at: now,
        },
    )?;
    Ok(())
}

/// Whether a chunk was new, and the content it replaced (to remove after the commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkStored {
    pub created: bool,
    pub replaced_key: Option<String>,
}

/// Records a chunk of a version 2 (or chunking "1.0" without destination) upload.
pub fn add_chunk(
    conn: &mut AnyConnection,
    upload: &UploadRow,
    chunk_name: &str,
    key: &str,
    size: i64,
    now: i64,
) -> Result<ChunkStored, FileError> {
    valid_name(chunk_name)?;
    if upload.destination.is_some() {
        let number = chunk_name.parse::<u64>().ok();
        if !number.is_some_and(|n| V2_CHUNKS.contains(&n)) {
            return Err(FileError::BadRequest(
                "Chunk names must be numbers from 1 to 10000".into(),
            ));
        }
    }
    store_chunk(conn, upload, chunk_name, key, size, now)
}

fn store_chunk(
    conn: &mut AnyConnection,
    upload: &UploadRow,
    chunk_name: &str,
    key: &str,
    size: i64,
    now: i64,
) -> Result<ChunkStored, FileError> {
    if upload.assembling_since.is_some() {
        return Err(FileError::UploadBusy);
    }
    let row = ChunkRow {
        upload_id: upload.id,
        name: chunk_name.to_string(),
        content_key: key.to_string(),
        size,
    };
    let stored = match uploads::find_chunk(conn, upload.id, chunk_name)? {
        Some(old) => {
            uploads::replace_chunk(conn, &row)?;
            ChunkStored {
                created: false,
                replaced_key: Some(old.content_key),
            }
        }
        None => {
            uploads::insert_chunk(conn, &row)?;
            ChunkStored {
                created: true,
                replaced_key: None,
            }
        }
    };
    uploads::touch(conn, upload.id, now)?;
    Ok(stored)
}

/// An upload claimed for assembly: its chunks' contents in order and their total size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembly {
    pub upload_id: i64,
    pub keys: Vec<String>,
    pub total: i64,
}

/// Claims `upload` for assembly, so that no other request assembles or changes it.
pub fn begin_assembly(
    conn: &mut AnyConnection,
    upload: &UploadRow,
    now: i64,
) -> Result<Assembly, FileError> {
    if !uploads::claim(conn, upload.id, now, now - STALE_ASSEMBLY_SECS)? {
        return Err(FileError::UploadBusy);
    }
    let mut chunks = uploads::chunks(conn, upload.id)?;
    chunks.sort_by(|a, b| natural_order(&a.name, &b.name));
    Ok(Assembly {
        upload_id: upload.id,
        total: chunks.iter().map(|c| c.size).sum(),
        keys: chunks.into_iter().map(|c| c.content_key).collect(),
    })
}

/// Ends an upload (assembled or aborted); returns its chunks' contents to remove after the
/// commit.
pub fn finish(conn: &mut AnyConnection, upload_id: i64) -> Result<Vec<String>, FileError> {
    Ok(uploads::delete(conn, &[upload_id])?)
}

/// DELETE of an upload folder ends the upload; of a chunk, drops the chunk. Returns the
/// contents to remove after the commit.
pub fn delete(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    name: &str,
    chunk: Option<&str>,
) -> Result<Vec<String>, FileError> {
    let upload = find(conn, viewer, name)?;
    match chunk {
        Some(chunk) => {
            let key = uploads::find_chunk(conn, upload.id, chunk)?
                .ok_or(FileError::NotFound)?
                .content_key;
            uploads::delete_chunk(conn, upload.id, chunk)?;
            Ok(vec![key])
        }
        None => finish(conn, upload.id),
    }
}

/// An upload folder or chunk as a PROPFIND of the uploads tree lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadEntry {
    /// Segments below the user's uploads root.
    pub path: Vec<String>,
    /// `None` for folders.
    pub size: Option<i64>,
    pub etag: String,
    pub mtime: i64,
}

impl UploadEntry {
    fn folder(path: Vec<String>, mtime: i64) -> Self {
        let etag = format!("{mtime}");
        Self {
            path,
            size: None,
            etag,
            mtime,
        }
    }

    fn chunk(upload: &str, chunk: ChunkRow, mtime: i64) -> Self {
        Self {
            path: vec![upload.to_string(), chunk.name],
            size: Some(chunk.size),
            etag: chunk.content_key.chars().take(13).collect(),
            mtime,
        }
    }
}

/// The entries of a PROPFIND of the uploads root (the user's uploads), an upload (its chunks,
/// in the order of assembly, which clients read to resume), or a chunk.
pub fn listing(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    upload: Option<&str>,
    chunk: Option<&str>,
    deep: bool,
) -> Result<Vec<UploadEntry>, FileError> {
    let mut entries = Vec::new();
    let Some(name) = upload else {
        entries.push(UploadEntry::folder(vec![], 0));
        if deep {
            for upload in uploads::list(conn, &viewer.uid)? {
                entries.push(UploadEntry::folder(vec![upload.name], upload.updated_at));
            }
        }
        return Ok(entries);
    };
    let upload = find(conn, viewer, name)?;
    let mut chunks = uploads::chunks(conn, upload.id)?;
    chunks.sort_by(|a, b| natural_order(&a.name, &b.name));
    match chunk {
        Some(chunk) => {
            let found = chunks
                .into_iter()
                .find(|c| c.name == chunk)
                .ok_or(FileError::NotFound)?;
            entries.push(UploadEntry::chunk(&upload.name, found, upload.updated_at));
        }
        None => {
            entries.push(UploadEntry::folder(
                vec![upload.name.clone()],
                upload.updated_at,
            ));
            if deep {
                for chunk in chunks {
                    entries.push(UploadEntry::chunk(&upload.name, chunk, upload.updated_at));
                }
            }
        }
    }
    Ok(entries)
}

/// Gives up a claim after a failed assembly, so the client may retry the MOVE.
pub fn release(conn: &mut AnyConnection, upload_id: i64) -> Result<(), FileError> {
    uploads::release(conn, upload_id)?;
    Ok(())
}

/// What a legacy chunk completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyProgress {
    /// More chunks are to come.
    Pending(ChunkStored),
    /// This chunk was the last one missing: the upload is claimed for assembly.
    Complete(ChunkStored, Assembly),
}

/// Records a legacy chunk for the file at `destination`; the chunk that makes the set complete
/// claims the upload for assembly.
pub fn add_legacy_chunk(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    chunk: &LegacyChunk,
    destination: &str,
    key: &str,
    size: i64,
    now: i64,
) -> Result<LegacyProgress, FileError> {
    let name = chunk.upload_name(destination);
    let upload = match uploads::find(conn, &viewer.uid, &name)? {
        Some(upload) => upload,
        None => uploads::insert(
            conn,
            &NewUploadRow {
                owner_uid: &viewer.uid,
                name: &name,
                destination: Some(destination),
                chunk_count: Some(chunk.count),
                created_at: now,
                updated_at: now,
            },
        )?,
    };
    if upload.chunk_count != Some(chunk.count) {
        return Err(FileError::BadRequest(
            "The chunk count differs from the transfer's other chunks".into(),
        ));
    }
    let stored = store_chunk(conn, &upload, &chunk.index.to_string(), key, size, now)?;
    let have = uploads::chunks(conn, upload.id)?.len() as i64;
    if have < chunk.count {
        return Ok(LegacyProgress::Pending(stored));
    }
    let assembly = begin_assembly(conn, &upload, now)?;
    Ok(LegacyProgress::Complete(stored, assembly))
}

/// Deletes uploads unused since `now - EXPIRY_SECS`; returns their chunks' contents.
pub fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<Vec<String>, FileError> {
    let expired = uploads::unused_since(conn, now - EXPIRY_SECS)?;
    Ok(uploads::delete(conn, &expired)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{test_db, users};

    fn alice(conn: &mut AnyConnection) -> Viewer {
        users::insert_for_tests(conn, "alice");
        Viewer::load(conn, "alice").unwrap()
    }

    #[test]
    fn uploads_expire_a_day_after_their_last_chunk() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        let viewer = alice(conn);
        let t0 = 1_000_000;
        create(conn, &viewer, "old", None, t0).unwrap();
        let old = find(conn, &viewer, "old").unwrap();
        add_chunk(conn, &old, "1", "k1", 3, t0 + 10).unwrap();
        create(conn, &viewer, "young", None, t0 + 100).unwrap();
        // A day after the last chunk the first one goes, with its content key.
        assert!(purge_expired(conn, t0 + 10 + EXPIRY_SECS)
            .unwrap()
            .is_empty());
        assert_eq!(
            purge_expired(conn, t0 + 11 + EXPIRY_SECS).unwrap(),
            vec!["k1".to_string()]
        );
        assert!(matches!(
            find(conn, &viewer, "old"),
            Err(FileError::NotFound)
        ));
        assert!(find(conn, &viewer, "young").is_ok());
    }

    #[test]
    fn one_request_assembles_and_chunks_wait_meanwhile() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        let viewer = alice(conn);
        create(conn, &viewer, "u", Some("f.bin"), 0).unwrap();
        let upload = find(conn, &viewer, "u").unwrap();
        for (name, key) in [("2", "k2"), ("1", "k1"), ("10", "k10")] {
            add_chunk(conn, &upload, name, key, 1, 0).unwrap();
        }
        let assembly = begin_assembly(conn, &upload, 5).unwrap();
        assert_eq!(assembly.keys, ["k1", "k2", "k10"]);
        assert_eq!(assembly.total, 3);
        assert!(matches!(
            begin_assembly(conn, &upload, 6),
            Err(FileError::UploadBusy)
        ));
        let claimed = find(conn, &viewer, "u").unwrap();
        assert!(matches!(
            add_chunk(conn, &claimed, "3", "k3", 1, 6),
            Err(FileError::UploadBusy)
        ));
        release(conn, upload.id).unwrap();
        assert!(begin_assembly(conn, &upload, 7).is_ok());
    }

    #[test]
    fn chunk_names_sort_by_number() {
        let mut names = vec!["10", "2", "1", "00003", "0000000000000011"];
        names.sort_by(|a, b| natural_order(a, b));
        assert_eq!(names, ["1", "2", "00003", "10", "0000000000000011"]);
        assert_eq!(natural_order("a2", "a10"), Ordering::Less);
        assert_eq!(natural_order("b", "a"), Ordering::Greater);
    }

    #[test]
    fn legacy_chunk_names_parse_or_fail_loudly() {
        let chunk = LegacyChunk::parse("my file-chunking-4711-chunking-123-3-2").unwrap();
        assert_eq!(chunk.file_name, "my file-chunking-4711");
        assert_eq!(
            (chunk.transfer.as_str(), chunk.count, chunk.index),
            ("123", 3, 2)
        );
        for bad in [
            "plain.txt",
            "f-chunking-1-2-2",
            "f-chunking-1-0-0",
            "f-chunking--2-1",
            "-chunking-1-2-1",
            "f-chunking-1-x-1",
        ] {
            assert!(LegacyChunk::parse(bad).is_err(), "{bad}");
        }
    }
}
