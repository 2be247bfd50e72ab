//! Storage files (openproject-storages.md §11): a Nextcloud folder listing, one file's info and
//! a direct upload token, with the caller's Nextcloud token.

use storage_protocol::{
    file_links::{StorageFile, StorageFiles},
    files::FileInfoRecord,
    storages::upload::PrepareUploadRequest,
};

use super::files::user_call;
use crate::{
    auth::Caller,
    db::{
        oauth_client_credentials::OAuthClientCredentials, oauth_client_tokens::OAuthClientToken,
        storages::Storage,
    },
    domain::{
        connections::UserBound,
        files::{failure, record_failure, FileError},
        storage_files, uploads,
    },
    error::ApiError,
    peer::Probe,
    state::AppState,
};

/// The caller's Nextcloud user id: remembered with the token, else asked from Nextcloud.
async fn nextcloud_user(
    state: &AppState,
    caller: &Caller,
    storage: &Storage,
) -> Result<String, ApiError> {
    let (user_id, storage_id) = (caller.user.id, storage.id);
    let remembered = state
        .db
        .query(move |conn| {
            let Some(credentials) =
                OAuthClientCredentials::for_storages(conn, &[storage_id])?.pop()
            else {
                return Ok(None);
            };
            Ok(OAuthClientToken::find(conn, user_id, credentials.id)?
                .and_then(|t| t.origin_user_id))
        })
        .await?;
    if let Some(id) = remembered {
        return Ok(id);
    }
    let nextcloud = &state.nextcloud;
    match user_call(state, caller.user.id, storage, |host, token| async move {
        nextcloud.cloud_user(&host, token.expose()).await
    })
    .await
    {
        UserBound::Answered(Probe::Ok(id)) => Ok(id),
        other => Err(failure(other).into()),
    }
}

/// The folder `parent`'s children, the folder and its ancestors.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    storage: &Storage,
    parent: &str,
) -> Result<StorageFiles, ApiError> {
    let nc_user = nextcloud_user(state, caller, storage).await?;
    let nextcloud = &state.nextcloud;
    let user_ref = &nc_user;
    let outcome = user_call(state, caller.user.id, storage, |host, token| async move {
        nextcloud
            .propfind(&host, token.expose(), user_ref, parent)
            .await
    })
    .await;
    let entries = match outcome {
        UserBound::Answered(Probe::Ok(entries)) => entries,
        other => return Err(failure(other).into()),
    };
    let dav_prefix = format!("/remote.php/dav/files/{nc_user}");
    Ok(
        storage_files::listing(storage.id, &dav_prefix, parent, &entries)
            .ok_or(FileError::Unreachable)?,
    )
}

/// Nextcloud's info on one file.
pub async fn get(
    state: &AppState,
    caller: &Caller,
    storage: &Storage,
    file_id: &str,
) -> Result<StorageFile, ApiError> {
    let nextcloud = &state.nextcloud;
    let outcome = user_call(state, caller.user.id, storage, |host, token| async move {
        nextcloud.fileinfo(&host, token.expose(), file_id).await
    })
    .await;
    let record = match outcome {
        UserBound::Answered(Probe::Ok(record)) => record,
        other => return Err(failure(other).into()),
    };
    match record {
        FileInfoRecord::Found(info) if info.statuscode == 200 => {
            Ok(storage_files::from_record(storage.id, &info))
        }
        other => Err(record_failure(i64::from(other.statuscode())).into()),
    }
}

/// A direct upload token for the folder `parent`, once the caller may upload into the project;
/// with the host the browser posts the file to.
pub async fn prepare_upload(
    state: &AppState,
    caller: &Caller,
    storage: &Storage,
    request: &PrepareUploadRequest,
) -> Result<(String, String), ApiError> {
    let (user, storage_id, project_id) = (caller.user.clone(), storage.id, request.project_id);
    state
        .db
        .run(move |conn| {
            uploads::authorize(conn, &user, storage_id, project_id).map_err(ApiError::from)
        })
        .await?;
    let nextcloud = &state.nextcloud;
    let parent = &request.parent;
    let outcome = user_call(state, caller.user.id, storage, |host, token| async move {
        nextcloud
            .direct_upload_token(&host, token.expose(), parent)
            .await
    })
    .await;
    let token = match outcome {
        UserBound::Answered(Probe::Ok(token)) => token,
        other => return Err(failure(other).into()),
    };
    let host = storage.host.clone().ok_or(FileError::Unreachable)?;
    Ok((host, token.token))
}
