//! The writes of the WebDAV server: PUT, MKCOL, DELETE, MOVE, COPY. Each takes the connection
//! inside the caller's serialized transaction, keeps the ancestors' sizes, etags and mtimes
//! current, and refuses what would take the user past their quota.

use service_kit::db::AnyConnection;
use storage_protocol::files::MIME_DIRECTORY;

use std::collections::HashMap;

use super::{
    new_etag, now_secs,
    preconditions::{Preconditions, Verdict},
    properties, resolve,
    store::{ContentStore, Staged},
    FileError, Located, Viewer,
};
use crate::db::file_nodes::{self, FileNodeRow, NewFileNodeRow};

/// A folder's content changed by `size_delta`: it and every folder above it get the new size, a
/// new etag and mtime `now`.
fn propagate(
    conn: &mut AnyConnection,
    folder: Option<i64>,
    size_delta: i64,
    now: i64,
) -> Result<(), FileError> {
    let mut next = folder;
    while let Some(id) = next {
        file_nodes::touch_folder(conn, id, size_delta, &new_etag(), now)?;
        next = file_nodes::find(conn, id)?.and_then(|n| n.parent_id);
    }
    Ok(())
}

/// The parent folder of `segments` (which is not the root), or why there is none.
fn parent_folder(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    segments: &[String],
) -> Result<Located, FileError> {
    let (_, parent) = segments.split_last().ok_or(FileError::NotAllowed(
        "the root of a user's files cannot be written",
    ))?;
    match resolve(conn, viewer, parent)? {
        Some(folder) if folder.node.is_folder => Ok(folder),
        _ => Err(FileError::ParentMissing),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    pub created: bool,
    pub node: Located,
    /// Content the file no longer uses, to remove after the commit.
    pub replaced_key: Option<String>,
}

/// A file's new content, staged and checked.
#[derive(Debug)]
pub struct NewContent<'a> {
    pub staged: &'a Staged,
    pub mime_type: &'a str,
    /// The modification time a client asks for (`X-OC-MTime`); else the time of the write.
    pub client_mtime: Option<i64>,
    /// The checksum entries to store (see [`super::checksum::to_store`]).
    pub checksum: &'a str,
}

/// PUT: creates the file or replaces its content; the writer becomes the modifier. The caller
/// moves the staged content into place before the transaction commits; folders above get the
/// time of the write.
pub fn put(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    segments: &[String],
    content: &NewContent<'_>,
    preconditions: &Preconditions,
) -> Result<PutOutcome, FileError> {
    let now = now_secs();
    let mtime = content.client_mtime.unwrap_or(now);
    let staged = content.staged;
    let existing = resolve(conn, viewer, segments)?;
    let current = existing
        .as_ref()
        .map(|e| (e.node.etag.as_str(), e.node.mtime));
    if preconditions.evaluate(current, false) != Verdict::Proceed {
        return Err(FileError::PreconditionFailed);
    }
    let outcome = match existing {
        Some(existing) if existing.node.is_folder => {
            return Err(FileError::NotAllowed("the target is a folder"));
        }
        Some(existing) => {
            viewer.check_quota(conn, &existing.node, staged.size - existing.node.size)?;
            let etag = new_etag();
            file_nodes::set_content(
                conn,
                existing.node.id,
                &file_nodes::ContentChange {
                    content_key: &staged.key,
                    size: staged.size,
                    mime_type: content.mime_type,
                    etag: &etag,
                    mtime,
                    modifier: &viewer.uid,
                    checksum: content.checksum,
                },
            )?;
            propagate(
                conn,
                existing.node.parent_id,
                staged.size - existing.node.size,
                now,
            )?;
            let node = file_nodes::find(conn, existing.node.id)?.ok_or(FileError::NotFound)?;
            PutOutcome {
                created: false,
                replaced_key: existing.node.content_key.clone(),
                node: Located {
                    node,
                    path: existing.path,
                },
            }
        }
        None => {
            let parent = parent_folder(conn, viewer, segments)?;
            viewer.check_quota(conn, &parent.node, staged.size)?;
            let name = segments.last().map_or("", String::as_str);
            let node = file_nodes::insert(
                conn,
                &NewFileNodeRow {
                    owner_uid: parent.node.owner_uid.as_deref(),
                    team_folder_id: parent.node.team_folder_id,
                    parent_id: Some(parent.node.id),
                    name,
                    is_folder: false,
                    size: staged.size,
                    mime_type: content.mime_type,
                    content_key: Some(&staged.key),
                    etag: &new_etag(),
                    mtime,
                    ctime: now,
                    modifier_uid: Some(&viewer.uid),
                    checksum: Some(content.checksum),
                },
            )?;
            propagate(conn, Some(parent.node.id), staged.size, now)?;
            PutOutcome {
                created: true,
                replaced_key: None,
                node: Located {
                    node,
                    path: segments.to_vec(),
                },
            }
        }
    };
    Ok(outcome)
}

