//! The OAuth resources of storages, for admins: OpenProject's application for Nextcloud (§8)
//! and Nextcloud's client credentials held by OpenProject (§7).

use actix_web::{get, http::StatusCode, web, HttpResponse};

use super::hal;
use crate::{auth::Caller, body::parse_id, error::ApiError, flows, representers, state::State};

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
    let (application, storage, owner) = flows::oauth_resources::application(&state, id).await?;
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
    let (credentials, storage) = flows::oauth_resources::client_credentials(&state, id).await?;
    Ok(hal(
        StatusCode::OK,
        &representers::oauth_client_credentials(&credentials, &storage),
    ))
}
