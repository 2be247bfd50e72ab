//! The OAuth resources of storages, for admins: OpenProject's application for Nextcloud (§8)
//! and Nextcloud's client credentials held by OpenProject (§7), each with its storage.

use crate::{
    db::{
        oauth_applications::OAuthApplication, oauth_client_credentials::OAuthClientCredentials,
        storages::Storage, users::User,
    },
    error::ApiError,
    state::AppState,
};

/// The application `id` with its storage and owner, else 404.
pub async fn application(
    state: &AppState,
    id: i64,
) -> Result<(OAuthApplication, Storage, Option<User>), ApiError> {
    state
        .db
        .query(move |conn| {
            let Some(application) = OAuthApplication::find(conn, id)? else {
                return Ok(None);
            };
            let storage = Storage::find(conn, application.storage_id)?;
            let owner = match application.owner_id {
                Some(owner_id) => User::find(conn, owner_id)?,
                None => None,
            };
            Ok(storage.map(|storage| (application, storage, owner)))
        })
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The client credentials `id` with their storage, else 404.
pub async fn client_credentials(
    state: &AppState,
    id: i64,
) -> Result<(OAuthClientCredentials, Storage), ApiError> {
    state
        .db
        .query(move |conn| {
            let Some(credentials) = OAuthClientCredentials::find(conn, id)? else {
                return Ok(None);
            };
            Ok(Storage::find(conn, credentials.storage_id)?.map(|s| (credentials, s)))
        })
        .await?
        .ok_or_else(ApiError::not_found)
}
