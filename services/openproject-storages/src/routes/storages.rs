//! File storages (openproject-storages.md §6–§8, §13): the storage resource, its OAuth client
//! credentials, the replacement of its OAuth application, `open` and the health report.

use actix_web::{delete, get, http::StatusCode, patch, post, web, HttpResponse};
use futures_util::future::join_all;
use service_kit::time::{iso8601_millis, now_millis};
use storage_protocol::{
    hal::Collection,
    lenient::read_write_body,
    storages::{nextcloud_urls, OAuthClientCredentialsWrite},
};

use super::hal;
use crate::{
    auth::Caller,
    body::{parse_id, JsonBody},
    db::storages::Storage,
    domain::{
        connections::{self, with_user_token, Outbound, Remote, UserBound},
        storage_health::{self, HealthInput, UserRequest},
        storages::{self as domain, StorageDetails, StorageError, StorageInput},
        uploads,
    },
    error::ApiError,
    peer::Probe,
    representers::{self, StorageView},
    state::{AppState, State},
};

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Invalid(errors) => ApiError::validation(errors),
            StorageError::NotFound => ApiError::not_found(),
            StorageError::Db(e) => e.into(),
            StorageError::Unexpected(e) => e.into(),
        }
    }
}

/// The storage `raw_id` if the caller sees it (§6.1), else 404.
async fn visible(state: &AppState, caller: &Caller, raw_id: &str) -> Result<Storage, ApiError> {
    let id = parse_id(raw_id)?;
    let user = caller.user.clone();
    state
        .db
        .query(move |conn| domain::find_visible(conn, &user, id))
        .await?
        .ok_or_else(ApiError::not_found)
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

async fn details(
    state: &AppState,
    storages: Vec<Storage>,
) -> Result<Vec<StorageDetails>, ApiError> {
    Ok(state
        .db
        .query(move |conn| domain::details(conn, storages))
        .await?)
}

async fn one_detail(state: &AppState, storage: Storage) -> Result<StorageDetails, ApiError> {
    details(state, vec![storage])
        .await?
        .pop()
        .ok_or_else(ApiError::not_found)
}

/// The (storage, project) pairs where the caller may upload (`prepareUpload` links).
async fn upload_projects(state: &AppState, caller: &Caller) -> Result<Vec<(i64, i64)>, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .query(move |conn| uploads::upload_projects(conn, &user))
        .await?)
}

/// The representation for the caller, with the live authorization state.
async fn represent(
    state: &AppState,
    caller: &Caller,
    details: &StorageDetails,
    application_secret: Option<&str>,
    uploads: &[(i64, i64)],
) -> storage_protocol::storages::Storage {
    let authorization_state = connections::authorization_state(
        &state.db,
        &state.nextcloud,
        &state.secret_box,
        caller.user.id,
        &details.storage,
        details.credentials.as_ref(),
    )
    .await;
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
    let user = caller.user.clone();
    let storages = state
        .db
        .query(move |conn| domain::visible_storages(conn, &user))
        .await?;
    let all = details(&state, storages).await?;
    let uploads = upload_projects(&state, &caller).await?;
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
    let (storage, issued) = domain::create(
        &state.db,
        &state.nextcloud,
        &state.secret_box,
        &caller.user,
        input,
    )
    .await?;
    let details = one_detail(&state, storage).await?;
    let uploads = upload_projects(&state, &caller).await?;
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
    let user = caller.user.clone();
    // Finding the storage and what hangs off it share one trip to the database.
    let details = state
        .db
        .query(move |conn| match domain::find_visible(conn, &user, id)? {
            Some(storage) => Ok(domain::details(conn, vec![storage])?.pop()),
            None => Ok(None),
        })
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(hal(
        StatusCode::OK,
        &represent(
            &state,
            &caller,
            &details,
            None,
            &upload_projects(&state, &caller).await?,
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
    let updated = domain::update(
        &state.db,
        &state.nextcloud,
        &state.secret_box,
        storage,
        input,
    )
    .await?;
    let details = one_detail(&state, updated).await?;
    Ok(hal(
        StatusCode::OK,
        &represent(
            &state,
            &caller,
            &details,
            None,
            &upload_projects(&state, &caller).await?,
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
    state
        .db
        .run(move |conn| domain::delete(conn, storage_id))
        .await?;
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
    let app_state = state.clone();
    let storage_id = storage.id;
    let write: OAuthClientCredentialsWrite = read_write_body(&body.0);
    let credentials = state
        .db
        .run(move |conn| {
            domain::set_client_credentials(conn, &app_state.secret_box, storage_id, &write)
        })
        .await?;
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
    let owner_id = caller.user.id;
    let for_replace = storage.clone();
    let issued = state
        .db
        .run(move |conn| domain::replace_application(conn, &for_replace, owner_id))
        .await?;
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
    let (user_id, storage_id) = (caller.user.id, storage.id);
    state
        .db
        .query(move |conn| connections::disconnect(conn, user_id, storage_id))
        .await?;
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
    let details = one_detail(&state, storage).await?;
    let user_request = match (
        details.credentials.as_ref(),
        details.storage.host.as_deref(),
    ) {
        (Some(credentials), Some(host)) => {
            let out = Outbound {
                db: &state.db,
                nextcloud: &state.nextcloud,
                secret_box: &state.secret_box,
            };
            let remote = Remote { host, credentials };
            let nextcloud = &state.nextcloud;
            let outcome = with_user_token(out, caller.user.id, remote, |token| async move {
                nextcloud.cloud_user(host, token.expose()).await
            })
            .await;
            match outcome {
                UserBound::NotConnected => UserRequest::NoToken,
                UserBound::Answered(Probe::Ok(_)) => UserRequest::Succeeded,
                UserBound::Answered(Probe::Status(reqwest::StatusCode::NOT_FOUND)) => {
                    UserRequest::NotFound
                }
                UserBound::RefreshFailed | UserBound::Unauthorized => UserRequest::Unauthorized,
                UserBound::Answered(_) | UserBound::Unexpected(_) => UserRequest::Failed,
            }
        }
        _ => UserRequest::NoToken,
    };
    let (application_password, secret_key_changed) = details.stored_secrets(&state.secret_box);
    let input = HealthInput {
        storage_id: details.storage.id,
        host: details.storage.host.clone(),
        configured: details.configured(),
        secret_key_changed,
        user_request,
        application_password: application_password.map(|p| p.expose().to_string()),
    };
    let report = storage_health::check(&state.nextcloud, input, iso8601_millis(now_millis())).await;
    Ok(hal(StatusCode::OK, &report))
}
