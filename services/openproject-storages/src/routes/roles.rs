//! Roles (openproject-storages.md §4).

use actix_web::{get, http::StatusCode, web, HttpResponse};
use storage_protocol::hal::Collection;

use super::hal;
use crate::{
    auth::Caller, body::parse_id, error::ApiError, flows, representers::host as rep, state::State,
};

/// GET /api/v3/roles
#[utoipa::path(responses((status = 200, description = "Collection of roles")))]
#[get("/roles")]
pub async fn list(state: State, _caller: Caller) -> Result<HttpResponse, ApiError> {
    let roles = flows::enumerations::roles(&state).await?;
    Ok(hal(
        StatusCode::OK,
        &Collection::unpaged("/api/v3/roles", roles.iter().map(rep::role).collect()),
    ))
}

/// GET /api/v3/roles/{id}
#[utoipa::path(responses((status = 200, description = "Role")))]
#[get("/roles/{id}")]
pub async fn get(
    state: State,
    _caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let role = flows::enumerations::role(&state, id).await?;
    Ok(hal(StatusCode::OK, &rep::role(&role)))
}
