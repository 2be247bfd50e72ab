//! The caller's notifications (openproject-storages.md §5.3): listing, finding and marking them
//! read or unread. A notification's representation needs rows of its own (project, actor), so
//! the use cases read them in the same trip to the database and return the wire shape.

use service_kit::time::now_millis;
use storage_protocol::work_packages::Notification as NotificationView;

use crate::{
    auth::Caller,
    db::{
        projects::Project,
        users::User,
        work_packages::{Notification, WorkPackage},
        Conn,
    },
    domain::{filters::Filter, host::HostError, work_packages as domain},
    error::ApiError,
    representers::host as rep,
    state::AppState,
};

fn represent_notifications(
    conn: &mut Conn,
    notifications: &[Notification],
    wps: &[WorkPackage],
) -> Result<Vec<NotificationView>, HostError> {
    let projects = Project::find_many(
        conn,
        &notifications
            .iter()
            .map(|n| n.project_id)
            .collect::<Vec<_>>(),
    )?;
    let actors = User::find_many(
        conn,
        &notifications
            .iter()
            .filter_map(|n| n.actor_id)
            .collect::<Vec<_>>(),
    )?;
    Ok(notifications
        .iter()
        .filter_map(|n| {
            Some(rep::notification(
                n,
                projects.iter().find(|p| p.id == n.project_id)?,
                n.actor_id.and_then(|id| actors.iter().find(|u| u.id == id)),
                wps.iter().find(|w| w.id == n.resource_id)?,
            ))
        })
        .collect())
}

/// One of the caller's notifications by id, else 404.
fn own_notification(
    conn: &mut Conn,
    user: &User,
    id: i64,
) -> Result<(Notification, Vec<WorkPackage>), HostError> {
    let id_filter = Filter {
        name: "id".into(),
        operator: "=".into(),
        values: vec![id.to_string()],
    };
    let (mut found, wps) = domain::notifications(conn, user, &[id_filter])?;
    Ok((found.pop().ok_or(HostError::NotFound)?, wps))
}

/// The caller's notifications, newest first, filtered.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    filters: Vec<Filter>,
) -> Result<Vec<NotificationView>, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| {
            let (found, wps) = domain::notifications(conn, &user, &filters)?;
            represent_notifications(conn, &found, &wps)
        })
        .await?)
}

/// Marks every one of the caller's notifications the filters select as read (or unread).
pub async fn mark_all(
    state: &AppState,
    caller: &Caller,
    filters: Vec<Filter>,
    read: bool,
) -> Result<(), ApiError> {
    let user = caller.user.clone();
    let now = now_millis();
    Ok(state
        .db
        .run(move |conn| {
            domain::check_resource_filters(conn, &user, &filters)?;
            let (found, _) = domain::notifications(conn, &user, &filters)?;
            let ids: Vec<i64> = found.iter().map(|n| n.id).collect();
            Notification::set_read(conn, &ids, read, now)?;
            Ok::<_, HostError>(())
        })
        .await?)
}

pub async fn get(state: &AppState, caller: &Caller, id: i64) -> Result<NotificationView, ApiError> {
    let user = caller.user.clone();
    let mut shown = state
        .db
        .run(move |conn| {
            let (n, wps) = own_notification(conn, &user, id)?;
            represent_notifications(conn, &[n], &wps)
        })
        .await?;
    shown.pop().ok_or_else(ApiError::not_found)
}

/// Marks one of the caller's notifications read (or unread).
pub async fn mark_one(
    state: &AppState,
    caller: &Caller,
    id: i64,
    read: bool,
) -> Result<(), ApiError> {
    let user = caller.user.clone();
    let now = now_millis();
    Ok(state
        .db
        .run(move |conn| {
            let (n, _) = own_notification(conn, &user, id)?;
            Notification::set_read(conn, &[n.id], read, now)?;
            Ok::<_, HostError>(())
        })
        .await?)
}
