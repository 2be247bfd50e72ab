//! Work-package types (openproject-storages.md §5).

use actix_web::{get, http::StatusCode, web, HttpResponse};
use storage_protocol::hal::Collection;

use super::hal;
use crate::{
    auth::Caller, body::parse_id, error::ApiError, flows, representers::host as rep, state::State,
};

/// GET /api/v3/types
#[utoipa::path(responses((status = 200, description = "Collection of types")))]
#[get("/types")]
pub async fn list(state: State, _caller: Caller) -> Result<HttpResponse, ApiError> {
    let e = flows::enumerations::load(&state).await?;
    Ok(hal(
        StatusCode::OK,
        &Collection::unpaged("/api/v3/types", e.types.iter().map(rep::type_).collect()),
    ))
}

/// GET /api/v3/types/{id}
#[utoipa::path(responses((status = 200, description = "Type")))]
#[get("/types/{id}")]
pub async fn get(
    state: State,
    _caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let e = flows::enumerations::load(&state).await?;
    let found = e.type_(id).ok_or_else(ApiError::not_found)?;
    Ok(hal(StatusCode::OK, &rep::type_(found)))
}
