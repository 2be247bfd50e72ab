//! The user's side of the OpenProject connection (nextcloud-openproject-app.md §4, oauth.md §5):
//! `GET APP/op-oauth-url`, `GET APP/oauth-redirect`, `PUT APP/config`, and the personal settings
//! page `GET /index.php/settings/user/openproject`.

use actix_web::{http::header, http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde_json::json;
use storage_protocol::nextcloud::AppError;

use crate::{
    auth::{check_csrf, MaybeUser},
    body,
    domain::{
        openproject_api::ConnectionHealth,
        openproject_connection::{self, ConfigOutcome, RedirectParams, RESULT_SUCCESS},
        user_view::Toggles,
    },
    error::ApiError,
    flows,
    routes::{
        home::html,
        pages::{shell, to_login, Section, Shell},
    },
    state::AppState,
};

/// GET APP/op-oauth-url — CSRF-protected for cookie sessions; a JSON string, the OpenProject
/// authorize URL with a new state and PKCE challenge.
pub async fn op_oauth_url(
    req: HttpRequest,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = caller.require_user()?;
    check_csrf(&state, &req, user, None)?;
    let url = flows::openproject_connection::start_authorization(&state, user.uid.clone()).await?;
    Ok(HttpResponse::Ok().json(url))
}

/// GET APP/oauth-redirect?code=…&state=… — where OpenProject sends the browser back: the code
/// is exchanged, and the browser always goes on (303) to the page the journey started from.
pub async fn oauth_redirect(
    query: web::Query<RedirectParams>,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let uid = caller.require_user()?.uid.clone();
    let location =
        flows::openproject_connection::finish_authorization(&state, &uid, query.into_inner())
            .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish())
}

/// PUT APP/config — CSRF-protected; the user's preferences, and `token`: `""` disconnects, a
/// personal access token connects.
pub async fn put_config(
    req: HttpRequest,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = caller.require_user()?;
    check_csrf(&state, &req, user, None)?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let changes = openproject_connection::parse_config(&raw).map_err(ApiError::BadRequest)?;
    let outcome = flows::openproject_connection::update_config(&state, &user.uid, changes).await?;
    Ok(match outcome {
        ConfigOutcome::Stored => HttpResponse::Ok().json(json!({})),
        ConfigOutcome::Disconnected => HttpResponse::Ok().json(json!({ "user_name": "" })),
        ConfigOutcome::Connected(name) => HttpResponse::Ok().json(json!({ "user_name": name })),
        ConfigOutcome::Refused(reason) => {
            HttpResponse::Unauthorized().json(AppError { error: reason })
        }
    })
}

/// What the page says about the stored connection, checked with OpenProject.
pub enum ConnectionView {
    Working(String),
    /// OpenProject could not be asked; the stored connection is shown as it is.
    Unreachable(String),
    /// Stored tokens that OpenProject no longer accepts.
    Broken,
    NotConnected,
}

#[derive(Template)]
#[template(path = "personal_settings.html")]
struct PersonalSettingsPage {
    shell: Shell,
    connection: ConnectionView,
    admin_config_ok: bool,
    success: bool,
    /// The last journey's failure in plain words.
    error_message: Option<String>,
    toggles: Toggles,
}

/// GET /index.php/settings/user/openproject — the connection as OpenProject sees it now, the
/// toggles, and the outcome of the last OAuth journey shown once.
pub async fn personal_settings(
    req: HttpRequest,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(user) = caller.0 else {
        return Ok(to_login(&req));
    };
    let (shown, health) =
        flows::openproject_connection::personal_settings(&state, &user.uid).await?;
    let name = shown.user_name.clone().unwrap_or_default();
    let connection = match health {
        None => ConnectionView::NotConnected,
        Some(ConnectionHealth::Working) => ConnectionView::Working(name),
        Some(ConnectionHealth::Unreachable) => ConnectionView::Unreachable(name),
        Some(ConnectionHealth::Broken) => ConnectionView::Broken,
    };
    let shell = shell(&state, &user, Section::PersonalSettings).await?;
    html(
        StatusCode::OK,
        &PersonalSettingsPage {
            toggles: shell.toggles,
            shell,
            connection,
            admin_config_ok: shown.admin_config_ok,
            success: shown.result.as_deref() == Some(RESULT_SUCCESS),
            error_message: shown
                .error_message
                .as_deref()
                .map(openproject_connection::readable_connection_error),
        },
    )
}
