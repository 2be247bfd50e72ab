//! Projects and their modules (openproject-storages.md §4).

use service_kit::time::now_millis;
use storage_protocol::projects::ProjectWrite;

use crate::{
    auth::Caller,
    db::projects::Project,
    domain::{
        filters::{self, Filter},
        host::HostError,
        permissions::Access,
        projects::{self as domain, ProjectView},
    },
    error::ApiError,
    state::AppState,
};

/// The caller's projects (admins: all), narrowed by the filter `id`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    filters: Vec<Filter>,
) -> Result<Vec<ProjectView>, ApiError> {
    let user = caller.user.clone();
    Ok(state
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
        .await?)
}

/// The project `raw` (id or identifier) as the caller sees it.
pub async fn get(state: &AppState, caller: &Caller, raw: String) -> Result<ProjectView, ApiError> {
    let user = caller.user.clone();
    let views = state
        .db
        .run(move |conn| {
            let (project, access) = domain::find_visible(conn, &user, &raw)?;
            domain::views(conn, &access, vec![project])
        })
        .await?;
    Ok(views.into_iter().next().ok_or(HostError::NotFound)?)
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    write: ProjectWrite,
) -> Result<ProjectView, ApiError> {
    let user = caller.user.clone();
    let views = state
        .db
        .run(move |conn| {
            let project = domain::create_project(conn, &write, now_millis())?;
            let access = Access::load(conn, &user)?;
            domain::views(conn, &access, vec![project])
        })
        .await?;
    Ok(views.into_iter().next().ok_or(HostError::NotFound)?)
}

/// The visible project `raw` with its enabled modules.
pub async fn modules(
    state: &AppState,
    caller: &Caller,
    raw: String,
) -> Result<(Project, Vec<String>), ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| {
            let (project, _) = domain::find_visible(conn, &user, &raw)?;
            let modules = Project::modules(conn, project.id)?;
            Ok::<_, HostError>((project, modules))
        })
        .await?)
}

/// Enables or disables the module in the project `raw`; the project with its modules after.
pub async fn switch_module(
    state: &AppState,
    caller: &Caller,
    raw: String,
    module: String,
    enable: bool,
) -> Result<(Project, Vec<String>), ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| domain::switch_module(conn, &user, &raw, &module, enable))
        .await?)
}
