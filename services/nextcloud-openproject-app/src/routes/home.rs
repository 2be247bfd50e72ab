//! `/` and the files page (contract §9).

use actix_web::{http::header, http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use storage_protocol::nextcloud::SESSION_COOKIE;

use crate::{
    auth::MaybeUser,
    domain::files,
    error::{login_url, ApiError},
    flows,
    routes::pages::{shell, to_login, Section, Shell},
    state::AppState,
};

pub const FILES_PATH: &str = "/index.php/apps/files/";

#[derive(Template)]
#[template(path = "files.html")]
struct FilesPage {
    shell: Shell,
    /// The folder shown, `/`-separated from the user's root.
    dir: String,
    breadcrumbs: Vec<Breadcrumb>,
    entries: Vec<FileEntry>,
    /// The file whose details open with the page (`fileid` with `openfile=true`).
    open_file: Option<i64>,
    /// The folder does not exist (404).
    missing: bool,
}

/// One folder of the path above the listing, the root first.
struct Breadcrumb {
    name: String,
    href: String,
}

/// "All files", then each folder of `path` linking to its listing.
fn breadcrumbs(path: &[String]) -> Vec<Breadcrumb> {
    let mut crumbs = vec![Breadcrumb {
        name: "All files".into(),
        href: FILES_PATH.into(),
    }];
    for (depth, name) in path.iter().enumerate() {
        let dir = format!("/{}", path[..=depth].join("/"));
        crumbs.push(Breadcrumb {
            name: name.clone(),
            href: format!("{FILES_PATH}?dir={}", encode(&dir)),
        });
    }
    crumbs
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
        Some(cookie) => flows::sessions::is_live(&state, cookie.value().to_string()).await?,
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
    let open_file = highlighted.filter(|_| params.get("openfile").is_some_and(|v| v == "true"));
    let segments: Option<Vec<String>> = dir
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| files::valid_name(s).ok().map(str::to_string))
        .collect();
    let uid = user.uid.clone();
    let listing = match segments {
        None => None,
        Some(segments) => flows::home::folder_listing(&state, uid, segments).await?,
    };
    let (status, dir, crumbs, entries, missing) = match listing {
        Some((path, children)) => {
            let dir = format!("/{}", path.join("/"));
            let crumbs = breadcrumbs(&path);
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
            (StatusCode::OK, dir, crumbs, entries, false)
        }
        None => (StatusCode::NOT_FOUND, dir, Vec::new(), Vec::new(), true),
    };
    html(
        status,
        &FilesPage {
            shell: shell(&state, &user, Section::Files).await?,
            dir,
            breadcrumbs: crumbs,
            entries,
            open_file,
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
        Some(id) => flows::home::visible_node(&state, uid, id).await?,
        None => None,
    };
    let Some(located) = found else {
        return html(
            StatusCode::NOT_FOUND,
            &FilesPage {
                shell: shell(&state, &user, Section::Files).await?,
                dir: "/".into(),
                breadcrumbs: Vec::new(),
                entries: Vec::new(),
                open_file: None,
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

/// An HTML page with the page security headers (scripts and styles from our origin only).
pub fn html(status: StatusCode, page: &impl Template) -> Result<HttpResponse, ApiError> {
    let body = page
        .render()
        .map_err(|e| ApiError::Unexpected(anyhow::Error::new(e).context("rendering a page")))?;
    let mut response = HttpResponse::build(status);
    for page_header in service_kit::web::PAGE_HEADERS {
        response.insert_header(page_header);
    }
    Ok(response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breadcrumbs_lead_back_to_each_folder() {
        let crumbs = breadcrumbs(&["a b".to_string(), "c".to_string()]);
        let shown: Vec<(&str, &str)> = crumbs
            .iter()
            .map(|c| (c.name.as_str(), c.href.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("All files", FILES_PATH),
                ("a b", "/index.php/apps/files/?dir=%2Fa%20b"),
                ("c", "/index.php/apps/files/?dir=%2Fa%20b%2Fc"),
            ]
        );
    }
}
