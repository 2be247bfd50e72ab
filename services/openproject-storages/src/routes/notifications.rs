//! The caller's notifications (openproject-storages.md §5.3).

use actix_web::{get, http::StatusCode, post, web, HttpResponse};
use service_kit::time::now_millis;

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
        work_packages::{Notification, WorkPackage},
        Conn,
    },
    domain::{
        filters::{self, Filter},
        host::{page, HostError},
        work_packages::{self as domain},
    },
    error::ApiError,
    representers::host as rep,
    state::State,
};

fn represent_notifications(
    conn: &mut Conn,
    notifications: &[Notification],
    wps: &[WorkPackage],
) -> Result<Vec<storage_protocol::work_packages::Notification>, HostError> {
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

fn notification_filters(query: &Query) -> Result<Vec<Filter>, HostError> {
    Ok(filters::parse(
        query.get("filters").map(String::as_str),
        domain::NOTIFICATION_FILTERS,
    )?)
}

/// GET /api/v3/notifications: the caller's, newest first; filters (§5.3).
#[utoipa::path(responses((status = 200, description = "Collection of notifications")))]
#[get("/notifications")]
pub async fn list(state: State, caller: Caller, query: Query) -> Result<HttpResponse, ApiError> {
    let filters = notification_filters(&query)?;
    let user = caller.user.clone();
    let elements = state
        .db
        .run(move |conn| {
            let (found, wps) = domain::notifications(conn, &user, &filters)?;
            represent_notifications(conn, &found, &wps)
        })
        .await?;
    Ok(hal(
        StatusCode::OK,
        &page(&paging(&query), "/api/v3/notifications", elements),
    ))
}

async fn mark_all(
    state: State,
    caller: Caller,
    query: Query,
    read: bool,
) -> Result<HttpResponse, ApiError> {
    let filters = notification_filters(&query)?;
    let user = caller.user.clone();
    state
        .db
        .run(move |conn| {
            domain::check_resource_filters(conn, &user, &filters)?;
            let (found, _) = domain::notifications(conn, &user, &filters)?;
            let ids: Vec<i64> = found.iter().map(|n| n.id).collect();
            Notification::set_read(conn, &ids, read, now_millis())?;
            Ok::<_, HostError>(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /api/v3/notifications/read_ian?filters=…
#[utoipa::path(responses((status = 204, description = "Marked read")))]
#[post("/notifications/read_ian")]
pub async fn read_all(
    state: State,
    caller: Caller,
    query: Query,
    _body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    mark_all(state, caller, query, true).await
}

/// POST /api/v3/notifications/unread_ian?filters=…
#[utoipa::path(responses((status = 204, description = "Marked unread")))]
#[post("/notifications/unread_ian")]
pub async fn unread_all(
    state: State,
    caller: Caller,
    query: Query,
    _body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    mark_all(state, caller, query, false).await
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

/// GET /api/v3/notifications/{id}
#[utoipa::path(responses((status = 200, description = "Notification"), (status = 404, description = "Not the caller's")))]
#[get("/notifications/{id}")]
pub async fn get(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let user = caller.user.clone();
    let mut shown = state
        .db
        .run(move |conn| {
            let (n, wps) = own_notification(conn, &user, id)?;
            represent_notifications(conn, &[n], &wps)
        })
        .await?;
    let n = shown.pop().ok_or_else(ApiError::not_found)?;
    Ok(hal(StatusCode::OK, &n))
}

async fn mark_one(
    state: State,
    caller: Caller,
    id: &str,
    read: bool,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(id)?;
    let user = caller.user.clone();
    state
        .db
        .run(move |conn| {
            let (n, _) = own_notification(conn, &user, id)?;
            Notification::set_read(conn, &[n.id], read, now_millis())?;
            Ok::<_, HostError>(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /api/v3/notifications/{id}/read_ian
#[utoipa::path(responses((status = 204, description = "Marked read")))]
#[post("/notifications/{id}/read_ian")]
pub async fn read_one(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    _body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    mark_one(state, caller, &id, true).await
}

/// POST /api/v3/notifications/{id}/unread_ian
#[utoipa::path(responses((status = 204, description = "Marked unread")))]
#[post("/notifications/{id}/unread_ian")]
pub async fn unread_one(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    _body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    mark_one(state, caller, &id, false).await
}
