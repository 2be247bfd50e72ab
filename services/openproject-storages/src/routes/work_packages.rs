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
    db::{
        projects::Project,
        users::User,
        work_packages::{Enumerations, WorkPackage},
        Conn,
    },
    domain::{
        filters::{self, Filter},
        host::{page, HostError},
        permissions::{Access, Permission},
        work_packages::{self as domain, ProjectRef},
    },
    error::ApiError,
    representers::host as rep,
    state::State,
};

/// Work packages as the wire shows them to the holder of `access`.
pub fn represent(
    conn: &mut Conn,
    access: &Access,
    wps: &[WorkPackage],
) -> Result<Vec<storage_protocol::work_packages::WorkPackage>, HostError> {
    let enumerations = Enumerations::load(conn)?;
    let projects = Project::find_many(conn, &wps.iter().map(|w| w.project_id).collect::<Vec<_>>())?;
    let user_ids: Vec<i64> = wps
        .iter()
        .flat_map(|w| [w.author_id, w.assignee_id])
        .flatten()
        .collect();
    let users = User::find_many(conn, &user_ids)?;
    let find_user = |id: Option<i64>| id.and_then(|id| users.iter().find(|u| u.id == id));
    Ok(wps
        .iter()
        .filter_map(|wp| {
            let project = projects.iter().find(|p| p.id == wp.project_id)?;
            Some(rep::work_package(
                wp,
                &rep::WorkPackageContext {
                    project,
                    enumerations: &enumerations,
                    author: find_user(wp.author_id),
                    assignee: find_user(wp.assignee_id),
                    can_manage_file_links: access
                        .allowed(wp.project_id, Permission::ManageFileLinks),
                    can_edit: access.allowed(wp.project_id, Permission::EditWorkPackages),
                },
            ))
        })
        .collect())
}

/// A created work package with its `_embedded` resources, as its creator sees it.
fn created(
    conn: &mut Conn,
    access: &Access,
    viewer: &User,
    wp: WorkPackage,
) -> Result<storage_protocol::work_packages::WorkPackage, HostError> {
    let enumerations = Enumerations::load(conn)?;
    let project = Project::find(conn, wp.project_id)?.ok_or(HostError::NotFound)?;
    let users = User::find_many(
        conn,
        &[wp.author_id, wp.assignee_id]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
    )?;
    let find_user = |id: Option<i64>| id.and_then(|id| users.iter().find(|u| u.id == id));
    let views = crate::domain::projects::views(conn, access, vec![project.clone()])?;
    let view = views.first().ok_or(HostError::NotFound)?;
    let cx = rep::WorkPackageContext {
        project: &project,
        enumerations: &enumerations,
        author: find_user(wp.author_id),
        assignee: find_user(wp.assignee_id),
        can_manage_file_links: access.allowed(wp.project_id, Permission::ManageFileLinks),
        can_edit: access.allowed(wp.project_id, Permission::EditWorkPackages),
    };
    let mut shown = rep::work_package(&wp, &cx);
    shown.embedded = rep::work_package_embedded(&wp, &cx, view, viewer);
    Ok(shown)
}

fn one(
    conn: &mut Conn,
    access: &Access,
    wp: WorkPackage,
) -> Result<storage_protocol::work_packages::WorkPackage, HostError> {
    represent(conn, access, &[wp])?
        .pop()
        .ok_or(HostError::NotFound)
}

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
    let user = caller.user.clone();
    let paging = paging(&query);
    let self_href = match &project {
        Some(p) => format!("/api/v3/projects/{p}/work_packages"),
        None => "/api/v3/work_packages".to_string(),
    };
    let elements = state
        .db
        .run(move |conn| {
            let only = match project {
                Some(raw) => Some(
                    crate::domain::projects::find_visible(conn, &user, &raw)?
                        .0
                        .id,
                ),
                None => None,
            };
            let (wps, access) = domain::list(conn, &user, only, &filters, &sort)?;
            represent(conn, &access, &wps)
        })
        .await?;
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
    let user = caller.user.clone();
    let projects = state
        .db
        .run(move |conn| domain::available_projects(conn, &user, &filters))
        .await?;
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
    let id = parse_id(&id)?;
    let user = caller.user.clone();
    let wp = state
        .db
        .run(move |conn| {
            let (wp, access) = domain::find_visible(conn, &user, id)?;
            one(conn, &access, wp)
        })
        .await?;
    Ok(hal(StatusCode::OK, &wp))
}

async fn create_in(
    state: State,
    caller: Caller,
    body: JsonBody,
    project: ProjectRef,
) -> Result<HttpResponse, ApiError> {
    let user = caller.user.clone();
    let wp = state
        .db
        .run(move |conn| {
            let wp = domain::create(conn, &user, project, &body.0)?;
            let access = Access::load(conn, &user)?;
            created(conn, &access, &user, wp)
        })
        .await?;
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
    let user = caller.user.clone();
    let form = state
        .db
        .run(move |conn| {
            let outcome = domain::form(conn, &user, &id, &body.0)?;
            let assignee = match outcome.record.assignee_id {
                Some(id) => User::find(conn, id)?,
                None => None,
            };
            Ok::<_, HostError>(rep::work_package_form(&outcome, assignee.as_ref()))
        })
        .await?;
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
    let user = caller.user.clone();
    let self_href = format!("/api/v3/projects/{id}/available_assignees");
    let viewer = caller.user.clone();
    let users = state
        .db
        .run(move |conn| domain::available_assignees(conn, &user, &id))
        .await?;
    let elements = users
        .iter()
        .map(|u| crate::representers::user(u, &viewer))
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
    let id = parse_id(&id)?;
    let user = caller.user.clone();
    let wp = state
        .db
        .run(move |conn| {
            let wp = domain::update(conn, &user, id, &body.0)?;
            let access = Access::load(conn, &user)?;
            one(conn, &access, wp)
        })
        .await?;
    Ok(hal(StatusCode::OK, &wp))
}
