//! Memberships of users in projects (openproject-storages.md §4).

use actix_web::{delete, get, http::StatusCode, post, web, HttpResponse};

use super::{
    hal,
    projects::{paging, Query},
};
use crate::{
    auth::Caller,
    body::{parse_id, JsonBody},
    db::{
        projects::{Membership, Project, Role},
        users::User,
        Conn,
    },
    domain::{
        filters,
        host::{page, HostError},
        projects as domain,
    },
    error::ApiError,
    representers::host as rep,
    state::State,
};

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
pub async fn list(state: State, caller: Caller, query: Query) -> Result<HttpResponse, ApiError> {
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
pub async fn get(
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
pub async fn create(
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
pub async fn delete(
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
