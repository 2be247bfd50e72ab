//! Memberships of users in projects (openproject-storages.md §4).

use actix_web::{delete, get, http::StatusCode, post, web, HttpResponse};
use storage_protocol::lenient::read_write_body;

use super::{
    hal,
    projects::{paging, Query},
};
use crate::{
    auth::Caller,
    body::{parse_id, JsonBody},
    domain::{
        filters,
        host::{page, HostError},
    },
    error::ApiError,
    flows,
    state::State,
};

/// GET /api/v3/memberships: filters `project`, `principal`.
#[utoipa::path(responses((status = 200, description = "Collection of memberships")))]
#[get("/memberships")]
pub async fn list(state: State, caller: Caller, query: Query) -> Result<HttpResponse, ApiError> {
    let filters = filters::parse(
        query.get("filters").map(String::as_str),
        &[("project", &["="]), ("principal", &["="])],
    )
    .map_err(HostError::from)?;
    let elements = flows::memberships::list(&state, &caller, filters).await?;
    Ok(hal(
        StatusCode::OK,
        &page(&paging(&query), "/api/v3/memberships", elements),
    ))
}

/// GET /api/v3/memberships/{id}
#[utoipa::path(responses((status = 200, description = "Membership")))]
#[get("/memberships/{id}")]
pub async fn get(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let membership = flows::memberships::get(&state, &caller, parse_id(&id)?).await?;
    Ok(hal(StatusCode::OK, &membership))
}

/// POST /api/v3/memberships (admin)
#[utoipa::path(responses((status = 201, description = "Membership"), (status = 422, description = "Validation failed")))]
#[post("/memberships")]
pub async fn create(
    state: State,
    caller: Caller,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let membership = flows::memberships::create(&state, read_write_body(&body.0)).await?;
    Ok(hal(StatusCode::CREATED, &membership))
}

/// DELETE /api/v3/memberships/{id} (admin)
#[utoipa::path(responses((status = 204, description = "Deleted")))]
#[delete("/memberships/{id}")]
pub async fn delete(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    caller.require_admin()?;
    flows::memberships::delete(&state, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
