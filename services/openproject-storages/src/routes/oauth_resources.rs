//! The OAuth resources of storages, for admins: OpenProject's application for Nextcloud (§8)
//! and Nextcloud's client credentials held by OpenProject (§7).

use actix_web::{get, http::StatusCode, web, HttpResponse};

use super::hal;
use crate::{
    auth::Caller,
    body::parse_id,
    db::{
        oauth_applications::OAuthApplication, oauth_client_credentials::OAuthClientCredentials,
        storages::Storage, users::User,
    },
    error::ApiError,
    representers,
    state::State,
};

/// GET /api/v3/oauth_applications/{id}: without the secret.
#[utoipa::path(responses((status = 200, description = "OAuthApplication"), (status = 403, description = "Not an admin"), (status = 404, description = "Unknown")))]
#[get("/oauth_applications/{id}")]
pub async fn application(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = parse_id(&id)?;
    let found = state
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
        .await?;
    let (application, storage, owner) = found.ok_or_else(ApiError::not_found)?;
    Ok(hal(
        StatusCode::OK,
        &representers::oauth_application(&application, &storage, owner.as_ref(), None),
    ))
}

/// GET /api/v3/oauth_client_credentials/{id}: the secret is never shown.
#[utoipa::path(responses((status = 200, description = "OAuthClientCredentials"), (status = 403, description = "Not an admin"), (status = 404, description = "Unknown")))]
#[get("/oauth_client_credentials/{id}")]
pub async fn client_credentials(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let id = parse_id(&id)?;
    let found = state
        .db
        .query(move |conn| {
            let Some(credentials) = OAuthClientCredentials::find(conn, id)? else {
                return Ok(None);
            };
            Ok(Storage::find(conn, credentials.storage_id)?.map(|s| (credentials, s)))
        })
        .await?;
    let (credentials, storage) = found.ok_or_else(ApiError::not_found)?;
    Ok(hal(
        StatusCode::OK,
        &representers::oauth_client_credentials(&credentials, &storage),
    ))
}
