//! GET/POST /index.php/login and GET /index.php/logout (contract §9).
//!
//! The login form is protected against login CSRF by a token bound to a pre-login cookie
//! (`nc_login_nonce`); a browser whose `Origin` is ours passes as well.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use askama::Template;
use service_kit::{
    auth::{removal_cookie, same_origin_path, session_cookie},
    client_address::client_address,
    crypto::{self, SecretString},
    time::now_millis,
};
use storage_protocol::nextcloud::{messages, SESSION_COOKIE};

use crate::{
    auth::{MaybeUser, REQUEST_TOKEN},
    body,
    error::{login_url, ApiError},
    flows,
    routes::home::{html, FILES_PATH},
    state::AppState,
};

/// Pre-login cookie the login form's `requesttoken` is bound to.
pub const LOGIN_NONCE_COOKIE: &str = "nc_login_nonce";
const LOGIN_TOKEN_LIFETIME_SECS: i64 = 60 * 60;
const LOGIN_PATH: &str = "/index.php/login";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    user: &'a str,
    redirect_url: &'a str,
    requesttoken: String,
    error: Option<&'a str>,
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    redirect_url: Option<String>,
}

/// GET /index.php/login — the form; a logged-in browser goes straight on.
pub async fn form(
    query: web::Query<LoginQuery>,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let redirect_url = query.into_inner().redirect_url.unwrap_or_default();
    if caller.0.is_some() {
        return Ok(see_other(&target(&state, &redirect_url)));
    }
    page(
        &state,
        actix_web::http::StatusCode::OK,
        "",
        &redirect_url,
        None,
    )
}

struct LoginForm {
    user: String,
    password: SecretString,
    redirect_url: String,
    requesttoken: String,
}

impl LoginForm {
    fn parse(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self {
            user: String::new(),
            password: SecretString::new(""),
            redirect_url: String::new(),
            requesttoken: String::new(),
        };
        for (key, value) in pairs {
            match key.as_str() {
                "user" => form.user = value,
                "password" => form.password = SecretString::new(value),
                "redirect_url" => form.redirect_url = value,
                REQUEST_TOKEN => form.requesttoken = value,
                _ => {}
            }
        }
        form
    }
}

/// POST /index.php/login — on success a session cookie and 303 to a same-origin `redirect_url`
/// (else the files page); on failure the form again with an error, counted as a failed login.
pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let form = LoginForm::parse(body::parse_pairs(&raw)?);
    if !passes_login_csrf(&state, &req, &form.requesttoken) {
        return page(
            &state,
            actix_web::http::StatusCode::PRECONDITION_FAILED,
            &form.user,
            &form.redirect_url,
            Some(messages::CSRF_FAILED),
        );
    }
    let uid = flows::authentication::authenticate_form(
        &state,
        &client_address(&req),
        form.user.clone(),
        form.password,
    )
    .await?;
    let Some(uid) = uid else {
        return page(
            &state,
            actix_web::http::StatusCode::UNAUTHORIZED,
            &form.user,
            &form.redirect_url,
            Some(messages::WRONG_LOGIN),
        );
    };
    let (session_id, _) = flows::sessions::start(&state, uid.clone()).await?;
    tracing::info!(uid, "logged in");
    let secure = state.secure_cookies();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target(&state, &form.redirect_url)))
        .cookie(session_cookie(SESSION_COOKIE, session_id, secure))
        .cookie(nonce_removal(secure))
        .finish())
}

#[derive(serde::Deserialize)]
pub struct LogoutQuery {
    requesttoken: Option<String>,
}

/// GET /index.php/logout?requesttoken=… — ends the session when the token belongs to it, then
/// 303 to the login page.
pub async fn logout(
    req: HttpRequest,
    query: web::Query<LogoutQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let session = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
    let token = query.into_inner().requesttoken.unwrap_or_default();
    let mut response = HttpResponse::SeeOther();
    response.insert_header((header::LOCATION, login_url(None)));
    if let Some(id) = session.filter(|id| state.csrf.verify(&token, id)) {
        flows::sessions::end(&state, id).await?;
        response.cookie(removal_cookie(SESSION_COOKIE, state.secure_cookies()));
    }
    Ok(response.finish())
}

/// Where a successful login goes: a same-origin `redirect_url`, else the files page.
fn target(state: &AppState, redirect_url: &str) -> String {
    same_origin_path(redirect_url, &state.public_url).unwrap_or_else(|| FILES_PATH.to_string())
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The login form with a fresh pre-login nonce cookie and the token bound to it.
fn page(
    state: &AppState,
    status: actix_web::http::StatusCode,
    user: &str,
    redirect_url: &str,
    error: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let nonce = crypto::random_urlsafe(32);
    let requesttoken = state
        .csrf
        .issue(&nonce, now_millis() / 1000 + LOGIN_TOKEN_LIFETIME_SECS);
    let body = LoginPage {
        user,
        redirect_url,
        requesttoken,
        error,
    };
    let mut response = html(status, &body)?;
    let mut cookie = session_cookie(LOGIN_NONCE_COOKIE, nonce, state.secure_cookies());
    cookie.set_path(LOGIN_PATH);
    response
        .add_cookie(&cookie)
        .map_err(|e| ApiError::Unexpected(anyhow::Error::new(e).context("login cookie")))?;
    Ok(response)
}

/// Removes the pre-login cookie (a removal must name the path the cookie was set with).
fn nonce_removal(secure: bool) -> actix_web::cookie::Cookie<'static> {
    let mut cookie = removal_cookie(LOGIN_NONCE_COOKIE, secure);
    cookie.set_path(LOGIN_PATH);
    cookie
}

fn passes_login_csrf(state: &AppState, req: &HttpRequest, token: &str) -> bool {
    let bound_to_nonce = req
        .cookie(LOGIN_NONCE_COOKIE)
        .is_some_and(|nonce| state.csrf.verify(token, nonce.value()));
    let our_origin = url::Url::parse(&state.public_url)
        .map(|u| u.origin().ascii_serialization())
        .ok();
    let same_origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| Some(origin) == our_origin.as_deref());
    bound_to_nonce || same_origin
}
