//! Work-package statuses (openproject-storages.md §5).

use actix_web::{get, http::StatusCode, web, HttpResponse};
use storage_protocol::hal::Collection;

use super::hal;
use crate::{
    auth::Caller, body::parse_id, error::ApiError, flows, representers::host as rep, state::State,
};

/// GET /api/v3/statuses
#[utoipa::path(responses((status = 200, description = "Collection of statuses")))]
#[get("/statuses")]
pub async fn list(state: State, _caller: Caller) -> Result<HttpResponse, ApiError> {
    let e = flows::enumerations::load(&state).await?;
    Ok(hal(
        StatusCode::OK,
        &Collection::unpaged(
            "/api/v3/statuses",
            e.statuses.iter().map(rep::status).collect(),
        ),
    ))
}

/// GET /api/v3/statuses/{id}
#[utoipa::path(responses((status = 200, description = "Status")))]
#[get("/statuses/{id}")]
pub async fn get(
    state: State,
    _caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let e = flows::enumerations::load(&state).await?;
    let found = e.status(id).ok_or_else(ApiError::not_found)?;
    Ok(hal(StatusCode::OK, &rep::status(found)))
}
