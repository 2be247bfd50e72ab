//! Work-package priorities (openproject-storages.md §5).

use actix_web::{get, http::StatusCode, web, HttpResponse};
use storage_protocol::hal::Collection;

use super::hal;
use crate::{
    auth::Caller, body::parse_id, error::ApiError, flows, representers::host as rep, state::State,
};

/// GET /api/v3/priorities
#[utoipa::path(responses((status = 200, description = "Collection of priorities")))]
#[get("/priorities")]
pub async fn list(state: State, _caller: Caller) -> Result<HttpResponse, ApiError> {
    let e = flows::enumerations::load(&state).await?;
    Ok(hal(
        StatusCode::OK,
        &Collection::unpaged(
            "/api/v3/priorities",
            e.priorities.iter().map(rep::priority).collect(),
        ),
    ))
}

/// GET /api/v3/priorities/{id}
#[utoipa::path(responses((status = 200, description = "Priority")))]
#[get("/priorities/{id}")]
pub async fn get(
    state: State,
    _caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let e = flows::enumerations::load(&state).await?;
    let found = e.priority(id).ok_or_else(ApiError::not_found)?;
    Ok(hal(StatusCode::OK, &rep::priority(found)))
}
