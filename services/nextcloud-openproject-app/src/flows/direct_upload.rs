//! Direct upload (spec §10.1): the single-use token for a folder, and the upload it allows.

use crate::{
    domain::files::{
        checksum,
        direct_upload::{self, Grant, Placed},
        mime_for, now_secs,
        ops::NewContent,
        store::Staged,
        Viewer,
    },
    error::ApiError,
    state::AppState,
};

use super::{files::record_staged_as, run};

/// A token for `folder_id`, which `uid` must be able to write to, and its expiry (unix
/// seconds).
pub async fn create_token(
    state: &AppState,
    uid: String,
    folder_id: i64,
) -> Result<(String, i64), ApiError> {
    run(state, move |conn| {
        let viewer = Viewer::load(conn, &uid)?;
        Ok::<_, ApiError>(direct_upload::create_token(
            conn,
            &viewer,
            folder_id,
            now_secs(),
        )?)
    })
    .await
}

/// Uses the token up, whatever happens to the upload after, and checks that its folder is still
/// writable for its user.
pub async fn redeem(state: &AppState, token: String) -> Result<Grant, ApiError> {
    let grant = run(state, move |conn| {
        direct_upload::redeem(conn, &token, now_secs())
    })
    .await?;
    let (uid, folder_id) = (grant.uid.clone(), grant.folder_id);
    run(state, move |conn| {
        let viewer = Viewer::load(conn, &uid)?;
        Ok::<_, ApiError>(direct_upload::writable_folder(conn, &viewer, folder_id).map(drop)?)
    })
    .await?;
    Ok(grant)
}

/// Stores the staged content as `name` in the grant's folder, following `overwrite`; the
/// content it replaces leaves the store. Nothing is left of a failed attempt.
pub async fn place(
    state: &AppState,
    grant: Grant,
    name: String,
    overwrite: Option<bool>,
    staged: Staged,
) -> Result<Placed, ApiError> {
    let checksum = checksum::of_staged(None, &staged).map_err(|e| {
        state.files.discard(&staged);
        ApiError::from(e)
    })?;
    let mime = mime_for(&name);
    let folder_id = grant.folder_id;
    let placed = record_staged_as(state, grant.uid, staged, move |conn, viewer, staged| {
        let content = NewContent {
            staged,
            mime_type: mime,
            client_mtime: None,
            checksum: &checksum,
        };
        direct_upload::place(conn, viewer, folder_id, &name, overwrite, &content)
    })
    .await?;
    state.files.remove(
        &placed
            .outcome
            .replaced_key
            .iter()
            .cloned()
            .collect::<Vec<_>>(),
    );
    Ok(placed)
}
