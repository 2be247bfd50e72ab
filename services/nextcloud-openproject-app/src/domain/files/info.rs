//! `fileinfo` and `filesinfo` records (§5) and the file data linking needs (§6).

use service_kit::db::AnyConnection;
use storage_protocol::files::{
    FileInfo, FileInfoRecord, FileInfoStatus, MIME_DIRECTORY, PATH_PREFIX,
};

use super::{locate, FileError, Located, Memo, Viewer};

/// A node the viewer may see, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Visible(Box<Located>),
    /// Exists in someone else's tree.
    Forbidden,
    NotFound,
}

pub fn lookup(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: i64,
    memo: &mut Memo,
) -> Result<Lookup, FileError> {
    let Some(node) = memo.node(conn, id)? else {
        return Ok(Lookup::NotFound);
    };
    Ok(match locate(conn, viewer, node, memo)? {
        Some(located) => Lookup::Visible(Box::new(located)),
        None => Lookup::Forbidden,
    })
}

/// The records of `raw_ids` in their order; the nodes are read in one query.
pub fn records(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    raw_ids: Vec<String>,
) -> Result<Vec<(String, FileInfoRecord)>, FileError> {
    let mut memo = Memo::default();
    let ids: Vec<i64> = raw_ids.iter().filter_map(|raw| parse(raw)).collect();
    memo.preload(conn, &ids)?;
    raw_ids
        .into_iter()
        .map(|raw| {
            let record = record(conn, viewer, &raw, &mut memo)?;
            Ok((raw, record))
        })
        .collect()
}

fn parse(raw_id: &str) -> Option<i64> {
    raw_id.trim().parse().ok()
}

/// The record of one id as given (non-numeric ids are not found).
pub fn record(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    raw_id: &str,
    memo: &mut Memo,
) -> Result<FileInfoRecord, FileError> {
    let Some(id) = parse(raw_id) else {
        return Ok(FileInfoRecord::Status(FileInfoStatus::not_found()));
    };
    Ok(match lookup(conn, viewer, id, memo)? {
        Lookup::Visible(located) => {
            FileInfoRecord::Found(Box::new(file_info(conn, viewer, &located, memo)?))
        }
        Lookup::Forbidden => FileInfoRecord::Status(FileInfoStatus::forbidden()),
        Lookup::NotFound => FileInfoRecord::Status(FileInfoStatus::not_found()),
    })
}

/// The found record. Team folder items are owned by the requester (as Nextcloud shows them).
pub fn file_info(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    located: &Located,
    memo: &mut Memo,
) -> Result<FileInfo, FileError> {
    let node = &located.node;
    let (owner_id, owner_name) = match &node.owner_uid {
        Some(owner) if *owner != viewer.uid => {
            let name = memo
                .display_name(conn, owner)?
                .unwrap_or_else(|| owner.clone());
            (owner.clone(), name)
        }
        _ => (viewer.uid.clone(), viewer.display_name.clone()),
    };
    let modifier = match &node.modifier_uid {
        Some(uid) if *uid == viewer.uid => Some((uid.clone(), viewer.display_name.clone())),
        Some(uid) => memo
            .display_name(conn, uid)?
            .map(|name| (uid.clone(), name)),
        None => None,
    };
    let mut path = format!("{PATH_PREFIX}{}", located.path.join("/"));
    if node.is_folder && !located.path.is_empty() {
        path.push('/');
    }
    Ok(FileInfo {
        status: storage_protocol::files::messages::OK.into(),
        statuscode: 200,
        id: node.id,
        name: if located.path.is_empty() {
            String::new()
        } else {
            located.name().to_string()
        },
        mtime: node.mtime,
        ctime: node.ctime,
        mimetype: if node.is_folder {
            MIME_DIRECTORY.to_string()
        } else {
            node.mime_type.clone()
        },
        size: node.size,
        owner_id,
        owner_name,
        modifier_id: modifier.as_ref().map(|(id, _)| id.clone()),
        modifier_name: modifier.map(|(_, name)| name),
        dav_permissions: located.permissions().to_string(),
        path,
    })
}

/// What a file link's origin data needs from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfoLink {
    pub id: i64,
    pub name: String,
    pub is_folder: bool,
    pub mime_type: String,
    pub ctime: i64,
    pub mtime: i64,
}

/// The file as the viewer sees it, `None` when missing or not accessible.
pub fn link_data(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: i64,
) -> Result<Option<FileInfoLink>, FileError> {
    Ok(match lookup(conn, viewer, id, &mut Memo::default())? {
        Lookup::Visible(located) => Some(FileInfoLink {
            id: located.node.id,
            name: located.name().to_string(),
            is_folder: located.node.is_folder,
            mime_type: located.node.mime_type.clone(),
            ctime: located.node.ctime,
            mtime: located.node.mtime,
        }),
        _ => None,
    })
}
