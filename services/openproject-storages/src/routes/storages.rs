//! File storages (openproject-storages.md §6–§8, §13): the storage resource, its OAuth client
//! credentials, the replacement of its OAuth application, `open` and the health report.

use actix_web::{delete, get, http::StatusCode, patch, post, web, HttpResponse};
use futures_util::future::join_all;
use service_kit::time::{iso8601_millis, now_millis};
use storage_protocol::{
    hal::{messages::bad_request, Collection, ErrorId, HalError},
    lenient::read_write_body,
    pairing::{PairingCodeAnswer, PairingExchange},
    storages::{nextcloud_urls, upload::REQUEST_BODY_MALFORMED, OAuthClientCredentialsWrite},
};

use super::hal;
use crate::{
    auth::Caller,
    body::{parse_id, JsonBody, ParsedBody},
    db::storages::Storage,
    domain::storages::{StorageDetails, StorageInput},
    error::ApiError,
    flows,
    representers::{self, StorageView},
    state::{AppState, State},
};

/// The storage `raw_id` if the caller sees it (§6.1), else 404.
async fn visible(state: &AppState, caller: &Caller, raw_id: &str) -> Result<Storage, ApiError> {
    flows::storages::visible(state, caller, parse_id(raw_id)?).await
}

/// A visible storage that the caller may change: admins only (404 before 403).
async fn administered(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
) -> Result<Storage, ApiError> {
    let storage = visible(state, caller, raw_id).await?;
    caller.require_admin()?;
    Ok(storage)
}

/// The representation for the caller, with the live authorization state.
async fn represent(
    state: &AppState,
    caller: &Caller,
    details: &StorageDetails,
    application_secret: Option<&str>,
    uploads: &[(i64, i64)],
) -> storage_protocol::storages::Storage {
    let authorization_state = flows::storages::authorization_state(state, caller, details).await;
    representers::storage(StorageView {
        details,
        viewer: &caller.user,
        authorization_state,
        application_secret,
        public_url: &state.public_url,
        upload_projects: &uploads
            .iter()
            .filter(|(storage, _)| *storage == details.storage.id)
            .map(|(_, project)| *project)
            .collect::<Vec<_>>(),
    })
}

/// GET /api/v3/storages: every visible storage, unpaginated, by id.
#[utoipa::path(responses((status = 200, description = "Collection of storages")))]
#[get("/storages")]
pub async fn list(state: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    let all = flows::storages::list(&state, &caller).await?;
    let uploads = flows::storages::upload_projects(&state, &caller).await?;
    let elements = join_all(
        all.iter()
            .map(|d| represent(&state, &caller, d, None, &uploads)),
    )
    .await;
    Ok(hal(
        StatusCode::OK,
        &Collection::unpaged("/api/v3/storages", elements),
    ))
}

/// POST /api/v3/storages: a Nextcloud storage and its OAuth application, whose secret the
/// response shows this once.
#[utoipa::path(responses((status = 201, description = "Storage with the OAuth application and its secret"), (status = 422, description = "Validation failed"), (status = 403, description = "Not an admin")))]
#[post("/storages")]
pub async fn create(
    state: State,
    caller: Caller,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let input = StorageInput::from_write(&read_write_body(&body.0));
    let (storage, issued) = flows::storages::create(&state, &caller.user, input).await?;
    let details = flows::storages::one_detail(&state, storage).await?;
    let uploads = flows::storages::upload_projects(&state, &caller).await?;
    let body = represent(
        &state,
        &caller,
        &details,
        Some(issued.client_secret.expose()),
        &uploads,
    )
    .await;
    Ok(hal(StatusCode::CREATED, &body))
}

/// GET /api/v3/storages/{id}
#[utoipa::path(responses((status = 200, description = "Storage"), (status = 404, description = "Not visible")))]
#[get("/storages/{id}")]
pub async fn get(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let details = flows::storages::find_details(&state, &caller, id).await?;
    Ok(hal(
        StatusCode::OK,
        &represent(
            &state,
            &caller,
            &details,
            None,
            &flows::storages::upload_projects(&state, &caller).await?,
        )
        .await,
    ))
}

