//! Work packages, their forms and assignees (openproject-storages.md §5).

use actix_web::{get, http::StatusCode, patch, post, web, HttpResponse};
use serde::Serialize;
use storage_protocol::hal::Collection;

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
        work_packages::{self as domain, ProjectRef},
    },
    error::ApiError,
    flows,
    representers::host as rep,
    state::State,
};

/// The filters of a work-package list; absent means open ones only.
fn list_filters(query: &Query) -> Result<Vec<Filter>, HostError> {
    match query.get("filters") {
        None => Ok(vec![Filter {
            name: "status".into(),
            operator: "o".into(),
            values: Vec::new(),
        }]),
        Some(raw) => Ok(filters::parse(Some(raw), domain::LIST_FILTERS)?),
    }
}

#[derive(Serialize)]
struct WorkPackageCollection<T> {
    #[serde(flatten)]
    inner: Collection<T>,
}

async fn list_in(
    state: State,
    caller: Caller,
    query: Query,
    project: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let filters = list_filters(&query)?;
    let sort = domain::parse_sort(query.get("sortBy").map(String::as_str))?;
    let paging = paging(&query);
    let self_href = match &project {
        Some(p) => format!("/api/v3/projects/{p}/work_packages"),
        None => "/api/v3/work_packages".to_string(),
    };
    let elements = flows::work_packages::list(&state, &caller, project, filters, sort).await?;
    let mut collection = page(&paging, &self_href, elements);
    collection.type_ = "WorkPackageCollection".into();
    Ok(hal(
        StatusCode::OK,
        &WorkPackageCollection { inner: collection },
    ))
}

/// GET /api/v3/work_packages: filters, sortBy, paging (§5.2).
#[utoipa::path(responses((status = 200, description = "WorkPackageCollection"), (status = 400, description = "InvalidQuery")))]
#[get("/work_packages")]
pub async fn list(state: State, caller: Caller, query: Query) -> Result<HttpResponse, ApiError> {
    list_in(state, caller, query, None).await
}

/// GET /api/v3/projects/{id}/work_packages
#[utoipa::path(responses((status = 200, description = "WorkPackageCollection")))]
#[get("/projects/{id}/work_packages")]
pub async fn list_of_project(
    state: State,
    caller: Caller,
    query: Query,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    list_in(state, caller, query, Some(id.into_inner())).await
}

/// GET /api/v3/work_packages/available_projects: where the caller may add work packages.
#[utoipa::path(responses((status = 200, description = "Collection of projects")))]
#[get("/work_packages/available_projects")]
pub async fn available_projects(
    state: State,
    caller: Caller,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let filters = filters::parse(
        query.get("filters").map(String::as_str),
        domain::AVAILABLE_PROJECTS_FILTERS,
    )
    .map_err(HostError::from)?;
    let projects = flows::work_packages::available_projects(&state, &caller, filters).await?;
    Ok(hal(
        StatusCode::OK,
        &page(
            &paging(&query),
            "/api/v3/work_packages/available_projects",
            projects.iter().map(rep::project_view).collect(),
        ),
    ))
}

/// GET /api/v3/work_packages/{id}
#[utoipa::path(responses((status = 200, description = "WorkPackage"), (status = 404, description = "Not visible")))]
#[get("/work_packages/{id}")]
pub async fn get(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let wp = flows::work_packages::get(&state, &caller, parse_id(&id)?).await?;
    Ok(hal(StatusCode::OK, &wp))
}

async fn create_in(
    state: State,
    caller: Caller,
    body: JsonBody,
    project: ProjectRef,
) -> Result<HttpResponse, ApiError> {
    let wp = flows::work_packages::create(&state, &caller, project, body.0).await?;
    Ok(hal(StatusCode::CREATED, &wp))
}

/// POST /api/v3/work_packages (project in `_links.project`)
#[utoipa::path(responses((status = 201, description = "WorkPackage"), (status = 422, description = "Validation failed")))]
#[post("/work_packages")]
pub async fn create(
    state: State,
    caller: Caller,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    create_in(state, caller, body, ProjectRef::Body).await
}

/// POST /api/v3/projects/{id}/work_packages
#[utoipa::path(responses((status = 201, description = "WorkPackage"), (status = 422, description = "Validation failed")))]
#[post("/projects/{id}/work_packages")]
pub async fn create_in_project(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    create_in(state, caller, body, ProjectRef::Path(id.into_inner())).await
}

/// POST /api/v3/projects/{id}/work_packages/form (Tier 2): the payload with its defaults, the
/// schema, the validation errors, and `commit` only when valid. Writes nothing.
#[utoipa::path(responses((status = 200, description = "Form"), (status = 403, description = "Cannot add work packages"), (status = 404, description = "Project not visible")))]
#[post("/projects/{id}/work_packages/form")]
pub async fn form(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let (outcome, assignee) =
        flows::work_packages::form(&state, &caller, id.into_inner(), body.0).await?;
    let form = rep::work_package_form(&outcome, assignee.as_ref());
    Ok(hal(StatusCode::OK, &form))
}

/// GET /api/v3/projects/{id}/available_assignees (Tier 2): users who may be assigned there.
#[utoipa::path(responses((status = 200, description = "Collection of users"), (status = 403, description = "Cannot add or edit work packages")))]
#[get("/projects/{id}/available_assignees")]
pub async fn available_assignees(
    state: State,
    caller: Caller,
    query: Query,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let self_href = format!("/api/v3/projects/{id}/available_assignees");
    let users = flows::work_packages::available_assignees(&state, &caller, id.into_inner()).await?;
    let elements = users
        .iter()
        .map(|u| crate::representers::user(u, &caller.user))
        .collect();
    Ok(hal(
        StatusCode::OK,
        &page(&paging(&query), &self_href, elements),
    ))
}

/// PATCH /api/v3/work_packages/{id}: with the current lockVersion (409 otherwise).
#[utoipa::path(responses((status = 200, description = "WorkPackage"), (status = 409, description = "UpdateConflict")))]
#[patch("/work_packages/{id}")]
pub async fn update(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let wp = flows::work_packages::update(&state, &caller, parse_id(&id)?, body.0).await?;
    Ok(hal(StatusCode::OK, &wp))
}
