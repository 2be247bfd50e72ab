//! GET /index.php/apps/dashboard/ — the user's unread OpenProject notifications (spec §9).

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde_json::Value;

use crate::{
    auth::MaybeUser,
    domain::openproject_api::CallError,
    error::ApiError,
    flows::openproject_api::{session, unread_notifications},
    routes::{
        home::html,
        pages::{shell, to_login, Section, Shell},
    },
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
struct DashboardPage {
    shell: Shell,
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
        return Ok(to_login(&req));
    };
    let shell = shell(&state, &user, Section::Dashboard).await?;
    // A disabled integration shows no widget, so OpenProject is not asked.
    let opened = if shell.app_enabled {
        session(&state, &user.uid).await?
    } else {
        Err(CallError::NoToken)
    };
    let page_state = match opened {
        Err(CallError::NoToken) => DashboardState::NotConnected,
        Err(_) => DashboardState::Failed,
        Ok(session) => match unread_notifications(&session).await {
            Ok(Some(list)) => {
                DashboardState::Listed(list.iter().map(|n| item(&session.base, n)).collect())
            }
            Ok(None) | Err(_) => DashboardState::Failed,
        },
    };
    html(
        StatusCode::OK,
        &DashboardPage {
            shell,
            state: page_state,
        },
    )
}
