//! Storage files (openproject-storages.md §11): a Nextcloud folder listing, one file's info and
//! the link of a direct upload, with the caller's Nextcloud token.

use actix_web::{get, http::StatusCode, post, web, HttpResponse};
use storage_protocol::{
    file_links::nextcloud_file_urls,
    hal::{messages::bad_request, ErrorId, HalError},
    storages::upload::{PrepareUploadRequest, UploadLink, REQUEST_BODY_MALFORMED},
};

use super::{hal, projects::Query};
use crate::{
    auth::Caller,
    body::{parse_id, ParsedBody},
    domain::storage_files,
    error::ApiError,
    flows,
    state::State,
};

async fn visible_storage(
    state: &State,
    caller: &Caller,
    raw_id: &str,
) -> Result<crate::db::storages::Storage, ApiError> {
    flows::storages::visible(state, caller, parse_id(raw_id)?).await
}

/// GET /api/v3/storages/{id}/files?parent=<path>: the folder's children, the folder and its
/// ancestors.
#[utoipa::path(responses((status = 200, description = "StorageFiles"), (status = 401, description = "No Nextcloud token")))]
#[get("/storages/{id}/files")]
pub async fn list(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let storage = visible_storage(&state, &caller, &id).await?;
    let parent = storage_files::normalize_location(query.get("parent").map_or("/", String::as_str));
    let listing = flows::storage_files::list(&state, &caller, &storage, &parent).await?;
    Ok(hal(StatusCode::OK, &listing))
}

/// GET /api/v3/storages/{id}/files/{fileId}: Nextcloud's file info.
#[utoipa::path(responses((status = 200, description = "StorageFile")))]
#[get("/storages/{id}/files/{file_id}")]
pub async fn get(
    state: State,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, file_id) = path.into_inner();
    let storage = visible_storage(&state, &caller, &id).await?;
    let file = flows::storage_files::get(&state, &caller, &storage, &file_id).await?;
    Ok(hal(StatusCode::OK, &file))
}

/// POST /api/v3/storages/{id}/files/prepare_upload: body exactly `{projectId, fileName,
/// parent}`; asks Nextcloud for a direct upload token for the folder `parent` and answers the
/// link the browser posts the file to.
#[utoipa::path(responses((status = 200, description = "UploadLink"), (status = 400, description = "Request body malformed"), (status = 403, description = "No manage_file_links in the project, or the storage is not enabled there")))]
#[post("/storages/{id}/files/prepare_upload")]
pub async fn prepare_upload(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    body: ParsedBody,
) -> Result<HttpResponse, ApiError> {
    let storage = visible_storage(&state, &caller, &id).await?;
    let request = body
        .0
        .ok()
        .as_ref()
        .and_then(PrepareUploadRequest::parse)
        .ok_or_else(|| {
            ApiError::hal(HalError::new(
                ErrorId::BadRequest,
                bad_request(REQUEST_BODY_MALFORMED),
            ))
        })?;
    let (host, token) =
        flows::storage_files::prepare_upload(&state, &caller, &storage, &request).await?;
    Ok(hal(
        StatusCode::OK,
        &UploadLink::new(nextcloud_file_urls::direct_upload(&host, &token)),
    ))
}