/// PATCH /api/v3/storages/{id}: the record is validated as a whole; the OAuth application
/// follows the name and host.
#[utoipa::path(responses((status = 200, description = "Storage"), (status = 422, description = "Validation failed")))]
#[patch("/storages/{id}")]
pub async fn update(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let storage = administered(&state, &caller, &id).await?;
    let input = StorageInput::from_write(&read_write_body(&body.0));
    let updated = flows::storages::update(&state, storage, input).await?;
    let details = flows::storages::one_detail(&state, updated).await?;
    Ok(hal(
        StatusCode::OK,
        &represent(
            &state,
            &caller,
            &details,
            None,
            &flows::storages::upload_projects(&state, &caller).await?,
        )
        .await,
    ))
}

/// DELETE /api/v3/storages/{id}: the storage and everything hanging off it, in one transaction.
#[utoipa::path(responses((status = 204, description = "Deleted")))]
#[delete("/storages/{id}")]
pub async fn delete(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let storage = administered(&state, &caller, &id).await?;
    let storage_id = storage.id;
    flows::storages::delete(&state, storage_id).await?;
    tracing::info!(storage_id, "storage deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// GET /api/v3/storages/{id}/open: to the Nextcloud files app.
#[utoipa::path(responses((status = 303, description = "To the Nextcloud files app")))]
#[get("/storages/{id}/open")]
pub async fn open(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let storage = visible(&state, &caller, &id).await?;
    let host = storage.host.ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", nextcloud_urls::files_app(&host)))
        .finish())
}

/// POST /api/v3/storages/{id}/oauth_client_credentials: Nextcloud's client id and secret; every
/// user's Nextcloud tokens for the storage are dropped.
#[utoipa::path(responses((status = 201, description = "OAuthClientCredentials"), (status = 422, description = "Validation failed")))]
#[post("/storages/{id}/oauth_client_credentials")]
pub async fn set_client_credentials(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let storage = administered(&state, &caller, &id).await?;
    let storage_id = storage.id;
    let write: OAuthClientCredentialsWrite = read_write_body(&body.0);
    let credentials = flows::storages::set_client_credentials(&state, storage_id, write).await?;
    tracing::info!(storage_id, "OAuth client credentials replaced");
    Ok(hal(
        StatusCode::CREATED,
        &representers::oauth_client_credentials(&credentials, &storage),
    ))
}

/// POST /api/v3/storages/{id}/oauth_application (Extension): a new application with new
/// credentials, shown once; every grant and token of the old one stops working.
#[utoipa::path(responses((status = 201, description = "OAuthApplication with its secret")))]
#[post("/storages/{id}/oauth_application")]
pub async fn replace_application(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let storage = administered(&state, &caller, &id).await?;
    let issued = flows::storages::replace_application(&state, &storage, caller.user.id).await?;
    tracing::info!(storage_id = storage.id, "OAuth application replaced");
    Ok(hal(
        StatusCode::CREATED,
        &representers::oauth_application(
            &issued.application,
            &storage,
            Some(&caller.user),
            Some(issued.client_secret.expose()),
        ),
    ))
}

/// DELETE /api/v3/storages/{id}/authorization (Extension): the caller disconnects from the
/// storage's Nextcloud; its `authorizationState` becomes `NotConnected`.
#[utoipa::path(responses((status = 204, description = "Disconnected"), (status = 404, description = "Not visible")))]
#[delete("/storages/{id}/authorization")]
pub async fn disconnect(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let storage = visible(&state, &caller, &id).await?;
    flows::storages::disconnect(&state, caller.user.id, storage.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// GET /api/v3/storages/{id}/health (Extension): the live checks, for admins.
#[utoipa::path(responses((status = 200, description = "StorageHealth")))]
#[get("/storages/{id}/health")]
pub async fn health(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let storage = administered(&state, &caller, &id).await?;
    let report = flows::storages::health(&state, &caller, storage).await?;
    Ok(hal(StatusCode::OK, &report))
}

/// POST /api/v3/storages/{id}/pairing_code (Extension): a code that pairs the storage with the
/// Nextcloud it is pasted into, valid ten minutes and once; shown once.
#[utoipa::path(responses((status = 201, description = "PairingCode"), (status = 403, description = "Not an admin"), (status = 404, description = "Not visible")))]
#[post("/storages/{id}/pairing_code")]
pub async fn pairing_code(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let storage = administered(&state, &caller, &id).await?;
    let issued =
        flows::pairing::issue_code(&state, storage.id, caller.user.id, now_millis()).await?;
    tracing::info!(storage = storage.id, "pairing code issued");
    Ok(hal(
        StatusCode::CREATED,
        &PairingCodeAnswer::new(issued.code, iso8601_millis(issued.expires_at)),
    ))
}

/// POST /api/v3/storages/pairing (Extension): Nextcloud's half of the exchange, authenticated by
/// the pairing code alone; answers OpenProject's new OAuth values once.
#[utoipa::path(responses((status = 200, description = "PairingExchangeAnswer"), (status = 400, description = "Request body malformed"), (status = 401, description = "The code does not verify, expired or was used"), (status = 422, description = "Nextcloud's values are invalid, or it is not the storage's host")))]
#[post("/storages/pairing")]
pub async fn exchange_pairing(state: State, body: ParsedBody) -> Result<HttpResponse, ApiError> {
    let request = body
        .0
        .ok()
        .and_then(|value| serde_json::from_value::<PairingExchange>(value).ok())
        .ok_or_else(|| {
            ApiError::hal(HalError::new(
                ErrorId::BadRequest,
                bad_request(REQUEST_BODY_MALFORMED),
            ))
        })?;
    let nextcloud = request.nextcloud_url.clone();
    let answer = flows::pairing::exchange(&state, request, now_millis()).await?;
    tracing::info!(storage = answer.storage_id, %nextcloud, "paired with Nextcloud");
    Ok(hal(StatusCode::OK, &answer))
}

/// GET /api/v3/storages/{id}/pairing (Extension): with which Nextcloud the storage is paired and
/// the last message sent there.
#[utoipa::path(responses((status = 200, description = "StoragePairing"), (status = 403, description = "Not an admin"), (status = 404, description = "Not visible")))]
#[get("/storages/{id}/pairing")]
pub async fn pairing(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let storage = administered(&state, &caller, &id).await?;
    let pairing = flows::pairing::status(&state, storage.id).await?;
    Ok(hal(StatusCode::OK, &pairing))
}

/// A signed message is a few hundred bytes; anything much larger is not one.
const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// POST /api/v3/storages/{id}/peer_messages (Extension): a signed message from the paired
/// Nextcloud (`application/jwt`), authenticated by its signature; 204 once it is applied, now or
/// before.
#[utoipa::path(responses((status = 204, description = "Applied"), (status = 401, description = "The signature, sender or timestamp does not verify"), (status = 404, description = "Not paired")))]
#[post("/storages/{id}/peer_messages")]
pub async fn peer_message(
    state: State,
    id: web::Path<String>,
    req: actix_web::HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let storage_id = parse_id(&id)?;
    let malformed = || {
        ApiError::hal(HalError::new(
            ErrorId::BadRequest,
            bad_request(&storage_protocol::pairing::Refusal::Malformed.to_string()),
        ))
    };
    let body = service_kit::input::read_limited(&req, payload, MAX_MESSAGE_BYTES)
        .await
        .map_err(|_| malformed())?;
    let signed = String::from_utf8(body.to_vec()).map_err(|_| malformed())?;
    flows::pairing::receive(&state, storage_id, signed.trim().to_string(), now_millis()).await?;
    Ok(HttpResponse::NoContent().finish())
}
