//! Memberships of users in projects (openproject-storages.md §4). A membership's representation
//! needs rows of its own (project, principal, roles), so the use cases read them in the same trip
//! to the database and return the wire shape.

use service_kit::time::now_millis;
use storage_protocol::projects::{Membership as MembershipView, MembershipWrite};

use crate::{
    auth::Caller,
    db::{
        projects::{Membership, Project, Role},
        users::User,
        Conn,
    },
    domain::{
        filters::{self, Filter},
        host::HostError,
        projects as domain,
    },
    error::ApiError,
    representers::host as rep,
    state::AppState,
};

/// Memberships with their project, principal and roles, as the wire shows them.
fn represent_memberships(
    conn: &mut Conn,
    memberships: &[Membership],
) -> Result<Vec<MembershipView>, HostError> {
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

/// The memberships the caller sees, narrowed by the filters `project` and `principal`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    filters: Vec<Filter>,
) -> Result<Vec<MembershipView>, ApiError> {
    let user = caller.user.clone();
    Ok(state
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
        .await?)
}

pub async fn get(state: &AppState, caller: &Caller, id: i64) -> Result<MembershipView, ApiError> {
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
    found.pop().ok_or_else(ApiError::not_found)
}

pub async fn create(state: &AppState, write: MembershipWrite) -> Result<MembershipView, ApiError> {
    let mut created = state
        .db
        .run(move |conn| {
            let membership = domain::create_membership(conn, &write, now_millis())?;
            represent_memberships(conn, &[membership])
        })
        .await?;
    Ok(created
        .pop()
        .ok_or_else(|| anyhow::anyhow!("created membership has no project"))?)
}

/// Deletes the membership; 404 when there is none with this id.
pub async fn delete(state: &AppState, id: i64) -> Result<(), ApiError> {
    let deleted = state
        .db
        .query(move |conn| Membership::delete(conn, id))
        .await?;
    if deleted == 0 {
        return Err(ApiError::not_found());
    }
    Ok(())
}
