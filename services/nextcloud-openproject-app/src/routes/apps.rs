//! Apps: the provisioning API's `/ocs/v{1,2}.php/cloud/apps` (list, enable, disable), the admin
//! page `/index.php/settings/apps` that calls it, and the guard that makes a disabled
//! integration's routes answer as unknown.

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::StatusCode,
    middleware::Next,
    web, HttpRequest, HttpResponse,
};
use askama::Template;
use serde_json::json;
use storage_protocol::nextcloud::APP_VERSION;

use crate::{
    auth::{app_state, check_csrf, MaybeUser},
    domain::apps::{is_integration_path, KNOWN_APPS},
    error::{ApiError, OcsFormat},
    flows,
    routes::{
        home::html,
        pages::{admin_page, Section, Shell},
    },
    state::AppState,
};

/// Middleware: while the integration is disabled, its routes and pages answer as unknown paths
/// do (README §4: each family's 404).
pub async fn hide_when_disabled(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if is_integration_path(req.path()) {
        let enabled = match app_state(req.request()) {
            Ok(state) => flows::apps::is_enabled(&state).await,
            Err(e) => Err(e),
        };
        match enabled {
            Ok(true) => {}
            Ok(false) => return Ok(req.error_response(ApiError::NotFound).map_into_right_body()),
            Err(e) => return Ok(req.error_response(e).map_into_right_body()),
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Whether the integration is enabled (capabilities list it only then).
pub async fn integration_enabled(state: &AppState) -> Result<bool, ApiError> {
    flows::apps::is_enabled(state).await
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    filter: Option<String>,
}

/// GET /ocs/v{1,2}.php/cloud/apps?filter=enabled|disabled — admin; `{"apps": [ids]}`.
pub async fn list(
    format: OcsFormat,
    caller: MaybeUser,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let enabled = integration_enabled(&state).await?;
    let wanted = match query.filter.as_deref() {
        None | Some("") => None,
        Some("enabled") => Some(true),
        Some("disabled") => Some(false),
        Some(_) => return Err(ApiError::ocs(101, "Invalid filter")),
    };
    let apps: Vec<&str> = KNOWN_APPS
        .into_iter()
        .filter(|_| wanted.is_none_or(|w| w == enabled))
        .collect();
    format.ok(json!({ "apps": apps }))
}

/// POST /ocs/v{1,2}.php/cloud/apps/{app} — admin, CSRF; enables the app.
pub async fn enable(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    set_enabled(req, format, caller, path, state, true).await
}

/// DELETE /ocs/v{1,2}.php/cloud/apps/{app} — admin, CSRF; disables the app.
pub async fn disable(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    set_enabled(req, format, caller, path, state, false).await
}

async fn set_enabled(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    enabled: bool,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.require_admin()?;
    check_csrf(&state, &req, admin, None)?;
    let (_, app) = path.into_inner();
    if !KNOWN_APPS.contains(&app.as_str()) {
        return Err(ApiError::Missing(format!("The app {app} is not installed")));
    }
    flows::apps::set_enabled(&state, enabled).await?;
    tracing::info!(target: "audit", admin = %admin.uid, %app, enabled, "app state changed");
    format.ok(json!([]))
}

#[derive(Template)]
#[template(path = "apps.html")]
struct AppsPage {
    shell: Shell,
    enabled: bool,
    version: &'static str,
}

/// GET /index.php/settings/apps — admin; the integration with its disable/enable button.
pub async fn page(
    req: HttpRequest,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let shell = match admin_page(&req, caller, &state, Section::Apps).await? {
        Ok(shell) => shell,
        Err(response) => return Ok(response),
    };
    let enabled = shell.app_enabled;
    html(
        StatusCode::OK,
        &AppsPage {
            shell,
            enabled,
            version: APP_VERSION,
        },
    )
}
