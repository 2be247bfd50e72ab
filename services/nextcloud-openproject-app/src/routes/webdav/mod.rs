//! The WebDAV server (spec §7, and the real server's behaviour where issue 15 states it):
//! `/remote.php/dav/files/<user>/…` and `/remote.php/webdav/…` for the caller's own tree,
//! `/remote.php/dav/uploads/<user>/…` for chunked uploads ([`uploads`]), and `HEAD
//! /remote.php/dav` (OpenProject's application password check). Errors are Sabre documents
//! (see `error::Family::Dav`).
//!
//! Paths are taken from the raw request path and percent-decoded per segment here, so an
//! encoded `/` stays inside a name and is refused.

mod get;
mod propfind;
mod proppatch;
mod uploads;
mod write;

use actix_web::{
    http::{header, Method},
    web, HttpRequest, HttpResponse,
};
use percent_encoding::percent_decode_str;
use storage_protocol::multistatus::Multistatus;

use crate::{
    auth::{check_csrf, MaybeUser},
    domain::{
        authentication::AuthenticatedUser,
        files::{
            preconditions::{EtagList, Preconditions},
            store::{Staged, Staging},
            valid_name,
        },
    },
    error::ApiError,
    flows::files::{read_stream, stage_stream},
    state::AppState,
};

pub use uploads::handle as uploads;

const FILES_ROOT: &str = "/remote.php/dav/files/";
const UPLOADS_ROOT: &str = "/remote.php/dav/uploads/";
const WEBDAV_ROOT: &str = "/remote.php/webdav";
/// The methods of the files tree (also the `Allow` of its 405 answers).
pub const ALLOW: &str = "OPTIONS, GET, HEAD, DELETE, PROPFIND, PROPPATCH, PUT, MKCOL, MOVE, COPY";

/// HEAD (and GET, PROPFIND) /remote.php/dav — 200 for an authenticated request, else 401.
pub async fn dav_root(req: HttpRequest, caller: MaybeUser) -> Result<HttpResponse, ApiError> {
    if req.method() == Method::OPTIONS {
        return Ok(options());
    }
    caller.require_user()?;
    Ok(HttpResponse::Ok().finish())
}

/// Any method under /remote.php/dav/files/{user}/… and /remote.php/webdav/….
pub async fn handle(
    req: HttpRequest,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if req.method() == Method::OPTIONS {
        return Ok(options());
    }
    let user = caller.require_user()?.clone();
    let target = DavPath::parse(req.uri().path(), &user)?;
    if is_write(req.method()) {
        check_csrf(&state, &req, &user, None)?;
    }
    match req.method().as_str() {
        "GET" | "HEAD" => get::get(&req, &state, &user, target).await,
        "PUT" => write::put(&req, payload, &state, &user, target).await,
        "MKCOL" => write::mkcol(&req, payload, &state, &user, target).await,
        "DELETE" => write::delete(&state, &user, target).await,
        "PROPFIND" => propfind::propfind(&req, payload, &state, &user, target).await,
        "PROPPATCH" => proppatch::proppatch(&req, payload, &state, &user, target).await,
        "MOVE" => write::move_to(&req, &state, &user, target).await,
        "COPY" => write::copy(&req, &state, &user, target).await,
        _ => Err(ApiError::MethodNotAllowed(format!(
            "{} is not supported here",
            req.method()
        ))),
    }
}

/// Cookie sessions write only with the page's token (Basic and Bearer never need one).
fn is_write(method: &Method) -> bool {
    matches!(
        method.as_str(),
        "PUT" | "MKCOL" | "DELETE" | "MOVE" | "COPY" | "PROPPATCH"
    )
}

fn options() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("DAV", "1, 3"))
        .insert_header((header::ALLOW, ALLOW))
        .finish()
}

/// Writes a path segment into an href as the real server does (Sabre's `encodePath`):
/// lowercase hex escapes, with unreserved characters, sub-delimiters, `:` and `@` as they are.
fn push_encoded(href: &mut String, segment: &str) {
    for byte in segment.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte);
        if keep {
            href.push(byte as char);
        } else {
            href.push_str(&format!("%{byte:02x}"));
        }
    }
}

/// A path in the caller's tree and the base its hrefs use.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DavPath {
    /// `/remote.php/dav/files/<encoded user>` or `/remote.php/webdav`, no trailing `/`.
    base: String,
    segments: Vec<String>,
}

impl DavPath {
    /// Another user's tree is 404; bad names are 400.
    fn parse(raw: &str, user: &AuthenticatedUser) -> Result<Self, ApiError> {
        let (base, rest) = if let Some(rest) = raw.strip_prefix(FILES_ROOT) {
            let (owner, rest) = rest.split_once('/').unwrap_or((rest, ""));
            check_owner(owner, user)?;
            let mut base = FILES_ROOT.to_string();
            push_encoded(&mut base, &user.uid);
            (base, rest)
        } else if let Some(rest) = raw.strip_prefix(WEBDAV_ROOT) {
            (WEBDAV_ROOT.to_string(), rest.trim_start_matches('/'))
        } else {
            return Err(ApiError::NotFound);
        };
        Ok(Self {
            base,
            segments: segments(rest)?,
        })
    }

