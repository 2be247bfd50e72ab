//! Direct download links (spec §8): a random token standing for "this file as its creator sees
//! it", valid until it expires.

use service_kit::{crypto, db::AnyConnection};

use super::{
    info::{lookup, Lookup},
    now_secs, FileError, Located, Memo, Viewer,
};
use crate::db::direct_downloads;

pub const TOKEN_LEN: usize = 60;
pub const DEFAULT_LIFETIME_SECS: i64 = 28_800;
pub const MAX_LIFETIME_SECS: i64 = 86_400;
pub const FILES_ONLY: &str = "Direct download only works for files";
/// The OCS message of a file id that names nothing the caller can download.
pub const FILE_NOT_FOUND: &str = "File not found";

#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    #[error("file not found")]
    NotAccessible,
    #[error("{FILES_ONLY}")]
    Folder,
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// A new token for a file the viewer may read; expired tokens are purged on the way.
pub fn create(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    file_id: i64,
    lifetime_secs: i64,
) -> Result<String, DirectError> {
    let located = match lookup(conn, viewer, file_id, &mut Memo::default())? {
        Lookup::Visible(located) => located,
        Lookup::Forbidden | Lookup::NotFound => return Err(DirectError::NotAccessible),
    };
    if located.node.is_folder {
        return Err(DirectError::Folder);
    }
    let now = now_secs();
    direct_downloads::purge_expired(conn, now)?;
    let token = crypto::random_alphanumeric(TOKEN_LEN);
    direct_downloads::insert(
        conn,
        &crypto::digest(&token),
        &viewer.uid,
        file_id,
        now + lifetime_secs,
    )?;
    Ok(token)
}

/// The file of a valid token, as its creator sees it now; `None` when the token is unknown or
/// expired, or the file is gone or no longer accessible.
pub fn resolve(conn: &mut AnyConnection, token: &str) -> Result<Option<Located>, FileError> {
    if token.len() != TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    let Some((uid, file_id)) =
        direct_downloads::find_valid(conn, &crypto::digest(token), now_secs())?
    else {
        return Ok(None);
    };
    let viewer = Viewer::load(conn, &uid)?;
    Ok(
        match lookup(conn, &viewer, file_id, &mut Memo::default())? {
            Lookup::Visible(located) if !located.node.is_folder => Some(*located),
            _ => None,
        },
    )
}
