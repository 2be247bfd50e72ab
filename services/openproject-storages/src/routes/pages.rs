//! Browser pages: home, login and logout (README §5.1 of the contract).

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use service_kit::{
    auth::{removal_cookie, same_origin_path, session_cookie},
    client_address::client_address,
    crypto::random_urlsafe,
    time::now_millis,
};
use storage_protocol::openproject::SESSION_COOKIE;

use super::screens::{html, Frame, Menu};
use crate::{
    auth::MaybeCaller,
    domain::authentication::AuthError,
    error::ApiError,
    flows,
    state::{AppState, State},
};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    instance_name: &'a str,
    back_url: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    /// Bound to the pre-session cookie [`LOGIN_NONCE_COOKIE`] (login CSRF).
    authenticity_token: &'a str,
}

/// The pre-session cookie the sign-in form's token is bound to: a page elsewhere can neither
/// read the token nor make the browser send the cookie with a cross-site post (`SameSite=Lax`),
/// so it cannot sign the browser in to an account of its choosing. Bound to the browser, not
/// to a host name, so the form works on every name of the server (`localhost`, `127.0.0.1`).
const LOGIN_NONCE_COOKIE: &str = "_open_project_login_nonce";
const LOGIN_PATH: &str = "/login";
const LOGIN_FORM_LIFETIME_MILLIS: i64 = 60 * 60 * 1000;

/// Shown when a sign-in post lacks the token of a form this browser was given.
const LOGIN_FORM_INVALID: &str =
    "The sign-in form has expired or was sent from another site. Please sign in again.";

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    frame: Frame,
    title: &'a str,
    user_name: &'a str,
    login: &'a str,
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
    let user = &caller.user;
    let flash = flash_message(&req);
    let mut response = html(
        actix_web::http::StatusCode::OK,
        HomePage {
            frame: Frame::new(&state, &req, &caller, Menu::None),
            title: "Home",
            user_name: &user.name(),
            login: &user.login,
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

/// The sign-in form with a fresh pre-session nonce cookie and the token bound to it.
fn login_page(
    state: &AppState,
    status: actix_web::http::StatusCode,
    back_url: &str,
    username: &str,
    error: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let nonce = random_urlsafe(32);
    let authenticity_token = state
        .csrf
        .issue(&nonce, (now_millis() + LOGIN_FORM_LIFETIME_MILLIS) / 1000);
    let html = LoginPage {
        instance_name: &state.settings.instance_name,
        back_url,
        username,
        error,
        authenticity_token: &authenticity_token,
    }
    .render();
    let mut response = page(status, html)?;
    let mut cookie = session_cookie(LOGIN_NONCE_COOKIE, nonce, state.secure_cookies());
    cookie.set_path(LOGIN_PATH);
    response
        .add_cookie(&cookie)
        .map_err(|e| anyhow::anyhow!("login cookie: {e}"))?;
    Ok(response)
}

/// GET /login: the sign-in form.
pub async fn login_form(
    state: State,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, ApiError> {
    login_page(
        &state,
        actix_web::http::StatusCode::OK,
        query.back_url.as_deref().unwrap_or(""),
        "",
        None,
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    back_url: String,
    #[serde(default)]
    authenticity_token: String,
}

/// Browsers send `Origin` on form posts; one naming neither our public URL nor the host the
/// request was sent to (a browser sets `Host` itself) is a cross-site sign-in attempt.
fn foreign_origin(req: &HttpRequest, public_url: &str) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let Some(origin) = header(header::ORIGIN).filter(|origin| *origin != "null") else {
        return false;
    };
    if same_origin_path(&format!("{origin}/"), public_url).is_some() {
        return false;
    }
    !header(header::HOST).is_some_and(|host| origin_is_host(origin, host))
}

/// Whether `origin` (`scheme://host[:port]`) names `host` (a `Host` header, port optional).
fn origin_is_host(origin: &str, host: &str) -> bool {
    let Ok(origin) = url::Url::parse(origin) else {
        return false;
    };
    let Ok(target) = url::Url::parse(&format!("{}://{host}/", origin.scheme())) else {
        return false;
    };
    origin.host() == target.host()
        && origin.port_or_known_default() == target.port_or_known_default()
}

/// Whether the post carries the token of a sign-in form this browser was given.
fn login_form_is_ours(state: &AppState, req: &HttpRequest, token: &str) -> bool {
    req.cookie(LOGIN_NONCE_COOKIE)
        .is_some_and(|nonce| state.csrf.verify(token, nonce.value()))
}

/// POST /login: checks the form's token and the password, starts a session, and goes back to a
/// same-origin `back_url` or `/`.
pub async fn login(
    state: State,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let failed = |message: &str, status| {
        login_page(
            &state,
            status,
            &form.back_url,
            &form.username,
            Some(message),
        )
    };
    if foreign_origin(&req, &state.public_url) {
        return failed(
            "The sign-in form was sent from another site.",
            actix_web::http::StatusCode::FORBIDDEN,
        );
    }
    if !login_form_is_ours(&state, &req, &form.authenticity_token) {
        return failed(
            LOGIN_FORM_INVALID,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
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
    let user = match flows::authentication::login_with_password(
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
    let user_id = user.id;
    let session_id = flows::sessions::start(&state, user_id).await?;
    let target = same_origin_path(&form.back_url, &state.public_url).unwrap_or_else(|| "/".into());
    let mut nonce_removal = removal_cookie(LOGIN_NONCE_COOKIE, state.secure_cookies());
    nonce_removal.set_path(LOGIN_PATH);
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, target))
        .cookie(session_cookie(
            SESSION_COOKIE,
            session_id,
            state.secure_cookies(),
        ))
        .cookie(nonce_removal)
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
        flows::sessions::end(&state, session_id).await?;
    }
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, "/"))
        .cookie(removal_cookie(SESSION_COOKIE, state.secure_cookies()))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_names_the_host_it_was_sent_to() {
        assert!(origin_is_host("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(origin_is_host("http://localhost:8080", "LOCALHOST:8080"));
        assert!(origin_is_host("https://op.example", "op.example"));
        assert!(origin_is_host("https://op.example", "op.example:443"));
        assert!(!origin_is_host("http://localhost:8080", "127.0.0.1:8080"));
        assert!(!origin_is_host("http://localhost:8081", "localhost:8080"));
        assert!(!origin_is_host("https://evil.example", "op.example"));
        assert!(!origin_is_host("null", "op.example"));
    }
}
