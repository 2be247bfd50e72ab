//! Storage files (openproject-storages.md §11): a Nextcloud folder listing, one file's info and
//! the link of a direct upload, with the caller's Nextcloud token.

use actix_web::{get, http::StatusCode, post, web, HttpResponse};
use storage_protocol::{
    file_links::nextcloud_file_urls,
    files::FileInfoRecord,
    hal::{messages::bad_request, ErrorId, HalError},
    storages::upload::{PrepareUploadRequest, UploadLink, REQUEST_BODY_MALFORMED},
};

use super::{hal, projects::Query};
use crate::{
    auth::Caller,
    body::{parse_id, ParsedBody},
    db::{oauth_client_credentials::OAuthClientCredentials, oauth_client_tokens::OAuthClientToken},
    domain::{connections::UserBound, files, storage_files, storages as storage_domain, uploads},
    error::ApiError,
    peer::Probe,
    state::State,
};

async fn visible_storage(
    state: &State,
    caller: &Caller,
    raw_id: &str,
) -> Result<crate::db::storages::Storage, ApiError> {
    let id = parse_id(raw_id)?;
    let user = caller.user.clone();
    state
        .db
        .query(move |conn| storage_domain::find_visible(conn, &user, id))
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The caller's Nextcloud user id: remembered with the token, else asked from Nextcloud.
async fn nextcloud_user(
    state: &State,
    caller: &Caller,
    storage: &crate::db::storages::Storage,
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
    match files::user_call(state, caller.user.id, storage, |host, token| async move {
        nextcloud.cloud_user(&host, token.expose()).await
    })
    .await
    {
        UserBound::Answered(Probe::Ok(id)) => Ok(id),
        other => Err(files::failure(other)),
    }
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
    let nc_user = nextcloud_user(&state, &caller, &storage).await?;
    let nextcloud = &state.nextcloud;
    let (user_ref, parent_ref) = (&nc_user, &parent);
    let outcome = files::user_call(&state, caller.user.id, &storage, |host, token| async move {
        nextcloud
            .propfind(&host, token.expose(), user_ref, parent_ref)
            .await
    })
    .await;
    let entries = match outcome {
        UserBound::Answered(Probe::Ok(entries)) => entries,
        other => return Err(files::failure(other)),
    };
    let dav_prefix = format!("/remote.php/dav/files/{nc_user}");
    let listing = storage_files::listing(storage.id, &dav_prefix, &parent, &entries)
        .ok_or_else(files::unreachable_storage)?;
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
    let nextcloud = &state.nextcloud;
    let file_ref = &file_id;
    let outcome = files::user_call(&state, caller.user.id, &storage, |host, token| async move {
        nextcloud.fileinfo(&host, token.expose(), file_ref).await
    })
    .await;
    let record = match outcome {
        UserBound::Answered(Probe::Ok(record)) => record,
        other => return Err(files::failure(other)),
    };
    match record {
        FileInfoRecord::Found(info) if info.statuscode == 200 => Ok(hal(
            StatusCode::OK,
            &storage_files::from_record(storage.id, &info),
        )),
        other => Err(files::record_failure(i64::from(other.statuscode()))),
    }
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
    let (user, storage_id, project_id) = (caller.user.clone(), storage.id, request.project_id);
    state
        .db
        .run(move |conn| {
            uploads::authorize(conn, &user, storage_id, project_id).map_err(ApiError::from)
        })
        .await?;
    let nextcloud = &state.nextcloud;
    let parent = &request.parent;
    let outcome = files::user_call(&state, caller.user.id, &storage, |host, token| async move {
        nextcloud
            .direct_upload_token(&host, token.expose(), parent)
            .await
    })
    .await;
    let token = match outcome {
        UserBound::Answered(Probe::Ok(token)) => token,
        other => return Err(files::failure(other)),
    };
    let host = storage
        .host
        .as_deref()
        .ok_or_else(files::unreachable_storage)?;
    Ok(hal(
        StatusCode::OK,
        &UploadLink::new(nextcloud_file_urls::direct_upload(host, &token.token)),
    ))
}
