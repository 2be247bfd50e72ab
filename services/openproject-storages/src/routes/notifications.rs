//! The caller's notifications (openproject-storages.md §5.3).

use actix_web::{get, http::StatusCode, post, web, HttpResponse};

use super::{
    hal,
    projects::{paging, Query},
};
use crate::{
    auth::Caller,
    body::{parse_id, JsonBody},
    domain::{
        filters::{self, Filter},
        host::{page, HostError},
        work_packages as domain,
    },
    error::ApiError,
    flows,
    state::State,
};

fn notification_filters(query: &Query) -> Result<Vec<Filter>, HostError> {
    Ok(filters::parse(
        query.get("filters").map(String::as_str),
        domain::NOTIFICATION_FILTERS,
    )?)
}

/// GET /api/v3/notifications: the caller's, newest first; filters (§5.3).
#[utoipa::path(responses((status = 200, description = "Collection of notifications")))]
#[get("/notifications")]
pub async fn list(state: State, caller: Caller, query: Query) -> Result<HttpResponse, ApiError> {
    let filters = notification_filters(&query)?;
    let elements = flows::notifications::list(&state, &caller, filters).await?;
    Ok(hal(
        StatusCode::OK,
        &page(&paging(&query), "/api/v3/notifications", elements),
    ))
}

async fn mark_all(
    state: State,
    caller: Caller,
    query: Query,
    read: bool,
) -> Result<HttpResponse, ApiError> {
    let filters = notification_filters(&query)?;
    flows::notifications::mark_all(&state, &caller, filters, read).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /api/v3/notifications/read_ian?filters=…
#[utoipa::path(responses((status = 204, description = "Marked read")))]
#[post("/notifications/read_ian")]
pub async fn read_all(
    state: State,
    caller: Caller,
    query: Query,
    _body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    mark_all(state, caller, query, true).await
}

/// POST /api/v3/notifications/unread_ian?filters=…
#[utoipa::path(responses((status = 204, description = "Marked unread")))]
#[post("/notifications/unread_ian")]
pub async fn unread_all(
    state: State,
    caller: Caller,
    query: Query,
    _body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    mark_all(state, caller, query, false).await
}

/// GET /api/v3/notifications/{id}
#[utoipa::path(responses((status = 200, description = "Notification"), (status = 404, description = "Not the caller's")))]
#[get("/notifications/{id}")]
pub async fn get(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let n = flows::notifications::get(&state, &caller, parse_id(&id)?).await?;
    Ok(hal(StatusCode::OK, &n))
}

async fn mark_one(
    state: State,
    caller: Caller,
    id: &str,
    read: bool,
) -> Result<HttpResponse, ApiError> {
    flows::notifications::mark_one(&state, &caller, parse_id(id)?, read).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /api/v3/notifications/{id}/read_ian
#[utoipa::path(responses((status = 204, description = "Marked read")))]
#[post("/notifications/{id}/read_ian")]
pub async fn read_one(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    _body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    mark_one(state, caller, &id, true).await
}

/// POST /api/v3/notifications/{id}/unread_ian
#[utoipa::path(responses((status = 204, description = "Marked unread")))]
#[post("/notifications/{id}/unread_ian")]
pub async fn unread_one(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    _body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    mark_one(state, caller, &id, false).await
}
