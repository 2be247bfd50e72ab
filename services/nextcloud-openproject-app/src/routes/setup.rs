//! `POST`, `PATCH` and `DELETE APP/setup` (contract §3.1): admin only, no CSRF check.

use actix_web::{web, HttpRequest, HttpResponse};
use storage_protocol::integration_app::{
    SetupDeleteResponse, SetupPatchResponse, SetupPostResponse,
};

use crate::{
    auth::MaybeUser,
    body,
    domain::{
        settings::{self, SetupMethod},
        setup::{PatchClient, PatchOutcome, PostOutcome},
    },
    error::ApiError,
    flows,
    state::AppState,
};

/// POST APP/setup — validates, then sets everything up in one transaction and rotates the
/// Nextcloud OAuth client.
pub async fn post(
    req: HttpRequest,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let changes = settings::parse_setup(&raw, SetupMethod::Post).map_err(ApiError::BadRequest)?;
    let outcome = flows::setup::post(&state, changes).await?;
    Ok(HttpResponse::Ok().json(SetupPostResponse::from(outcome)))
}

/// PATCH APP/setup — the keys sent, no rotation.
pub async fn patch(
    req: HttpRequest,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let changes = settings::parse_setup(&raw, SetupMethod::Patch).map_err(ApiError::BadRequest)?;
    let outcome = flows::setup::patch(&state, changes).await?;
    Ok(HttpResponse::Ok().json(SetupPatchResponse::from(outcome)))
}

/// DELETE APP/setup — resets the integration (any body is ignored).
pub async fn delete(
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.require_admin()?.uid.clone();
    flows::setup::reset(&state, admin).await?;
    Ok(HttpResponse::Ok().json(SetupDeleteResponse { status: true }))
}

impl From<PostOutcome> for SetupPostResponse {
    fn from(outcome: PostOutcome) -> Self {
        let issued = outcome.client;
        Self {
            status: outcome.status,
            nextcloud_oauth_client_name: issued.client.name,
            openproject_redirect_uri: issued.client.redirect_uri,
            nextcloud_client_id: issued.client.client_id,
            nextcloud_client_secret: issued.secret.expose().to_string(),
            openproject_user_app_password: outcome.app_password,
        }
    }
}

impl From<PatchOutcome> for SetupPatchResponse {
    fn from(outcome: PatchOutcome) -> Self {
        let mut response = Self {
            status: outcome.status,
            id: None,
            nextcloud_oauth_client_name: None,
            openproject_redirect_uri: None,
            nextcloud_client_id: None,
            nextcloud_client_secret: None,
            openproject_user_app_password: outcome.app_password,
        };
        let client = match outcome.client {
            PatchClient::Existing(client) => {
                response.id = Some(client.id);
                client
            }
            PatchClient::Created(issued) => {
                response.nextcloud_client_secret = Some(issued.secret.expose().to_string());
                issued.client
            }
            PatchClient::NoClient => return response,
        };
        response.nextcloud_oauth_client_name = Some(client.name);
        response.openproject_redirect_uri = Some(client.redirect_uri);
        response.nextcloud_client_id = Some(client.client_id);
        response
    }
}
