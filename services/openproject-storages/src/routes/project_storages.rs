//! Project storages (openproject-storages.md §9).

use actix_web::{delete, get, http::StatusCode, post, web, HttpResponse};
use storage_protocol::{hal::Collection, lenient::read_write_body};

use super::{hal, projects::Query};
use crate::{
    auth::Caller,
    body::{parse_id, JsonBody},
    domain::{
        filters,
        host::HostError,
        project_storages::{self as domain, Shown},
    },
    error::ApiError,
    flows,
    representers::host as rep,
    state::State,
};

fn represent(shown: &Shown) -> storage_protocol::projects::ProjectStorage {
    rep::project_storage(
        &shown.project_storage,
        &shown.project,
        &shown.storage,
        shown.creator.as_ref(),
        shown.can_read_files,
    )
}

/// GET /api/v3/project_storages: visible ones, unpaginated, by id; filters storageId,
/// projectId, storageUrl (and their snake_case spellings).
#[utoipa::path(responses((status = 200, description = "Collection of project storages"), (status = 400, description = "InvalidQuery")))]
#[get("/project_storages")]
pub async fn list(state: State, caller: Caller, query: Query) -> Result<HttpResponse, ApiError> {
    let filters = filters::parse(query.get("filters").map(String::as_str), domain::FILTERS)
        .map_err(HostError::from)?;
    let shown = flows::project_storages::list(&state, &caller, filters).await?;
    let self_href = match query.get("filters") {
        Some(raw) => format!(
            "/api/v3/project_storages?filters={}",
            url::form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>()
        ),
        None => "/api/v3/project_storages".to_string(),
    };
    Ok(hal(
        StatusCode::OK,
        &Collection::unpaged(self_href, shown.iter().map(represent).collect()),
    ))
}

/// GET /api/v3/project_storages/{id}
#[utoipa::path(responses((status = 200, description = "ProjectStorage"), (status = 404, description = "Not visible")))]
#[get("/project_storages/{id}")]
pub async fn get(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let shown = flows::project_storages::find_visible(&state, &caller, parse_id(&id)?).await?;
    Ok(hal(StatusCode::OK, &represent(&shown)))
}

/// GET /api/v3/project_storages/{id}/open: 303 to the project folder when the caller may read
/// it, else to the files app.
#[utoipa::path(responses((status = 303, description = "To Nextcloud")))]
#[get("/project_storages/{id}/open")]
pub async fn open(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let location = flows::project_storages::open(&state, &caller, parse_id(&id)?).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", location))
        .finish())
}

/// POST /api/v3/project_storages (Extension): enables a storage in a project.
#[utoipa::path(responses((status = 201, description = "ProjectStorage"), (status = 422, description = "Validation failed"), (status = 403, description = "Without manage_files_in_project")))]
#[post("/project_storages")]
pub async fn create(
    state: State,
    caller: Caller,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let shown = flows::project_storages::create(&state, &caller, read_write_body(&body.0)).await?;
    tracing::info!(
        project_storage_id = shown.project_storage.id,
        "storage enabled in project"
    );
    Ok(hal(StatusCode::CREATED, &represent(&shown)))
}

/// DELETE /api/v3/project_storages/{id} (Extension): with the project's file links to the
/// storage.
#[utoipa::path(responses((status = 204, description = "Deleted")))]
#[delete("/project_storages/{id}")]
pub async fn delete(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    flows::project_storages::delete(&state, &caller, id).await?;
    tracing::info!(project_storage_id = id, "project storage deleted");
    Ok(HttpResponse::NoContent().finish())
}
