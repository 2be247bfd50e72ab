//! Users' files (nextcloud-openproject-app.md §1, §7): each user's tree and the `OpenProject`
//! team folder mounted at `/OpenProject` for members of its group. Metadata lives in
//! `file_nodes`, contents in the data directory ([`store`]). Paths are names looked up in the
//! database; no user path ever reaches the filesystem.
//!
//! Every write runs in one serialized transaction ([`FILES_LOCK`]) so sizes and etags of the
//! ancestors stay consistent across replicas.

pub mod checksum;
pub mod direct;
pub mod direct_upload;
pub mod info;
pub mod ops;
pub mod preconditions;
pub mod properties;
pub mod store;
pub mod uploads;

use std::collections::HashMap;

use service_kit::{crypto, db::AnyConnection, time::now_millis};
use storage_protocol::{files::permissions, integration_app::TEAM_FOLDER};

use crate::db::{
    file_nodes::{self, FileNodeRow, NewFileNodeRow},
    groups, team_folders, users,
};

/// The advisory lock of file-tree writes.
pub const FILES_LOCK: i64 = 0x0F11E5;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// A path segment that is empty, `.`, `..`, or holds `/`, `\` or control characters.
    #[error("invalid file name")]
    BadName,
    #[error("not found")]
    NotFound,
    /// The parent folder is missing.
    #[error("the parent folder does not exist")]
    ParentMissing,
    /// MKCOL on something that exists, PUT on a folder.
    #[error("{0}")]
    NotAllowed(&'static str),
    /// DELETE or MOVE of a root or of the team folder mount.
    #[error("{0}")]
    Forbidden(&'static str),
    /// MOVE or COPY onto an existing target with `Overwrite: F`.
    #[error("the destination exists and overwriting is not allowed")]
    DestinationExists,
    /// `If-Match` / `If-None-Match` refused the write.
    #[error("An If-Match or If-None-Match header did not match the file")]
    PreconditionFailed,
    /// The write would take the user past their quota.
    #[error("Insufficient space in the user's quota")]
    InsufficientStorage,
    /// A request the chunked-upload or copy rules refuse, with the reason for the client.
    #[error("{0}")]
    BadRequest(String),
    /// Another request is assembling the same upload.
    #[error("The upload is being assembled by another request")]
    UploadBusy,
    #[error(transparent)]
    Checksum(#[from] checksum::ChecksumError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("file content: {0}")]
    Io(#[from] std::io::Error),
}

/// Whose files a request sees: the user's own tree and, for members of the team folder's group,
/// the team folder at `/OpenProject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub uid: String,
    pub display_name: String,
    /// The team folder's id when mounted for this user.
    pub team_folder: Option<i64>,
    /// Bytes the user's own files may take; `None` is unlimited.
    pub quota_bytes: Option<i64>,
}

impl Viewer {
    pub fn load(conn: &mut AnyConnection, uid: &str) -> Result<Self, FileError> {
        let (display_name, quota_bytes) = users::find(conn, uid)?.map_or_else(
            || (uid.to_string(), None),
            |u| (u.display_name, u.quota_bytes),
        );
        let team_folder = match team_folders::find_by_name(conn, TEAM_FOLDER)? {
            Some(folder) => match folder.gid.as_deref() {
                Some(gid) if groups::is_member(conn, gid, uid)? => Some(folder.id),
                _ => None,
            },
            None => None,
        };
        Ok(Self {
            uid: uid.to_string(),
            display_name,
            team_folder,
            quota_bytes,
        })
    }

    /// The bytes still free in the user's own tree, `None` when unlimited. The team folder has
    /// no quota.
    pub fn free_bytes(&self, conn: &mut AnyConnection) -> Result<Option<i64>, FileError> {
        let Some(quota) = self.quota_bytes else {
            return Ok(None);
        };
        let used = user_root(conn, &self.uid)?.size;
        Ok(Some((quota - used).max(0)))
    }

    /// Refuses a write that adds `growth` bytes to the tree of `node` beyond the user's quota.
    pub fn check_quota(
        &self,
        conn: &mut AnyConnection,
        node: &FileNodeRow,
        growth: i64,
    ) -> Result<(), FileError> {
        if growth <= 0 || node.owner_uid.as_deref() != Some(self.uid.as_str()) {
            return Ok(());
        }
        match self.free_bytes(conn)? {
            Some(free) if growth > free => Err(FileError::InsufficientStorage),
            _ => Ok(()),
        }
    }

    /// True when `node` is in this viewer's tree or mounted team folder.
    pub fn can_access(&self, node: &FileNodeRow) -> bool {
        match (&node.owner_uid, node.team_folder_id) {
            (Some(owner), _) => *owner == self.uid,
            (None, Some(team)) => self.team_folder == Some(team),
            (None, None) => false,
        }
    }
}

/// A node as a viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub node: FileNodeRow,
    /// Segments from the viewer's root; empty for the root.
    pub path: Vec<String>,
}

impl Located {
    pub fn in_team_folder(&self) -> bool {
        self.node.team_folder_id.is_some()
    }

    /// The team folder's root as mounted (`/OpenProject`).
    pub fn is_mount(&self) -> bool {
        self.in_team_folder() && self.node.parent_id.is_none()
    }

    pub fn is_root(&self) -> bool {
        self.path.is_empty()
    }

    /// The name in the viewer's tree (`""` for the root).
    pub fn name(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }

    /// DAV permission letters (§7.3).
    pub fn permissions(&self) -> &'static str {
        match (self.in_team_folder(), self.node.is_folder) {
            (false, false) => permissions::OWN_FILE,
            (false, true) => permissions::OWN_FOLDER,
            (true, false) => permissions::TEAM_FILE,
            (true, true) => permissions::TEAM_FOLDER,
        }
    }
}

