//! GET /index.php/apps/dashboard/ — the user's unread OpenProject notifications (spec §9).

use actix_web::{http::header, http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde_json::Value;

use crate::{
    domain::openproject_api::{session, unread_notifications, CallError},
    error::{login_url, ApiError},
    routes::home::html,
    security::{session_token, MaybeUser},
    state::AppState,
};

pub enum DashboardState {
    NotConnected,
    Failed,
    Listed(Vec<NotificationItem>),
}

pub struct NotificationItem {
    work_package_id: String,
    title: String,
    reason: String,
    href: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage<'a> {
    display_name: &'a str,
    requesttoken: &'a str,
    state: DashboardState,
}

/// One line per notification, linking to its work package in OpenProject.
fn item(base: &str, notification: &Value) -> NotificationItem {
    let resource = &notification["_links"]["resource"];
    let href = resource["href"].as_str().unwrap_or("");
    let work_package_id = href.rsplit('/').next().unwrap_or("").to_string();
    NotificationItem {
        href: format!("{base}/work_packages/{work_package_id}"),
        title: resource["title"].as_str().unwrap_or("").to_string(),
        reason: notification["reason"].as_str().unwrap_or("").to_string(),
        work_package_id,
    }
}

pub async fn get(
    req: HttpRequest,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(user) = caller.0 else {
        let here = req
            .uri()
            .path_and_query()
            .map_or("/index.php/apps/dashboard/", |pq| pq.as_str());
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, login_url(Some(here))))
            .finish());
    };
    let page_state = match session(state.openproject(), &user.uid).await {
        Err(CallError::NoToken) => DashboardState::NotConnected,
        Err(CallError::Unexpected(e)) => return Err(e),
        Err(_) => DashboardState::Failed,
        Ok(session) => match unread_notifications(&session).await {
            Ok(Some(list)) => {
                DashboardState::Listed(list.iter().map(|n| item(&session.base, n)).collect())
            }
            Err(CallError::Unexpected(e)) => return Err(e),
            Ok(None) | Err(_) => DashboardState::Failed,
        },
    };
    let requesttoken = session_token(&state, &user).unwrap_or_default();
    html(
        StatusCode::OK,
        &DashboardPage {
            display_name: &user.display_name,
            requesttoken: &requesttoken,
            state: page_state,
        },
    )
}
