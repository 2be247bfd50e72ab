//! File links (openproject-storages.md §10): a work package's links with their live status, the
//! bulk create, single links, and the open and download redirects.

use std::collections::HashMap;

use actix_web::{delete, get, http::StatusCode, post, web, HttpResponse};
use futures_util::future::join_all;
use storage_protocol::{
    file_links::{file_links_of, nextcloud_file_urls, LinkStatus},
    hal::Collection,
};

use super::{hal, projects::Query};
use crate::{
    auth::Caller,
    body::{parse_id, JsonBody},
    domain::{
        connections::UserBound,
        file_links::{self as domain, Shown},
        files, filters,
        host::HostError,
    },
    error::ApiError,
    peer::Probe,
    representers::host as rep,
    state::{AppState, State},
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

/// One `filesinfo` call per storage with the caller's token; `None` when it failed in any way.
async fn live_statuses(
    state: &AppState,
    user_id: i64,
    links: &[Shown],
) -> HashMap<i64, Option<storage_protocol::files::FilesInfo>> {
    let mut by_storage: Vec<(crate::db::storages::Storage, Vec<String>)> = Vec::new();
    for shown in links {
        match by_storage
            .iter_mut()
            .find(|(s, _)| s.id == shown.storage.id)
        {
            Some((_, ids)) => {
                if !ids.contains(&shown.link.origin_id) {
                    ids.push(shown.link.origin_id.clone());
                }
            }
            None => by_storage.push((shown.storage.clone(), vec![shown.link.origin_id.clone()])),
        }
    }
    let nextcloud = &state.nextcloud;
    let calls = by_storage.iter().map(|(storage, ids)| async move {
        let outcome = files::user_call(state, user_id, storage, |host, token| async move {
            nextcloud.filesinfo(&host, token.expose(), ids).await
        })
        .await;
        let answer = match outcome {
            UserBound::Answered(Probe::Ok(info)) => Some(info),
            _ => None,
        };
        (storage.id, answer)
    });
    join_all(calls).await.into_iter().collect()
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
    let user = caller.user.clone();
    let mut links = state
        .db
        .run(move |conn| domain::of_work_package(conn, &user, wp_id, storage_filter))
        .await?;
    let skip_live = query.get("pageSize").map(|s| s.trim()) == Some("0");
    let statuses: Vec<Option<LinkStatus>> = if skip_live || links.is_empty() {
        vec![None; links.len()]
    } else {
        let answers = live_statuses(&state, caller.user.id, &links).await;
        let raw: Vec<_> = links.iter().map(|s| s.link.clone()).collect();
        let computed = domain::statuses_from(&raw, &answers);
        let refreshes: Vec<_> = computed.iter().map(|(_, r)| r.clone()).collect();
        if refreshes.iter().any(Option::is_some) {
            let mut shown = links;
            shown = state
                .db
                .run(move |conn| {
                    domain::apply_refresh(conn, &mut shown, &refreshes)?;
                    Ok::<_, HostError>(shown)
                })
                .await?;
            links = shown;
        }
        computed.into_iter().map(|(s, _)| Some(s)).collect()
    };
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
    let user = caller.user.clone();
    let created = state
        .db
        .run(move |conn| domain::create(conn, &user, wp_id, &body.0))
        .await?;
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
    let id = parse_id(raw_id)?;
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| domain::find_visible(conn, &user, id))
        .await?)
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
    let user = caller.user.clone();
    state
        .db
        .run(move |conn| domain::delete(conn, &user, id))
        .await?;
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
    let nextcloud = &state.nextcloud;
    let origin_id = shown.link.origin_id.clone();
    let origin = &origin_id;
    let outcome = files::user_call(
        &state,
        caller.user.id,
        &shown.storage,
        |host, token| async move {
            nextcloud
                .direct_download_url(&host, token.expose(), origin)
                .await
        },
    )
    .await;
    let url = match outcome {
        UserBound::Answered(Probe::Ok(url)) => url,
        other => return Err(files::failure(other)),
    };
    let token = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|t| !t.is_empty())
        .ok_or_else(files::unreachable_storage)?;
    let host = shown.storage.host.clone().ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            "Location",
            nextcloud_file_urls::direct_download(&host, token, &shown.link.origin_name),
        ))
        .finish())
}
