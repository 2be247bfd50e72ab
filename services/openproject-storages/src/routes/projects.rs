//! Projects and their modules (openproject-storages.md §4).

use std::collections::HashMap;

use actix_web::{delete, get, http::StatusCode, post, put, web, HttpResponse};
use storage_protocol::{hal::Paging, lenient::read_write_body};

use super::hal;
use crate::{
    auth::Caller,
    body::JsonBody,
    domain::{
        filters,
        host::{page, HostError},
    },
    error::ApiError,
    flows,
    representers::host as rep,
    state::State,
};

pub type Query = web::Query<HashMap<String, String>>;

pub fn paging(query: &Query) -> Paging {
    Paging::parse(
        query.get("pageSize").map(String::as_str),
        query.get("offset").map(String::as_str),
    )
}

/// GET /api/v3/projects: the caller's projects (admins: all); filter `id`.
#[utoipa::path(responses((status = 200, description = "Collection of projects")))]
#[get("/projects")]
pub async fn list(state: State, caller: Caller, query: Query) -> Result<HttpResponse, ApiError> {
    let filters = filters::parse(query.get("filters").map(String::as_str), &[("id", &["="])])
        .map_err(HostError::from)?;
    let projects = flows::projects::list(&state, &caller, filters).await?;
    let elements = projects.iter().map(rep::project_view).collect();
    Ok(hal(
        StatusCode::OK,
        &page(&paging(&query), "/api/v3/projects", elements),
    ))
}

/// GET /api/v3/projects/{idOrIdentifier}
#[utoipa::path(responses((status = 200, description = "Project"), (status = 404, description = "Not visible")))]
#[get("/projects/{id}")]
pub async fn get(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = flows::projects::get(&state, &caller, id.into_inner()).await?;
    Ok(hal(StatusCode::OK, &rep::project_view(&view)))
}

/// POST /api/v3/projects (admin)
#[utoipa::path(responses((status = 201, description = "Project"), (status = 422, description = "Validation failed")))]
#[post("/projects")]
pub async fn create(
    state: State,
    caller: Caller,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let view = flows::projects::create(&state, &caller, read_write_body(&body.0)).await?;
    Ok(hal(StatusCode::CREATED, &rep::project_view(&view)))
}

/// GET /api/v3/projects/{id}/modules (Extension)
#[utoipa::path(responses((status = 200, description = "ProjectModules")))]
#[get("/projects/{id}/modules")]
pub async fn get_modules(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (project, modules) = flows::projects::modules(&state, &caller, id.into_inner()).await?;
    Ok(hal(
        StatusCode::OK,
        &rep::project_modules(&project, &modules),
    ))
}

async fn switch(
    state: State,
    caller: Caller,
    path: web::Path<(String, String)>,
    enable: bool,
) -> Result<HttpResponse, ApiError> {
    let (raw, module) = path.into_inner();
    let (project, modules) =
        flows::projects::switch_module(&state, &caller, raw, module, enable).await?;
    tracing::info!(project_id = project.id, enable, "project module switched");
    Ok(hal(
        StatusCode::OK,
        &rep::project_modules(&project, &modules),
    ))
}

/// PUT /api/v3/projects/{id}/modules/{module} (Extension): enables the module.
#[utoipa::path(responses((status = 200, description = "ProjectModules")))]
#[put("/projects/{id}/modules/{module}")]
pub async fn enable_module(
    state: State,
    caller: Caller,
    path: web::Path<(String, String)>,
    _body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    switch(state, caller, path, true).await
}

/// DELETE /api/v3/projects/{id}/modules/{module} (Extension): disables the module.
#[utoipa::path(responses((status = 200, description = "ProjectModules")))]
#[delete("/projects/{id}/modules/{module}")]
pub async fn disable_module(
    state: State,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    switch(state, caller, path, false).await
}