    /// The `Destination` of a MOVE or COPY: an absolute URL or a path in the same tree.
    fn destination(req: &HttpRequest, user: &AuthenticatedUser) -> Result<Self, ApiError> {
        let destination = req
            .headers()
            .get("Destination")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::BadRequest("The destination header was not supplied".into())
            })?;
        let path = match url::Url::parse(destination) {
            Ok(url) => url.path().to_string(),
            Err(_) => destination.to_string(),
        };
        Self::parse(&path, user).map_err(|e| match e {
            ApiError::NotFound => {
                ApiError::BadRequest("The destination is not in this user's files".into())
            }
            other => other,
        })
    }

    /// The `Destination` of a write that puts something there (MOVE, COPY, an assembled
    /// upload): never the root.
    fn write_destination(req: &HttpRequest, user: &AuthenticatedUser) -> Result<Self, ApiError> {
        let to = Self::destination(req, user)?;
        if to.segments.is_empty() {
            return Err(ApiError::Forbidden("The root cannot be replaced".into()));
        }
        Ok(to)
    }

    fn href(&self, path: &[String], is_folder: bool) -> String {
        let mut href = self.base.clone();
        href.push('/');
        for (i, segment) in path.iter().enumerate() {
            if i > 0 {
                href.push('/');
            }
            push_encoded(&mut href, segment);
        }
        if is_folder && !path.is_empty() {
            href.push('/');
        }
        href
    }
}

/// Only the owner of a tree reaches it; others are told it does not exist.
fn check_owner(raw_owner: &str, user: &AuthenticatedUser) -> Result<(), ApiError> {
    let owner = percent_decode_str(raw_owner)
        .decode_utf8()
        .map_err(|_| ApiError::BadRequest("invalid path encoding".into()))?;
    if owner != user.uid {
        return Err(ApiError::Missing(
            "Principal with name ".to_string() + &owner + " not found",
        ));
    }
    Ok(())
}

/// Percent-decoded, checked segments; one trailing `/` is allowed (folders).
fn segments(rest: &str) -> Result<Vec<String>, ApiError> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    rest.split('/')
        .map(|raw| {
            let name = percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| ApiError::BadRequest("invalid path encoding".into()))?;
            valid_name(&name).map_err(ApiError::from)?;
            Ok(name.into_owned())
        })
        .collect()
}

/// `oc:id` and the `OC-FileId` header: the id padded to 8 digits, then the instance id.
pub fn oc_id(state: &AppState, id: i64) -> String {
    format!("{id:08}{}", instance_id(state))
}

/// A stable id of this instance, derived from its public URL.
fn instance_id(state: &AppState) -> String {
    let digest = service_kit::crypto::digest(&format!("instance:{}", state.public_url));
    format!("oc{}", &digest[..10])
}

pub(crate) fn http_date(unix_secs: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_secs.max(0) as u64);
    header::HttpDate::from(time).to_string()
}

fn parse_http_date(raw: &str) -> Option<i64> {
    let time: std::time::SystemTime = raw.parse::<header::HttpDate>().ok()?.into();
    let secs = time.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}

fn header_str<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A non-negative integer header (`Content-Length`, `OC-Total-Length`).
fn header_u64(req: &HttpRequest, name: &str) -> Option<u64> {
    header_str(req, name).and_then(|v| v.trim().parse().ok())
}

/// The preconditions a request states.
fn preconditions(req: &HttpRequest) -> Preconditions {
    Preconditions {
        if_match: header_str(req, "If-Match").map(EtagList::parse),
        if_none_match: header_str(req, "If-None-Match").map(EtagList::parse),
        if_modified_since: header_str(req, "If-Modified-Since").and_then(parse_http_date),
        if_unmodified_since: header_str(req, "If-Unmodified-Since").and_then(parse_http_date),
    }
}

/// The modification time a sync client keeps (`X-OC-Mtime`, unix seconds).
fn client_mtime(req: &HttpRequest) -> Option<i64> {
    header_str(req, "X-OC-Mtime")
        .and_then(|v| v.trim().split('.').next()?.parse::<i64>().ok())
        .filter(|t| *t > 0)
}

/// Writes the body as `what` to a staging file, refusing it past the upload limit; a body that
/// breaks off leaves nothing behind.
async fn stage(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    what: Staging,
) -> Result<Staged, ApiError> {
    let limit = state.settings.max_upload_bytes;
    if header_u64(req, header::CONTENT_LENGTH.as_str()).is_some_and(|len| len > limit) {
        return Err(ApiError::PayloadTooLarge);
    }
    stage_stream(payload, &state.files, limit, what).await
}

/// A finished `207 Multi-Status` document as the response.
fn multi_status(document: Multistatus) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::MULTI_STATUS)
        .content_type("application/xml; charset=utf-8")
        .body(document.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_are_encoded_as_sabre_does() {
        let mut href = String::new();
        push_encoded(&mut href, "Ä b@(1)&x;=#%/");
        assert_eq!(href, "%c3%84%20b@(1)&x;=%23%25%2f");
    }
}