/// MKCOL: a new folder whose creator is its modifier.
pub fn mkcol(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    segments: &[String],
) -> Result<Located, FileError> {
    if resolve(conn, viewer, segments)?.is_some() {
        return Err(FileError::NotAllowed(
            "The resource you tried to create already exists",
        ));
    }
    let parent = parent_folder(conn, viewer, segments)?;
    let now = now_secs();
    let node = file_nodes::insert(
        conn,
        &NewFileNodeRow {
            owner_uid: parent.node.owner_uid.as_deref(),
            team_folder_id: parent.node.team_folder_id,
            parent_id: Some(parent.node.id),
            name: segments.last().map_or("", String::as_str),
            is_folder: true,
            size: 0,
            mime_type: MIME_DIRECTORY,
            content_key: None,
            etag: &new_etag(),
            mtime: now,
            ctime: now,
            modifier_uid: Some(&viewer.uid),
            checksum: None,
        },
    )?;
    propagate(conn, Some(parent.node.id), 0, now)?;
    Ok(Located {
        node,
        path: segments.to_vec(),
    })
}

/// DELETE: the node and, for folders, everything below; ids are gone for good. Returns the
/// content keys to remove after the commit.
pub fn delete(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    segments: &[String],
) -> Result<Vec<String>, FileError> {
    let target = resolve(conn, viewer, segments)?.ok_or(FileError::NotFound)?;
    if target.is_root() || target.is_mount() {
        return Err(FileError::Forbidden("This folder cannot be deleted"));
    }
    remove_node(conn, &target)
}

