//! `/` and the files page (contract §9).

use actix_web::{http::header, http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use storage_protocol::nextcloud::SESSION_COOKIE;

use crate::{
    domain::sessions,
    error::{login_url, ApiError},
    security::{session_token, MaybeUser},
    state::AppState,
};

pub const FILES_PATH: &str = "/index.php/apps/files/";

#[derive(Template)]
#[template(path = "files.html")]
struct FilesPage<'a> {
    uid: &'a str,
    display_name: &'a str,
    requesttoken: &'a str,
    logout_url: String,
}

/// GET /, /index.php, /index.php/ — 302 to the files page with a live session, else to the
/// login page. Never a 4xx: only the session cookie is looked at.
pub async fn root(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let logged_in = match req.cookie(SESSION_COOKIE) {
        Some(cookie) => {
            let id = cookie.value().to_string();
            state
                .db
                .run(move |conn| sessions::resolve(conn, &id).map_err(ApiError::from))
                .await?
                .is_some()
        }
        None => false,
    };
    let location = if logged_in {
        FILES_PATH.to_string()
    } else {
        login_url(None)
    };
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish())
}

/// GET /index.php/apps/files/ — the user's files (none yet); anonymous browsers go to login.
pub async fn files(
    req: HttpRequest,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(user) = caller.0 else {
        let here = req
            .uri()
            .path_and_query()
            .map_or(FILES_PATH, |pq| pq.as_str());
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, login_url(Some(here))))
            .finish());
    };
    let requesttoken = session_token(&state, &user).unwrap_or_default();
    html(
        StatusCode::OK,
        &FilesPage {
            uid: &user.uid,
            display_name: &user.display_name,
            logout_url: format!("/index.php/logout?requesttoken={requesttoken}"),
            requesttoken: &requesttoken,
        },
    )
}

/// An HTML page (framing is refused for every response by the server's default headers).
pub fn html(status: StatusCode, page: &impl Template) -> Result<HttpResponse, ApiError> {
    let body = page
        .render()
        .map_err(|e| ApiError::Unexpected(anyhow::Error::new(e).context("rendering a page")))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
