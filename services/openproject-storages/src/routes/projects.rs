//! Projects, their modules, roles and memberships (openproject-storages.md §4).

use std::collections::HashMap;

use actix_web::{delete, get, http::StatusCode, post, put, web, HttpResponse};
use storage_protocol::hal::{Collection, Paging};

use super::hal;
use crate::{
    db::{
        projects::{Membership, Project, Role},
        users::User,
        Conn,
    },
    domain::{
        filters,
        host::{page, HostError},
        permissions::Access,
        projects as domain,
    },
    error::ApiError,
    extract::{parse_id, Caller, JsonBody},
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

/// GET /api/v3/roles
#[utoipa::path(responses((status = 200, description = "Collection of roles")))]
#[get("/roles")]
pub async fn list_roles(state: State, _caller: Caller) -> Result<HttpResponse, ApiError> {
    let roles = state.db.query(Role::all).await?;
    Ok(hal(
        StatusCode::OK,
        &Collection::unpaged("/api/v3/roles", roles.iter().map(rep::role).collect()),
    ))
}

/// GET /api/v3/roles/{id}
#[utoipa::path(responses((status = 200, description = "Role")))]
#[get("/roles/{id}")]
pub async fn get_role(
    state: State,
    _caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let role = state
        .db
        .query(move |conn| Role::find(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(hal(StatusCode::OK, &rep::role(&role)))
}

/// Memberships with their project, principal and roles, as the wire shows them.
fn represent_memberships(
    conn: &mut Conn,
    memberships: &[Membership],
) -> Result<Vec<storage_protocol::projects::Membership>, HostError> {
    let projects = Project::find_many(
        conn,
        &memberships.iter().map(|m| m.project_id).collect::<Vec<_>>(),
    )?;
    let users = User::find_many(
        conn,
        &memberships.iter().map(|m| m.user_id).collect::<Vec<_>>(),
    )?;
    let roles = Role::all(conn)?;
    let pairs = Membership::roles_of(conn, &memberships.iter().map(|m| m.id).collect::<Vec<_>>())?;
    let mut out = Vec::new();
    for m in memberships {
        let Some(project) = projects.iter().find(|p| p.id == m.project_id) else {
            continue;
        };
        let held: Vec<&Role> = pairs
            .iter()
            .filter(|(mid, _)| *mid == m.id)
            .filter_map(|(_, rid)| roles.iter().find(|r| r.id == *rid))
            .collect();
        out.push(rep::membership(
            m,
            project,
            users.iter().find(|u| u.id == m.user_id),
            &held,
        ));
    }
    Ok(out)
}

/// GET /api/v3/memberships: filters `project`, `principal`.
#[utoipa::path(responses((status = 200, description = "Collection of memberships")))]
#[get("/memberships")]
pub async fn list_memberships(
    state: State,
    caller: Caller,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let filters = filters::parse(
        query.get("filters").map(String::as_str),
        &[("project", &["="]), ("principal", &["="])],
    )
    .map_err(HostError::from)?;
    let user = caller.user.clone();
    let elements = state
        .db
        .run(move |conn| {
            let mut visible = domain::visible_memberships(conn, &user)?;
            for filter in &filters {
                let wanted = filters::ids(&filter.values);
                visible.retain(|m| {
                    let id = if filter.name == "project" {
                        m.project_id
                    } else {
                        m.user_id
                    };
                    wanted.contains(&id)
                });
            }
            represent_memberships(conn, &visible)
        })
        .await?;
    Ok(hal(
        StatusCode::OK,
        &page(&paging(&query), "/api/v3/memberships", elements),
    ))
}

/// GET /api/v3/memberships/{id}
#[utoipa::path(responses((status = 200, description = "Membership")))]
#[get("/memberships/{id}")]
pub async fn get_membership(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let user = caller.user.clone();
    let mut found = state
        .db
        .run(move |conn| {
            let visible: Vec<Membership> = domain::visible_memberships(conn, &user)?
                .into_iter()
                .filter(|m| m.id == id)
                .collect();
            represent_memberships(conn, &visible)
        })
        .await?;
    let membership = found.pop().ok_or_else(ApiError::not_found)?;
    Ok(hal(StatusCode::OK, &membership))
}

/// POST /api/v3/memberships (admin)
#[utoipa::path(responses((status = 201, description = "Membership"), (status = 422, description = "Validation failed")))]
#[post("/memberships")]
pub async fn create_membership(
    state: State,
    caller: Caller,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let mut created = state
        .db
        .run(move |conn| {
            let membership = domain::create_membership(conn, &body.0)?;
            represent_memberships(conn, &[membership])
        })
        .await?;
    let membership = created
        .pop()
        .ok_or_else(|| anyhow::anyhow!("created membership has no project"))?;
    Ok(hal(StatusCode::CREATED, &membership))
}

/// DELETE /api/v3/memberships/{id} (admin)
#[utoipa::path(responses((status = 204, description = "Deleted")))]
#[delete("/memberships/{id}")]
pub async fn delete_membership(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    caller.require_admin()?;
    let deleted = state
        .db
        .query(move |conn| Membership::delete(conn, id))
        .await?;
    if deleted == 0 {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::NoContent().finish())
}