/// A checked path segment.
pub fn valid_name(name: &str) -> Result<&str, FileError> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.len() > 250
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        Err(FileError::BadName)
    } else {
        Ok(name)
    }
}

/// A new etag: changes with every write of the node or below it.
pub fn new_etag() -> String {
    crypto::random_alphanumeric(13).to_ascii_lowercase()
}

pub fn now_secs() -> i64 {
    now_millis() / 1000
}

/// The user's root folder, created on first use.
pub fn user_root(conn: &mut AnyConnection, uid: &str) -> Result<FileNodeRow, FileError> {
    if let Some(root) = file_nodes::user_root(conn, uid)? {
        return Ok(root);
    }
    let now = now_secs();
    Ok(file_nodes::insert(
        conn,
        &NewFileNodeRow {
            owner_uid: Some(uid),
            team_folder_id: None,
            parent_id: None,
            name: "",
            is_folder: true,
            size: 0,
            mime_type: storage_protocol::files::MIME_DIRECTORY,
            content_key: None,
            etag: &new_etag(),
            mtime: now,
            ctime: now,
            modifier_uid: Some(uid),
            checksum: None,
        },
    )?)
}

/// The team folder's root folder, created on first use.
pub fn team_root(conn: &mut AnyConnection, team_folder: i64) -> Result<FileNodeRow, FileError> {
    if let Some(root) = file_nodes::team_root(conn, team_folder)? {
        return Ok(root);
    }
    let now = now_secs();
    Ok(file_nodes::insert(
        conn,
        &NewFileNodeRow {
            owner_uid: None,
            team_folder_id: Some(team_folder),
            parent_id: None,
            name: TEAM_FOLDER,
            is_folder: true,
            size: 0,
            mime_type: storage_protocol::files::MIME_DIRECTORY,
            content_key: None,
            etag: &new_etag(),
            mtime: now,
            ctime: now,
            modifier_uid: None,
            checksum: None,
        },
    )?)
}

/// Creates the viewer's roots when missing, under the files lock so concurrent first requests
/// do not race on them. Reads call it before [`resolve`]; writes need not (they hold the lock).
pub fn ensure_roots(conn: &mut AnyConnection, viewer: &Viewer) -> Result<(), FileError> {
    let user_missing = file_nodes::user_root(conn, &viewer.uid)?.is_none();
    let team_missing = match viewer.team_folder {
        Some(team) => file_nodes::team_root(conn, team)?.is_none(),
        None => false,
    };
    if !user_missing && !team_missing {
        return Ok(());
    }
    service_kit::db::serialized_transaction(conn, FILES_LOCK, |conn| {
        user_root(conn, &viewer.uid)?;
        if let Some(team) = viewer.team_folder {
            team_root(conn, team)?;
        }
        Ok(())
    })
}

/// The node at `segments` in the viewer's view, `None` when missing. Roots are created on
/// first use, so call it inside the operation's transaction.
pub fn resolve(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    segments: &[String],
) -> Result<Option<Located>, FileError> {
    let mut node = user_root(conn, &viewer.uid)?;
    let mut rest = segments;
    if let (Some(first), Some(team)) = (segments.first(), viewer.team_folder) {
        if first == TEAM_FOLDER {
            node = team_root(conn, team)?;
            rest = &segments[1..];
        }
    }
    for name in rest {
        if !node.is_folder {
            return Ok(None);
        }
        match file_nodes::child(conn, node.id, name)? {
            Some(child) => node = child,
            None => return Ok(None),
        }
    }
    Ok(Some(Located {
        node,
        path: segments.to_vec(),
    }))
}

/// The most nodes one walk returns (a PROPFIND's responses); a deeper walk is refused.
pub const MAX_WALK_ENTRIES: usize = 10_000;

