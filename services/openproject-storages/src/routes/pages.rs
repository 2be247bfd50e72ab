//! Browser pages: home, login and logout (README §5.1 of the contract).

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use service_kit::{
    auth::{removal_cookie, same_origin_path, session_cookie},
    crypto::{digest, random_urlsafe},
    time::now_millis,
};
use storage_protocol::openproject::SESSION_COOKIE;

use crate::{
    db::sessions,
    domain::authentication::{self, AuthError},
    error::ApiError,
    extract::{client_address, MaybeCaller},
    state::{AppState, State},
};

const SESSION_LIFETIME_MILLIS: i64 = 8 * 60 * 60 * 1000;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    instance_name: &'a str,
    back_url: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    instance_name: &'a str,
    user_name: &'a str,
    login: &'a str,
    admin: bool,
    csrf_token: &'a str,
    flash: Option<&'a str>,
}

/// A message for the next home page, shown once (e.g. why an authorization at Nextcloud
/// failed). Not secret: it only saves the message across one redirect.
const FLASH_COOKIE: &str = "_open_project_flash";
const FLASH_MAX_AGE_SECS: i64 = 300;

/// Percent-encoded, which is how request cookies are read back (decoded once).
pub(super) fn flash_cookie(message: &str, secure: bool) -> actix_web::cookie::Cookie<'static> {
    let encoded =
        percent_encoding::utf8_percent_encode(message, percent_encoding::NON_ALPHANUMERIC);
    let mut cookie = session_cookie(FLASH_COOKIE, encoded.to_string(), secure);
    cookie.set_max_age(actix_web::cookie::time::Duration::seconds(
        FLASH_MAX_AGE_SECS,
    ));
    cookie
}

fn flash_message(req: &HttpRequest) -> Option<String> {
    req.cookie(FLASH_COOKIE)
        .map(|cookie| cookie.value().to_string())
        .filter(|message| !message.is_empty())
}

/// Pages refuse framing (clickjacking) and caching.
pub(super) fn page(
    status: actix_web::http::StatusCode,
    html: Result<String, askama::Error>,
) -> Result<HttpResponse, ApiError> {
    let html = html.map_err(|e| anyhow::anyhow!("template: {e}"))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("Content-Security-Policy", "frame-ancestors 'none'"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// The login page, coming back to this very URL once signed in.
pub(super) fn login_location(state: &AppState, req: &HttpRequest) -> String {
    let full_url = format!(
        "{}{}",
        state.public_url,
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let back: String = url::form_urlencoded::byte_serialize(full_url.as_bytes()).collect();
    format!("/login?back_url={back}")
}

/// The browser's session id (empty without one), which CSRF tokens are bound to.
pub(super) fn session_id(req: &HttpRequest) -> String {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default()
}

pub(super) fn redirect(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// GET /: the home page with a session; otherwise to the login page. API credentials are not
/// looked at here.
pub async fn home(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
) -> Result<HttpResponse, ApiError> {
    let Some(caller) = caller.0 else {
        return Ok(redirect(&login_location(&state, &req)));
    };
    let session_id = session_id(&req);
    let expires = (now_millis() + SESSION_LIFETIME_MILLIS) / 1000;
    let csrf_token = state.csrf.issue(&session_id, expires);
    let user = &caller.user;
    let flash = flash_message(&req);
    let mut response = page(
        actix_web::http::StatusCode::OK,
        HomePage {
            instance_name: &state.settings.instance_name,
            user_name: &user.name(),
            login: &user.login,
            admin: user.is_active_admin(),
            csrf_token: &csrf_token,
            flash: flash.as_deref(),
        }
        .render(),
    )?;
    if req.cookie(FLASH_COOKIE).is_some() {
        // Shown once.
        response
            .add_cookie(&removal_cookie(FLASH_COOKIE, state.secure_cookies()))
            .map_err(|e| anyhow::anyhow!("flash cookie: {e}"))?;
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    back_url: Option<String>,
}

/// GET /login: the sign-in form.
pub async fn login_form(
    state: State,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, ApiError> {
    let page_html = LoginPage {
        instance_name: &state.settings.instance_name,
        back_url: query.back_url.as_deref().unwrap_or(""),
        username: "",
        error: None,
    }
    .render();
    page(actix_web::http::StatusCode::OK, page_html)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    back_url: String,
}

/// Browsers send `Origin` on form posts; a foreign one is a cross-site login attempt.
fn foreign_origin(req: &HttpRequest, public_url: &str) -> bool {
    req.headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| {
            origin != "null" && same_origin_path(&format!("{origin}/"), public_url).is_none()
        })
}

/// POST /login: checks the password, starts a session, and goes back to a same-origin
/// `back_url` or `/`.
pub async fn login(
    state: State,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let failed = |message: &str, status| {
        let html = LoginPage {
            instance_name: &state.settings.instance_name,
            back_url: &form.back_url,
            username: &form.username,
            error: Some(message),
        }
        .render();
        page(status, html)
    };
    if foreign_origin(&req, &state.public_url) {
        return failed(
            "The sign-in form was sent from another site.",
            actix_web::http::StatusCode::FORBIDDEN,
        );
    }
    // No account or password holds a NUL, and no database may be asked for one.
    if form.username.contains('\0') || form.password.contains('\0') {
        return failed(
            "Invalid user or password",
            actix_web::http::StatusCode::UNAUTHORIZED,
        );
    }
    let address = client_address(&req);
    let user = match authentication::login_with_password(
        &state,
        form.username.trim(),
        &form.password,
        &address,
    )
    .await
    {
        Ok(user) => user,
        Err(AuthError::WrongCredentials) => {
            return failed(
                "Invalid user or password",
                actix_web::http::StatusCode::UNAUTHORIZED,
            )
        }
        Err(AuthError::Throttled) => {
            return failed(
                "Too many failed sign-in attempts. Please try again later.",
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Err(AuthError::Unexpected(e)) => return Err(ApiError::Unexpected(e)),
    };
    let session_id = random_urlsafe(32);
    let (id_digest, user_id, now) = (digest(&session_id), user.id, now_millis());
    state
        .db
        .run(move |conn| {
            sessions::purge_expired(conn, now)?;
            sessions::create(
                conn,
                &id_digest,
                user_id,
                now,
                now + SESSION_LIFETIME_MILLIS,
            )
            .map_err(ApiError::from)
        })
        .await?;
    let target = same_origin_path(&form.back_url, &state.public_url).unwrap_or_else(|| "/".into());
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, target))
        .cookie(session_cookie(
            SESSION_COOKIE,
            session_id,
            state.secure_cookies(),
        ))
        .finish())
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    authenticity_token: String,
}

/// POST /logout: ends the session (the form's token must belong to it) and goes to `/`.
pub async fn logout(
    state: State,
    req: HttpRequest,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, ApiError> {
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        let session_id = cookie.value().to_string();
        if !state.csrf.verify(&form.authenticity_token, &session_id) {
            return Ok(HttpResponse::UnprocessableEntity()
                .content_type("text/plain; charset=utf-8")
                .body("Invalid form token: reload the page and try again."));
        }
        let id_digest = digest(&session_id);
        state
            .db
            .run(move |conn| sessions::delete(conn, &id_digest).map_err(ApiError::from))
            .await?;
    }
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, "/"))
        .cookie(removal_cookie(SESSION_COOKIE, state.secure_cookies()))
        .finish())
}
