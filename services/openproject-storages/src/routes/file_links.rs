//! File links (openproject-storages.md §10): a work package's links with their live status, the
//! bulk create, single links, and the open and download redirects.

use actix_web::{delete, get, http::StatusCode, post, web, HttpResponse};
use storage_protocol::{
    file_links::{file_links_of, nextcloud_file_urls, LinkStatus},
    hal::Collection,
};

use super::{hal, projects::Query};
use crate::{
    auth::Caller,
    body::{parse_id, JsonBody},
    domain::{file_links::Shown, filters, host::HostError},
    error::ApiError,
    flows,
    representers::host as rep,
    state::State,
};

fn represent(shown: &Shown, status: Option<LinkStatus>) -> storage_protocol::file_links::FileLink {
    rep::file_link(
        &shown.link,
        &shown.storage,
        &shown.container,
        shown.creator.as_ref(),
        shown.can_manage,
        status,
    )
}

/// GET /api/v3/work_packages/{id}/file_links: visible links with their live status (skipped
/// with `pageSize=0`); optional filter `storage`.
#[utoipa::path(responses((status = 200, description = "Collection of file links"), (status = 404, description = "Work package not visible")))]
#[get("/work_packages/{id}/file_links")]
pub async fn list(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let wp_id = parse_id(&id)?;
    let filters = filters::parse(
        query.get("filters").map(String::as_str),
        &[("storage", &["="])],
    )
    .map_err(HostError::from)?;
    let storage_filter = filters
        .iter()
        .find(|f| f.name == "storage")
        .map(|f| filters::ids(&f.values));
    let skip_live = query.get("pageSize").map(|s| s.trim()) == Some("0");
    let (links, statuses) =
        flows::file_links::of_work_package(&state, &caller, wp_id, storage_filter, skip_live)
            .await?;
    let elements = links
        .iter()
        .zip(statuses)
        .map(|(shown, status)| represent(shown, status))
        .collect();
    Ok(hal(
        StatusCode::OK,
        &Collection::unpaged(file_links_of(wp_id), elements),
    ))
}

/// POST /api/v3/work_packages/{id}/file_links: at most 20 elements, all or nothing.
#[utoipa::path(responses((status = 201, description = "Collection of the resulting file links"), (status = 422, description = "Validation failed"), (status = 403, description = "Without manage_file_links")))]
#[post("/work_packages/{id}/file_links")]
pub async fn create(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let wp_id = parse_id(&id)?;
    let created = flows::file_links::create(&state, &caller, wp_id, body.0).await?;
    tracing::info!(
        work_package_id = wp_id,
        count = created.len(),
        "file links created"
    );
    let elements = created
        .iter()
        .map(|shown| represent(shown, Some(LinkStatus::ViewAllowed)))
        .collect();
    Ok(hal(
        StatusCode::CREATED,
        &Collection::unpaged(file_links_of(wp_id), elements),
    ))
}

async fn visible(state: &State, caller: &Caller, raw_id: &str) -> Result<Shown, ApiError> {
    flows::file_links::find_visible(state, caller, parse_id(raw_id)?).await
}

/// GET /api/v3/file_links/{id} (no live check)
#[utoipa::path(responses((status = 200, description = "FileLink"), (status = 404, description = "Not visible")))]
#[get("/file_links/{id}")]
pub async fn get(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let shown = visible(&state, &caller, &id).await?;
    Ok(hal(StatusCode::OK, &represent(&shown, None)))
}

/// DELETE /api/v3/file_links/{id}
#[utoipa::path(responses((status = 204, description = "Deleted"), (status = 403, description = "Without manage_file_links")))]
#[delete("/file_links/{id}")]
pub async fn delete(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    flows::file_links::delete(&state, &caller, id).await?;
    tracing::info!(file_link_id = id, "file link deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// GET /api/v3/file_links/{id}/open: 303 to the file in Nextcloud (`location=true`: its folder).
#[utoipa::path(responses((status = 303, description = "To Nextcloud")))]
#[get("/file_links/{id}/open")]
pub async fn open(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let shown = visible(&state, &caller, &id).await?;
    let host = shown.storage.host.clone().ok_or_else(ApiError::not_found)?;
    let location = query.get("location").map(String::as_str) == Some("true");
    Ok(HttpResponse::SeeOther()
        .insert_header((
            "Location",
            nextcloud_file_urls::open_file(&host, &shown.link.origin_id, location),
        ))
        .finish())
}

/// GET /api/v3/file_links/{id}/download: 303 to a direct download Nextcloud issues for the
/// caller.
#[utoipa::path(responses((status = 303, description = "To the direct download")))]
#[get("/file_links/{id}/download")]
pub async fn download(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let shown = visible(&state, &caller, &id).await?;
    let token = flows::file_links::download_token(&state, &caller, &shown).await?;
    let host = shown.storage.host.clone().ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            "Location",
            nextcloud_file_urls::direct_download(&host, &token, &shown.link.origin_name),
        ))
        .finish())
}