fn remove_node(conn: &mut AnyConnection, target: &Located) -> Result<Vec<String>, FileError> {
    let mut ids = vec![target.node.id];
    let mut keys: Vec<String> = target.node.content_key.iter().cloned().collect();
    if target.node.is_folder {
        for (id, key) in file_nodes::descendants(conn, target.node.id)? {
            ids.push(id);
            keys.extend(key);
        }
    }
    file_nodes::delete(conn, &ids)?;
    propagate(conn, target.node.parent_id, -target.node.size, now_secs())?;
    Ok(keys)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveOutcome {
    /// True when the destination existed (and was replaced).
    pub replaced: bool,
    /// Content of the replaced destination, to remove after the commit.
    pub removed_keys: Vec<String>,
    /// The moved node at its new place.
    pub node: Located,
}

/// MOVE: renames or moves a node, keeping its id, mtime and modifier (renames and moves are not
/// content changes). An existing destination is replaced when `overwrite` allows it.
pub fn move_node(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    from: &[String],
    to: &[String],
    overwrite: bool,
) -> Result<MoveOutcome, FileError> {
    let source = resolve(conn, viewer, from)?.ok_or(FileError::NotFound)?;
    if source.is_root() || source.is_mount() {
        return Err(FileError::Forbidden("This folder cannot be moved"));
    }
    if to.starts_with(from) {
        return Err(FileError::Forbidden("A folder cannot be moved into itself"));
    }
    if from.starts_with(to) {
        return Err(FileError::Forbidden(
            "A folder cannot be replaced by something inside it",
        ));
    }
    let mut removed_keys = Vec::new();
    let replaced = match resolve(conn, viewer, to)? {
        Some(_) if !overwrite => return Err(FileError::DestinationExists),
        Some(existing) => {
            if existing.is_root() || existing.is_mount() {
                return Err(FileError::Forbidden("This folder cannot be replaced"));
            }
            removed_keys = remove_node(conn, &existing)?;
            true
        }
        None => false,
    };
    let parent = parent_folder(conn, viewer, to)?;
    let same_tree = parent.node.owner_uid == source.node.owner_uid
        && parent.node.team_folder_id == source.node.team_folder_id;
    if !same_tree {
        viewer.check_quota(conn, &parent.node, source.node.size)?;
    }
    let name = to.last().map_or("", String::as_str);
    let now = now_secs();
    propagate(conn, source.node.parent_id, -source.node.size, now)?;
    file_nodes::relocate(
        conn,
        source.node.id,
        parent.node.id,
        name,
        parent.node.owner_uid.as_deref(),
        parent.node.team_folder_id,
    )?;
    if !same_tree && source.node.is_folder {
        let ids: Vec<i64> = file_nodes::descendants(conn, source.node.id)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        file_nodes::set_tree(
            conn,
            &ids,
            parent.node.owner_uid.as_deref(),
            parent.node.team_folder_id,
        )?;
    }
    propagate(conn, Some(parent.node.id), source.node.size, now)?;
    let node = file_nodes::find(conn, source.node.id)?.ok_or(FileError::NotFound)?;
    Ok(MoveOutcome {
        replaced,
        removed_keys,
        node: Located {
            node,
            path: to.to_vec(),
        },
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutcome {
    /// True when the destination existed (and was replaced).
    pub replaced: bool,
    /// The copy (its root, for a folder).
    pub node: Located,
    /// Content of the replaced destination, to remove after the commit.
    pub removed_keys: Vec<String>,
}

/// COPY: a new node (and, with `recursive`, new nodes for everything below a folder) with new
/// ids, the same contents, checksums, mtimes and the copier's dead properties; the copier is the
/// modifier. Contents are
/// shared by key duplicates, which are pushed to `new_keys` as they are made so that the caller
/// can remove them if the transaction fails.
#[allow(clippy::too_many_arguments)]
pub fn copy_node(
    conn: &mut AnyConnection,
    store: &ContentStore,
    viewer: &Viewer,
    from: &[String],
    to: &[String],
    overwrite: bool,
    recursive: bool,
    new_keys: &mut Vec<String>,
) -> Result<CopyOutcome, FileError> {
    let source = resolve(conn, viewer, from)?.ok_or(FileError::NotFound)?;
    if to.starts_with(from) {
        return Err(FileError::Forbidden(
            "A folder cannot be copied into itself",
        ));
    }
    let existing = resolve(conn, viewer, to)?;
    if let Some(existing) = &existing {
        if !overwrite {
            return Err(FileError::DestinationExists);
        }
        if existing.is_root() || existing.is_mount() || from.starts_with(to) {
            return Err(FileError::Forbidden("This folder cannot be replaced"));
        }
    }
    let parent = parent_folder(conn, viewer, to)?;
    let below = if source.node.is_folder && recursive {
        file_nodes::subtree(conn, source.node.id)?
    } else {
        Vec::new()
    };
    let size = if source.node.is_folder && !recursive {
        0
    } else {
        source.node.size
    };
    let replaced_size = existing.as_ref().map_or(0, |e| e.node.size);
    viewer.check_quota(conn, &parent.node, size - replaced_size)?;
    let removed_keys = match &existing {
        Some(existing) => remove_node(conn, existing)?,
        None => Vec::new(),
    };
    let now = now_secs();
    let name = to.last().map_or("", String::as_str);
    let root = copy_row(
        conn,
        store,
        viewer,
        &source.node,
        &parent.node,
        name,
        size,
        now,
        new_keys,
    )?;
    let mut copies: HashMap<i64, FileNodeRow> = HashMap::from([(source.node.id, root.clone())]);
    for row in &below {
        let Some(new_parent) = row.parent_id.and_then(|p| copies.get(&p)).cloned() else {
            continue;
        };
        let copy = copy_row(
            conn,
            store,
            viewer,
            row,
            &new_parent,
            &row.name,
            row.size,
            now,
            new_keys,
        )?;
        copies.insert(row.id, copy);
    }
    let pairs: Vec<(i64, i64)> = copies.iter().map(|(from, to)| (*from, to.id)).collect();
    properties::copy(conn, &viewer.uid, &pairs)?;
    propagate(conn, Some(parent.node.id), size, now)?;
    Ok(CopyOutcome {
        replaced: existing.is_some(),
        node: Located {
            node: root,
            path: to.to_vec(),
        },
        removed_keys,
    })
}

/// One node of a copy, under `parent` (already copied).
#[allow(clippy::too_many_arguments)]
fn copy_row(
    conn: &mut AnyConnection,
    store: &ContentStore,
    viewer: &Viewer,
    row: &FileNodeRow,
    parent: &FileNodeRow,
    name: &str,
    size: i64,
    now: i64,
    new_keys: &mut Vec<String>,
) -> Result<FileNodeRow, FileError> {
    let content_key = match &row.content_key {
        Some(key) => {
            let duplicate = store.duplicate(key)?;
            new_keys.push(duplicate.clone());
            Some(duplicate)
        }
        None => None,
    };
    Ok(file_nodes::insert(
        conn,
        &NewFileNodeRow {
            owner_uid: parent.owner_uid.as_deref(),
            team_folder_id: parent.team_folder_id,
            parent_id: Some(parent.id),
            name,
            is_folder: row.is_folder,
            size,
            mime_type: &row.mime_type,
            content_key: content_key.as_deref(),
            etag: &new_etag(),
            mtime: row.mtime,
            ctime: now,
            modifier_uid: Some(&viewer.uid),
            checksum: row.checksum.as_deref(),
        },
    )?)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::{
        db::{test_db, users},
        domain::files::store::Staging,
    };

    fn user(conn: &mut AnyConnection, uid: &str) -> Viewer {
        users::insert_for_tests(conn, uid);
        Viewer::load(conn, uid).unwrap()
    }

    fn path(p: &str) -> Vec<String> {
        p.split('/').map(str::to_string).collect()
    }

    fn upload(
        conn: &mut AnyConnection,
        store: &ContentStore,
        viewer: &Viewer,
        at: &str,
        content: &[u8],
    ) -> PutOutcome {
        let (mut file, mut staged) = store.begin(Staging::Content).unwrap();
        ContentStore::write(&mut file, &mut staged, content).unwrap();
        file.flush().unwrap();
        let checksum = format!("SHA1:{}", staged.sha1_hex().unwrap());
        let content = NewContent {
            staged: &staged,
            mime_type: "text/plain",
            client_mtime: None,
            checksum: &checksum,
        };
        let outcome = put(conn, viewer, &path(at), &content, &Preconditions::default()).unwrap();
        store.commit(&staged).unwrap();
        outcome
    }

    fn size(conn: &mut AnyConnection, viewer: &Viewer, at: &str) -> i64 {
        let segments = if at.is_empty() { vec![] } else { path(at) };
        resolve(conn, viewer, &segments).unwrap().unwrap().node.size
    }

    #[test]
    fn sizes_follow_puts_moves_and_deletes() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        let dir = std::env::temp_dir().join(format!("ncoa-ops-{}", uuid::Uuid::new_v4()));
        let store = ContentStore::open(&dir).unwrap();
        let alice = user(conn, "alice");
        mkcol(conn, &alice, &path("a")).unwrap();
        mkcol(conn, &alice, &path("a/b")).unwrap();
        let first = upload(conn, &store, &alice, "a/b/f.txt", b"12345");
        assert!(first.created);
        assert_eq!(size(conn, &alice, ""), 5);
        assert_eq!(size(conn, &alice, "a"), 5);

        let replaced = upload(conn, &store, &alice, "a/b/f.txt", b"12");
        assert!(!replaced.created);
        assert_eq!(replaced.node.node.id, first.node.node.id);
        assert_eq!(
            replaced.replaced_key.as_deref(),
            Some(first.node.node.content_key.as_deref().unwrap())
        );
        assert_eq!(size(conn, &alice, "a/b"), 2);

        mkcol(conn, &alice, &path("c")).unwrap();
        let moved = move_node(conn, &alice, &path("a/b"), &path("c/b2"), true).unwrap();
        assert!(!moved.replaced);
        assert_eq!(size(conn, &alice, "a"), 0);
        assert_eq!(size(conn, &alice, "c"), 2);
        assert_eq!(size(conn, &alice, ""), 2);
        let again = resolve(conn, &alice, &path("c/b2/f.txt")).unwrap().unwrap();
        assert_eq!(again.node.id, first.node.node.id);

        let keys = delete(conn, &alice, &path("c")).unwrap();
        assert_eq!(keys, vec![replaced.node.node.content_key.clone().unwrap()]);
        assert_eq!(size(conn, &alice, ""), 0);
        assert!(resolve(conn, &alice, &path("c/b2/f.txt"))
            .unwrap()
            .is_none());
        assert!(matches!(
            delete(conn, &alice, &[]),
            Err(FileError::Forbidden(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refusals_name_their_reason() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        let alice = user(conn, "alice");
        mkcol(conn, &alice, &path("a")).unwrap();
        assert!(matches!(
            mkcol(conn, &alice, &path("a")),
            Err(FileError::NotAllowed(_))
        ));
        assert!(matches!(
            mkcol(conn, &alice, &path("x/y")),
            Err(FileError::ParentMissing)
        ));
        mkcol(conn, &alice, &path("b")).unwrap();
        assert!(matches!(
            move_node(conn, &alice, &path("a"), &path("b"), false),
            Err(FileError::DestinationExists)
        ));
        assert!(matches!(
            move_node(conn, &alice, &path("a"), &path("a/inside"), true),
            Err(FileError::Forbidden(_))
        ));
        assert!(matches!(
            move_node(conn, &alice, &path("nope"), &path("b/n"), true),
            Err(FileError::NotFound)
        ));
    }
}
