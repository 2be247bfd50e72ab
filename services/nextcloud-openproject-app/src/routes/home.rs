//! `/` and the files page (contract §9).

use actix_web::{http::header, http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use storage_protocol::nextcloud::SESSION_COOKIE;

use crate::{
    domain::{files, sessions},
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
    /// The folder shown, `/`-separated from the user's root.
    dir: String,
    parent_link: Option<String>,
    entries: Vec<FileEntry>,
    /// The folder does not exist (404).
    missing: bool,
}

/// One row of the files page.
struct FileEntry {
    id: i64,
    name: String,
    is_folder: bool,
    size: i64,
    modified: String,
    /// A folder's page or the file's WebDAV URL.
    href: String,
    highlighted: bool,
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

/// Anonymous browsers go to the login page and come back here.
fn to_login(req: &HttpRequest) -> HttpResponse {
    let here = req
        .uri()
        .path_and_query()
        .map_or(FILES_PATH, |pq| pq.as_str());
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, login_url(Some(here))))
        .finish()
}

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// GET /index.php/apps/files/?dir=…&fileid=… — a folder of the user's files, the row of
/// `fileid` highlighted; anonymous browsers go to login.
pub async fn files(
    req: HttpRequest,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(user) = caller.0 else {
        return Ok(to_login(&req));
    };
    let params: std::collections::HashMap<String, String> =
        crate::body::parse_pairs(req.query_string().as_bytes())?
            .into_iter()
            .collect();
    let dir = params.get("dir").cloned().unwrap_or_else(|| "/".into());
    let highlighted: Option<i64> = params.get("fileid").and_then(|v| v.parse().ok());
    let segments: Option<Vec<String>> = dir
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| files::valid_name(s).ok().map(str::to_string))
        .collect();
    let uid = user.uid.clone();
    let listing = match segments {
        None => None,
        Some(segments) => {
            state
                .db
                .run(move |conn| {
                    let viewer = files::Viewer::load(conn, &uid)?;
                    files::ensure_roots(conn, &viewer)?;
                    let Some(folder) =
                        files::resolve(conn, &viewer, &segments)?.filter(|f| f.node.is_folder)
                    else {
                        return Ok::<_, ApiError>(None);
                    };
                    Ok(Some((
                        folder.path.clone(),
                        files::children(conn, &viewer, &folder)?,
                    )))
                })
                .await?
        }
    };
    let requesttoken = session_token(&state, &user).unwrap_or_default();
    let (status, dir, parent_link, entries, missing) = match listing {
        Some((path, children)) => {
            let dir = format!("/{}", path.join("/"));
            let parent_link = (!path.is_empty()).then(|| {
                let up = format!("/{}", path[..path.len() - 1].join("/"));
                format!("{FILES_PATH}?dir={}", encode(&up))
            });
            let entries = children
                .into_iter()
                .map(|child| {
                    let child_path = child.path.join("/");
                    let href = if child.node.is_folder {
                        format!("{FILES_PATH}?dir={}", encode(&format!("/{child_path}")))
                    } else {
                        let encoded: Vec<String> = child.path.iter().map(|s| encode(s)).collect();
                        format!("/remote.php/webdav/{}", encoded.join("/"))
                    };
                    FileEntry {
                        id: child.node.id,
                        name: child.name().to_string(),
                        is_folder: child.node.is_folder,
                        size: child.node.size,
                        modified: crate::routes::webdav::http_date(child.node.mtime),
                        href,
                        highlighted: highlighted == Some(child.node.id),
                    }
                })
                .collect();
            (StatusCode::OK, dir, parent_link, entries, false)
        }
        None => (StatusCode::NOT_FOUND, dir, None, Vec::new(), true),
    };
    html(
        status,
        &FilesPage {
            uid: &user.uid,
            display_name: &user.display_name,
            logout_url: format!("/index.php/logout?requesttoken={requesttoken}"),
            requesttoken: &requesttoken,
            dir,
            parent_link,
            entries,
            missing,
        },
    )
}

/// GET /index.php/f/{fileId} — 302 to the file in its folder (`openfile=true` when asked with
/// `openfile=1`); not accessible → the files page's 404.
pub async fn file_link(
    req: HttpRequest,
    caller: MaybeUser,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(user) = caller.0.clone() else {
        return Ok(to_login(&req));
    };
    let uid = user.uid.clone();
    let id = path.into_inner().parse::<i64>().ok();
    let found = match id {
        Some(id) => {
            state
                .db
                .run(move |conn| {
                    let viewer = files::Viewer::load(conn, &uid)?;
                    Ok::<_, ApiError>(
                        match files::info::lookup(conn, &viewer, id, &mut files::Memo::default())? {
                            files::info::Lookup::Visible(located) => Some(*located),
                            _ => None,
                        },
                    )
                })
                .await?
        }
        None => None,
    };
    let Some(located) = found else {
        let requesttoken = session_token(&state, &user).unwrap_or_default();
        return html(
            StatusCode::NOT_FOUND,
            &FilesPage {
                uid: &user.uid,
                display_name: &user.display_name,
                logout_url: format!("/index.php/logout?requesttoken={requesttoken}"),
                requesttoken: &requesttoken,
                dir: "/".into(),
                parent_link: None,
                entries: Vec::new(),
                missing: true,
            },
        );
    };
    let parent = located
        .path
        .split_last()
        .map_or(String::new(), |(_, up)| up.join("/"));
    let open = crate::body::parse_pairs(req.query_string().as_bytes())?
        .iter()
        .any(|(k, v)| k == "openfile" && v == "1");
    let mut location = format!(
        "{FILES_PATH}?dir={}&fileid={}",
        encode(&format!("/{parent}")),
        located.node.id
    );
    if open {
        location.push_str("&openfile=true");
    }
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish())
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
