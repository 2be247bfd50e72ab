//! The other admin routes of the integration app (contract §3.3): `admin-config`, `nc-oauth`,
//! `check-admin-config`, `project-folder-status`, `sign-term-of-service`; and the page that
//! drives them, `/index.php/settings/admin/openproject`.

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use storage_protocol::integration_app::{
    AdminConfigResponse, CheckAdminConfig, NcOauthResponse, ResultFlag,
};

use crate::{
    auth::{check_csrf, MaybeUser},
    body,
    domain::{admin_overview::AdminOverview, settings},
    error::ApiError,
    flows,
    routes::{
        home::html,
        pages::{admin_page, Section, Shell},
    },
    state::AppState,
};

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct AdminSettingsPage {
    shell: Shell,
    overview: AdminOverview,
}

/// GET /index.php/settings/admin/openproject — the guide's Nextcloud steps, the replace
/// actions and the reset; its script calls the routes below.
pub async fn settings_page(
    req: HttpRequest,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let shell = match admin_page(&req, caller, &state, Section::AdminSettings).await? {
        Ok(shell) => shell,
        Err(response) => return Ok(response),
    };
    let overview = flows::admin::overview(&state).await?;
    html(StatusCode::OK, &AdminSettingsPage { shell, overview })
}

/// PUT APP/admin-config — CSRF-protected; any scalar values, team-folder actions included.
pub async fn put_admin_config(
    req: HttpRequest,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.require_admin()?;
    check_csrf(&state, &req, admin, None)?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let changes = settings::parse_admin_config(&raw).map_err(ApiError::BadRequest)?;
    let outcome = flows::setup::admin_config(&state, changes).await?;
    Ok(HttpResponse::Ok().json(AdminConfigResponse {
        status: outcome.status,
        op_user_app_password: outcome.app_password,
    }))
}

/// POST APP/nc-oauth — CSRF-protected; replaces the Nextcloud OAuth client for OpenProject.
pub async fn post_nc_oauth(
    req: HttpRequest,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.require_admin()?;
    check_csrf(&state, &req, admin, None)?;
    let issued = flows::setup::rotate_client(&state).await?;
    Ok(HttpResponse::Ok().json(NcOauthResponse {
        nextcloud_oauth_client_name: issued.client.name,
        openproject_redirect_uri: issued.client.redirect_uri,
        nextcloud_client_id: issued.client.client_id,
        nextcloud_client_secret: issued.secret.expose().to_string(),
    }))
}

/// GET APP/check-admin-config
pub async fn check_admin_config(
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let check = flows::setup::check(&state).await?;
    Ok(HttpResponse::Ok().json(CheckAdminConfig {
        config_status_without_project_folder: check.config_status_without_project_folder,
        project_folder_setup_status: check.project_folder_setup_status,
    }))
}

/// GET APP/project-folder-status
pub async fn project_folder_status(
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let result = flows::admin::project_folder_status(&state).await?;
    Ok(HttpResponse::Ok().json(ResultFlag { result }))
}

/// POST APP/sign-term-of-service — there is no terms-of-service app in this host model.
pub async fn sign_term_of_service(caller: MaybeUser) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    Ok(HttpResponse::Ok().json(ResultFlag { result: true }))
}
