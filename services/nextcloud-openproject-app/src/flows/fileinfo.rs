//! What OpenProject learns about linked files with a user's token (spec §5), each request read
//! in one snapshot.

use storage_protocol::files::{FileInfoRecord, FilesInfo};

use crate::{
    domain::files::{info, Memo, Viewer},
    error::ApiError,
    state::AppState,
};

/// The record of one file id as `uid` sees it.
pub async fn record(
    state: &AppState,
    uid: String,
    file_id: String,
) -> Result<FileInfoRecord, ApiError> {
    state
        .db
        .read(move |conn| {
            let viewer = Viewer::load(conn, &uid)?;
            Ok::<_, ApiError>(info::record(conn, &viewer, &file_id, &mut Memo::default())?)
        })
        .await
}

/// One record per distinct id, in request order.
pub async fn records(
    state: &AppState,
    uid: String,
    ids: Vec<String>,
) -> Result<FilesInfo, ApiError> {
    state
        .db
        .read(move |conn| {
            let viewer = Viewer::load(conn, &uid)?;
            Ok::<_, ApiError>(FilesInfo(info::records(conn, &viewer, ids)?))
        })
        .await
}
