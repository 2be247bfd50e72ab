//! Projects and their modules (openproject-storages.md §4).

use std::collections::HashMap;

use actix_web::{delete, get, http::StatusCode, post, put, web, HttpResponse};
use storage_protocol::hal::Paging;

use super::hal;
use crate::{
    auth::Caller,
    body::JsonBody,
    db::projects::Project,
    domain::{
        filters,
        host::{page, HostError},
        permissions::Access,
        projects as domain,
    },
    error::ApiError,
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
    let user = caller.user.clone();
    let projects = state
        .db
        .run(move |conn| {
            let access = Access::load(conn, &user)?;
            let mut ids = access.visible_projects();
            for filter in &filters {
                let wanted = filters::ids(&filter.values);
                ids.retain(|id| wanted.contains(id));
            }
            let projects = Project::find_many(conn, &ids)?;
            domain::views(conn, &access, projects)
        })
        .await?;
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
    let user = caller.user.clone();
    let raw = id.into_inner();
    let view = state
        .db
        .run(move |conn| {
            let (project, access) = domain::find_visible(conn, &user, &raw)?;
            domain::views(conn, &access, vec![project])
        })
        .await?;
    match view.first() {
        Some(view) => Ok(hal(StatusCode::OK, &rep::project_view(view))),
        None => Err(HostError::NotFound.into()),
    }
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
    let user = caller.user.clone();
    let view = state
        .db
        .run(move |conn| {
            let project = domain::create_project(conn, &body.0)?;
            let access = Access::load(conn, &user)?;
            domain::views(conn, &access, vec![project])
        })
        .await?;
    match view.first() {
        Some(view) => Ok(hal(StatusCode::CREATED, &rep::project_view(view))),
        None => Err(HostError::NotFound.into()),
    }
}

/// GET /api/v3/projects/{id}/modules (Extension)
#[utoipa::path(responses((status = 200, description = "ProjectModules")))]
#[get("/projects/{id}/modules")]
pub async fn get_modules(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = caller.user.clone();
    let raw = id.into_inner();
    let (project, modules) = state
        .db
        .run(move |conn| {
            let (project, _) = domain::find_visible(conn, &user, &raw)?;
            let modules = Project::modules(conn, project.id)?;
            Ok::<_, HostError>((project, modules))
        })
        .await?;
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
    let user = caller.user.clone();
    let (raw, module) = path.into_inner();
    let (project, modules) = state
        .db
        .run(move |conn| domain::switch_module(conn, &user, &raw, &module, enable))
        .await?;
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