/// Appends `folder`'s children (and with `deep`, everything below, each folder before its
/// contents) to `nodes`, refusing to go past [`MAX_WALK_ENTRIES`].
pub fn walk(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    folder: &Located,
    deep: bool,
    nodes: &mut Vec<Located>,
) -> Result<(), FileError> {
    for child in children(conn, viewer, folder)? {
        if nodes.len() >= MAX_WALK_ENTRIES {
            return Err(FileError::Forbidden(
                "PROPFIND with Depth: infinity is limited to 10000 entries; use Depth: 1",
            ));
        }
        let descend = deep && child.node.is_folder;
        nodes.push(child.clone());
        if descend {
            walk(conn, viewer, &child, true, nodes)?;
        }
    }
    Ok(())
}

/// A folder's children as the viewer sees them, ordered by name; the viewer's root also holds
/// the team folder mount.
pub fn children(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    folder: &Located,
) -> Result<Vec<Located>, FileError> {
    let mut found: Vec<Located> = file_nodes::children(conn, folder.node.id)?
        .into_iter()
        .filter(|child| {
            !(folder.is_root() && viewer.team_folder.is_some() && child.name == TEAM_FOLDER)
        })
        .map(|node| {
            let mut path = folder.path.clone();
            path.push(node.name.clone());
            Located { node, path }
        })
        .collect();
    if folder.is_root() {
        if let Some(team) = viewer.team_folder {
            found.push(Located {
                node: team_root(conn, team)?,
                path: vec![TEAM_FOLDER.to_string()],
            });
            found.sort_by(|a, b| a.name().cmp(b.name()));
        }
    }
    Ok(found)
}

/// Rows read while answering one request, so that a batch of ids reads each node, folder and
/// user once (the ids of a `filesinfo` in one query, their shared folders once).
#[derive(Debug, Default)]
pub struct Memo {
    nodes: HashMap<i64, Option<FileNodeRow>>,
    display_names: HashMap<String, Option<String>>,
}

impl Memo {
    /// Reads the nodes `ids` not read yet, in one query.
    pub fn preload(&mut self, conn: &mut AnyConnection, ids: &[i64]) -> Result<(), FileError> {
        let missing: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !self.nodes.contains_key(id))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        for id in &missing {
            self.nodes.insert(*id, None);
        }
        for row in file_nodes::find_many(conn, &missing)? {
            self.nodes.insert(row.id, Some(row));
        }
        Ok(())
    }

    pub fn node(
        &mut self,
        conn: &mut AnyConnection,
        id: i64,
    ) -> Result<Option<FileNodeRow>, FileError> {
        if let Some(known) = self.nodes.get(&id) {
            return Ok(known.clone());
        }
        let found = file_nodes::find(conn, id)?;
        self.nodes.insert(id, found.clone());
        Ok(found)
    }

    /// A user's display name, `None` for an unknown user.
    pub fn display_name(
        &mut self,
        conn: &mut AnyConnection,
        uid: &str,
    ) -> Result<Option<String>, FileError> {
        if let Some(known) = self.display_names.get(uid) {
            return Ok(known.clone());
        }
        let found = users::find(conn, uid)?.map(|u| u.display_name);
        self.display_names.insert(uid.to_string(), found.clone());
        Ok(found)
    }
}

/// The path of any node in the viewer's view (walking up to its root), `None` when the viewer
/// cannot see it.
pub fn locate(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    node: FileNodeRow,
    memo: &mut Memo,
) -> Result<Option<Located>, FileError> {
    if !viewer.can_access(&node) {
        return Ok(None);
    }
    let mut path = Vec::new();
    let mut parent = node.parent_id;
    if parent.is_some() {
        path.push(node.name.clone());
    }
    while let Some(id) = parent {
        let Some(up) = memo.node(conn, id)? else {
            return Ok(None);
        };
        if up.parent_id.is_some() {
            path.push(up.name.clone());
        }
        parent = up.parent_id;
    }
    if node.team_folder_id.is_some() {
        path.push(TEAM_FOLDER.to_string());
    }
    path.reverse();
    Ok(Some(Located { node, path }))
}

/// The mime type of a file name, by its extension.
pub fn mime_for(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" => "application/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "doc" => "application/msword",
        "xls" => "application/vnd.ms-excel",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for bad in ["", ".", "..", "a/b", "a\\b", "a\u{0}b", "tab\there"] {
            assert!(valid_name(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "My Project (3)", "..hidden", "plan.pdf", "ümlaut"] {
            assert!(valid_name(good).is_ok(), "{good:?}");
        }
        assert_eq!(mime_for("Plan.PDF"), "application/pdf");
        assert_eq!(mime_for("noext"), "application/octet-stream");
    }
}
