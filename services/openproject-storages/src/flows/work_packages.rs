//! Work packages, their forms and assignees (openproject-storages.md §5). A work package's
//! representation needs rows of its own (enumerations, project, users), so the use cases read
//! them in the same trip to the database and return the wire shape.

use serde_json::Value;
use service_kit::time::now_millis;

use crate::{
    auth::Caller,
    db::{
        projects::Project,
        users::User,
        work_packages::{Enumerations, WorkPackage},
        Conn,
    },
    domain::{
        filters::Filter,
        host::HostError,
        permissions::{Access, Permission},
        projects::{self, ProjectView},
        work_packages::{self as domain, FormOutcome, ProjectRef, SortField},
    },
    error::ApiError,
    representers::host as rep,
    state::AppState,
};

/// Work packages as the wire shows them to the holder of `access`.
fn represent(
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
    let views = projects::views(conn, access, vec![project.clone()])?;
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

/// The visible work packages (of the project `project`, when given), filtered and sorted.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    project: Option<String>,
    filters: Vec<Filter>,
    sort: Vec<(SortField, bool)>,
) -> Result<Vec<storage_protocol::work_packages::WorkPackage>, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| {
            let only = match project {
                Some(raw) => Some(projects::find_visible(conn, &user, &raw)?.0.id),
                None => None,
            };
            let (wps, access) = domain::list(conn, &user, only, &filters, &sort)?;
            represent(conn, &access, &wps)
        })
        .await?)
}

/// The projects where the caller may add work packages.
pub async fn available_projects(
    state: &AppState,
    caller: &Caller,
    filters: Vec<Filter>,
) -> Result<Vec<ProjectView>, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| domain::available_projects(conn, &user, &filters))
        .await?)
}

pub async fn get(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<storage_protocol::work_packages::WorkPackage, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| {
            let (wp, access) = domain::find_visible(conn, &user, id)?;
            one(conn, &access, wp)
        })
        .await?)
}

/// Creates a work package in the project `project` names; with its `_embedded` resources.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    project: ProjectRef,
    body: Value,
) -> Result<storage_protocol::work_packages::WorkPackage, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| {
            let wp = domain::create(conn, &user, project, &body, now_millis())?;
            let access = Access::load(conn, &user)?;
            created(conn, &access, &user, wp)
        })
        .await?)
}

/// The form of a new work package in the project `raw_project`, with the assignee it names.
/// Writes nothing.
pub async fn form(
    state: &AppState,
    caller: &Caller,
    raw_project: String,
    body: Value,
) -> Result<(FormOutcome, Option<User>), ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| {
            let outcome = domain::form(conn, &user, &raw_project, &body, now_millis())?;
            let assignee = match outcome.record.assignee_id {
                Some(id) => User::find(conn, id)?,
                None => None,
            };
            Ok::<_, HostError>((outcome, assignee))
        })
        .await?)
}

/// Users who may be assigned in the project `raw_project`.
pub async fn available_assignees(
    state: &AppState,
    caller: &Caller,
    raw_project: String,
) -> Result<Vec<User>, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| domain::available_assignees(conn, &user, &raw_project))
        .await?)
}

/// Updates the work package, given the current lockVersion (409 otherwise).
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: i64,
    body: Value,
) -> Result<storage_protocol::work_packages::WorkPackage, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| {
            let wp = domain::update(conn, &user, id, &body, now_millis())?;
            let access = Access::load(conn, &user)?;
            one(conn, &access, wp)
        })
        .await?)
}
