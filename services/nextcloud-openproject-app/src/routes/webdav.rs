//! The WebDAV subset (spec §7): `/remote.php/dav/files/<user>/…` for the caller's own tree and
//! `/remote.php/webdav/…` for the same tree, plus `HEAD /remote.php/dav` (OpenProject's
//! application password check). Errors are Sabre documents (see `error::Family::Dav`).
//!
//! Paths are taken from the raw request path and percent-decoded per segment here, so an
//! encoded `/` stays inside a name and is refused.

use std::io::Read;

use actix_web::{
    http::{header, Method, StatusCode},
    web, HttpRequest, HttpResponse,
};
use futures_util::StreamExt;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use service_kit::db::serialized_transaction;
use storage_protocol::files::{parse_propfind, Propfind};

use crate::{
    domain::{
        authentication::AuthenticatedUser,
        files::{
            self, children, mime_for, ops, resolve, store::ContentStore, valid_name, FileError,
            Located, Viewer, FILES_LOCK,
        },
    },
    error::{xml_escape, ApiError},
    security::{check_csrf, MaybeUser},
    state::AppState,
};

const FILES_ROOT: &str = "/remote.php/dav/files/";
const WEBDAV_ROOT: &str = "/remote.php/webdav";
const ALLOW: &str = "OPTIONS, GET, HEAD, DELETE, PROPFIND, PUT, MKCOL, MOVE";
/// Uploads reach the disk in pieces of this size.
const WRITE_CHUNK: usize = 1024 * 1024;
/// Downloads are read in pieces of this size.
const READ_CHUNK: usize = 256 * 1024;

const DAV: &str = "DAV:";
const OC: &str = "http://owncloud.org/ns";

/// Like PHP's `rawurlencode`: everything but `A-Z a-z 0-9 - _ . ~`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

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
    // Cookie sessions write only with the page's token (Basic and Bearer never need one).
    if matches!(req.method().as_str(), "PUT" | "MKCOL" | "DELETE" | "MOVE") {
        check_csrf(&state, &req, &user, None)?;
    }
    match req.method().as_str() {
        "GET" | "HEAD" => get(&req, &state, &user, target).await,
        "PUT" => put(&req, payload, &state, &user, target).await,
        "MKCOL" => mkcol(&req, payload, &state, &user, target).await,
        "DELETE" => delete(&state, &user, target).await,
        "PROPFIND" => propfind(&req, payload, &state, &user, target).await,
        "MOVE" => move_to(&req, &state, &user, target).await,
        _ => Err(ApiError::MethodNotAllowed(format!(
            "{} is not supported here",
            req.method()
        ))),
    }
}

fn options() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("DAV", "1, 3"))
        .insert_header((header::ALLOW, ALLOW))
        .finish()
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
            let owner = percent_decode_str(owner)
                .decode_utf8()
                .map_err(|_| ApiError::BadRequest("invalid path encoding".into()))?;
            if owner != user.uid {
                return Err(ApiError::Missing(
                    "Principal with name ".to_string() + &owner + " not found",
                ));
            }
            (
                format!("{FILES_ROOT}{}", utf8_percent_encode(&user.uid, SEGMENT)),
                rest,
            )
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

    fn href(&self, located: &Located) -> String {
        let mut href = self.base.clone();
        href.push('/');
        for (i, segment) in located.path.iter().enumerate() {
            if i > 0 {
                href.push('/');
            }
            href.extend(utf8_percent_encode(segment, SEGMENT));
        }
        if located.node.is_folder && !located.path.is_empty() {
            href.push('/');
        }
        href
    }
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

/// The caller's view, loaded inside `work`'s connection.
async fn read<T: Send + 'static>(
    state: &AppState,
    user: &AuthenticatedUser,
    work: impl FnOnce(&mut service_kit::db::AnyConnection, &Viewer) -> Result<T, FileError>
        + Send
        + 'static,
) -> Result<T, ApiError> {
    let uid = user.uid.clone();
    state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, &uid)?;
            files::ensure_roots(conn, &viewer)?;
            work(conn, &viewer).map_err(ApiError::from)
        })
        .await
}

/// Like [`read`], in one serialized transaction.
async fn write<T: Send + 'static>(
    state: &AppState,
    user: &AuthenticatedUser,
    work: impl FnOnce(&mut service_kit::db::AnyConnection, &Viewer) -> Result<T, FileError>
        + Send
        + 'static,
) -> Result<T, ApiError> {
    let uid = user.uid.clone();
    state
        .db
        .run(move |conn| {
            serialized_transaction(conn, FILES_LOCK, |conn| {
                let viewer = Viewer::load(conn, &uid)?;
                work(conn, &viewer)
            })
            .map_err(ApiError::from)
        })
        .await
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

/// GET/HEAD — a file's content with its headers.
async fn get(
    req: &HttpRequest,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let store = state.files.clone();
    let segments = target.segments.clone();
    let (located, file) = read(state, user, move |conn, viewer| {
        let located = resolve(conn, viewer, &segments)?.ok_or(FileError::NotFound)?;
        // Opened here: the content stays readable even if a concurrent PUT replaces it.
        let file = match &located.node.content_key {
            Some(key) if !located.node.is_folder => Some(store.read(key)?),
            _ => None,
        };
        Ok((located, file))
    })
    .await?;
    let node = &located.node;
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::ETAG, format!("\"{}\"", node.etag)))
        .insert_header((header::LAST_MODIFIED, http_date(node.mtime)))
        .insert_header(("OC-FileId", oc_id(state, node.id)));
    let Some(file) = file else {
        if req.method() == Method::HEAD {
            return Ok(response.finish());
        }
        return Err(ApiError::MethodNotAllowed(
            "GET is not supported on folders".into(),
        ));
    };
    response.insert_header((header::CONTENT_TYPE, node.mime_type.as_str()));
    // HEAD too: actix sends the sized body's length and skips the body itself.
    Ok(response
        .no_chunking(node.size.max(0) as u64)
        .streaming(read_stream(file)))
}

/// The file in pieces, read on blocking threads.
pub(crate) fn read_stream(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> {
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = web::block(move || {
            let mut buffer = vec![0u8; READ_CHUNK];
            let n = file.read(&mut buffer)?;
            buffer.truncate(n);
            Ok::<_, std::io::Error>((buffer, file))
        })
        .await;
        match read {
            Ok(Ok((buffer, _))) if buffer.is_empty() => None,
            Ok(Ok((buffer, file))) => Some((Ok(web::Bytes::from(buffer)), Some(file))),
            Ok(Err(e)) => Some((Err(actix_web::error::ErrorInternalServerError(e)), None)),
            Err(e) => Some((Err(actix_web::error::ErrorInternalServerError(e)), None)),
        }
    })
}

/// Writes the body to a staging file, refusing it past the upload limit.
async fn stage(
    req: &HttpRequest,
    mut payload: web::Payload,
    store: &ContentStore,
    limit: u64,
) -> Result<files::store::Staged, ApiError> {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit) {
        return Err(ApiError::PayloadTooLarge);
    }
    let (file, staged) = store.begin().map_err(FileError::from)?;
    let mut slot = Some((file, staged));
    let mut buffer = web::BytesMut::new();
    let result: Result<(), ApiError> = async {
        loop {
            let chunk = payload.next().await;
            let done = chunk.is_none();
            if let Some(chunk) = chunk {
                let chunk =
                    chunk.map_err(|e| ApiError::BadRequest(format!("unreadable body: {e}")))?;
                let written = slot.as_ref().map_or(0, |(_, s)| s.size as u64);
                if written + (buffer.len() + chunk.len()) as u64 > limit {
                    return Err(ApiError::PayloadTooLarge);
                }
                buffer.extend_from_slice(&chunk);
            }
            if buffer.len() >= WRITE_CHUNK || (done && !buffer.is_empty()) {
                let piece = buffer.split().freeze();
                let (mut file, mut staged) = slot.take().ok_or_else(|| {
                    ApiError::Unexpected(anyhow::anyhow!("the staging file is gone"))
                })?;
                let (file, staged) = web::block(move || {
                    ContentStore::write(&mut file, &mut staged, &piece).map(|()| (file, staged))
                })
                .await
                .map_err(|e| ApiError::Unexpected(anyhow::Error::new(e)))?
                .map_err(FileError::from)?;
                slot = Some((file, staged));
            }
            if done {
                return Ok(());
            }
        }
    }
    .await;
    let (_, staged) =
        slot.ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("the staging file is gone")))?;
    match result {
        Ok(()) => Ok(staged),
        Err(e) => {
            store.discard(&staged);
            Err(e)
        }
    }
}

/// PUT — 201 created or 204 replaced.
async fn put(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    if target.segments.is_empty() {
        return Err(ApiError::MethodNotAllowed("the target is a folder".into()));
    }
    // Sync clients keep their local modification time (unix seconds, as Nextcloud reads it).
    let client_mtime = req
        .headers()
        .get("X-OC-Mtime")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split('.').next()?.parse::<i64>().ok())
        .filter(|t| *t > 0);
    let staged = stage(req, payload, &state.files, state.settings.max_upload_bytes).await?;
    let store = state.files.clone();
    let segments = target.segments.clone();
    let mime = mime_for(segments.last().map_or("", String::as_str));
    let outcome = {
        let staged_key = staged.key.clone();
        let result = write(state, user, move |conn, viewer| {
            let outcome = ops::put(conn, &store, viewer, &segments, &staged, mime, client_mtime);
            if outcome.is_err() {
                store.discard(&staged);
            }
            outcome
        })
        .await;
        if result.is_err() {
            // Committed content of a rolled-back transaction is unreferenced.
            state.files.remove(&[staged_key]);
        }
        result?
    };
    state
        .files
        .remove(&outcome.replaced_key.into_iter().collect::<Vec<_>>());
    let etag = format!("\"{}\"", outcome.node.node.etag);
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    };
    let mut response = HttpResponse::build(status);
    if client_mtime.is_some() {
        response.insert_header(("X-OC-MTime", "accepted"));
    }
    Ok(response
        .insert_header(("OC-FileId", oc_id(state, outcome.node.node.id)))
        .insert_header(("OC-ETag", etag.clone()))
        .insert_header((header::ETAG, etag))
        .finish())
}

/// MKCOL — 201; a request body is 415.
async fn mkcol(
    req: &HttpRequest,
    mut payload: web::Payload,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let has_body = announced.is_some_and(|n| n > 0)
        || matches!(payload.next().await, Some(Ok(chunk)) if !chunk.is_empty());
    if has_body {
        return Err(ApiError::UnsupportedMediaType(
            "The request body for the MKCOL request must be empty".into(),
        ));
    }
    if target.segments.is_empty() {
        return Err(ApiError::MethodNotAllowed(
            "The resource you tried to create already exists".into(),
        ));
    }
    let segments = target.segments.clone();
    let created = write(state, user, move |conn, viewer| {
        ops::mkcol(conn, viewer, &segments)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("OC-FileId", oc_id(state, created.node.id)))
        .finish())
}

/// DELETE — 204, folders recursively.
async fn delete(
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let segments = target.segments.clone();
    let keys = write(state, user, move |conn, viewer| {
        ops::delete(conn, viewer, &segments)
    })
    .await?;
    state.files.remove(&keys);
    Ok(HttpResponse::NoContent().finish())
}

/// MOVE — `Destination` (absolute URL or path) in the same tree, `Overwrite: F` refuses an
/// existing destination (412); 201 new, 204 replaced.
async fn move_to(
    req: &HttpRequest,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let destination = req
        .headers()
        .get("Destination")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::BadRequest("The destination header was not supplied".into()))?;
    let path = match url::Url::parse(destination) {
        Ok(url) => url.path().to_string(),
        Err(_) => destination.to_string(),
    };
    let to = DavPath::parse(&path, user).map_err(|e| match e {
        ApiError::NotFound => {
            ApiError::BadRequest("The destination is not in this user's files".into())
        }
        other => other,
    })?;
    if to.segments.is_empty() {
        return Err(ApiError::Forbidden("The root cannot be replaced".into()));
    }
    let overwrite = !req
        .headers()
        .get("Overwrite")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("F"));
    let from = target.segments.clone();
    let outcome = write(state, user, move |conn, viewer| {
        ops::move_node(conn, viewer, &from, &to.segments, overwrite)
    })
    .await?;
    state.files.remove(&outcome.removed_keys);
    Ok(if outcome.replaced {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::Created().finish()
    })
}

/// PROPFIND — 207 multistatus of the resource and, with depth 1, its children.
async fn propfind(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let raw = crate::body::read_limited(req, payload, state.settings.common.max_body_bytes).await?;
    let body = std::str::from_utf8(&raw)
        .map_err(|_| ApiError::BadRequest("The request body is not valid XML".into()))?;
    let request = parse_propfind(body)
        .map_err(|_| ApiError::BadRequest("The request body is not valid XML".into()))?;
    let depth_zero = req
        .headers()
        .get("Depth")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0");
    let segments = target.segments.clone();
    let nodes = read(state, user, move |conn, viewer| {
        let located = resolve(conn, viewer, &segments)?.ok_or(FileError::NotFound)?;
        let mut nodes = vec![located.clone()];
        if !depth_zero && located.node.is_folder {
            nodes.extend(children(conn, viewer, &located)?);
        }
        let owner = (viewer.uid.clone(), viewer.display_name.clone());
        Ok((nodes, owner))
    })
    .await?;
    let (nodes, owner) = nodes;
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">",
    );
    for located in &nodes {
        xml.push_str(&response_xml(state, &target, located, &owner, &request));
    }
    xml.push_str("</d:multistatus>");
    Ok(HttpResponse::build(StatusCode::MULTI_STATUS)
        .content_type("application/xml; charset=utf-8")
        .body(xml))
}

/// Every property of §7.2 in allprop order: (namespace, name).
const ALL_PROPS: [(&str, &str); 11] = [
    (OC, "fileid"),
    (OC, "id"),
    (OC, "size"),
    (DAV, "getcontentlength"),
    (DAV, "getcontenttype"),
    (DAV, "getlastmodified"),
    (DAV, "getetag"),
    (DAV, "resourcetype"),
    (OC, "permissions"),
    (OC, "owner-id"),
    (OC, "owner-display-name"),
];

/// The value of a property as XML content, `None` when it does not apply.
fn property(
    state: &AppState,
    located: &Located,
    owner: &(String, String),
    namespace: &str,
    name: &str,
) -> Option<String> {
    let node = &located.node;
    let text = |s: &str| Some(xml_escape(s));
    match (namespace, name) {
        (OC, "fileid") => Some(node.id.to_string()),
        (OC, "id") => Some(oc_id(state, node.id)),
        (OC, "size") => Some(node.size.to_string()),
        (DAV, "getcontentlength") if !node.is_folder => Some(node.size.to_string()),
        (DAV, "getcontenttype") if !node.is_folder => text(&node.mime_type),
        (DAV, "getlastmodified") => Some(http_date(node.mtime)),
        (DAV, "getetag") => text(&format!("\"{}\"", node.etag)),
        (DAV, "resourcetype") if node.is_folder => Some("<d:collection/>".into()),
        (DAV, "resourcetype") => Some(String::new()),
        (OC, "permissions") => Some(located.permissions().into()),
        // Team folder items are the requester's, as Nextcloud shows them.
        (OC, "owner-id") => text(node.owner_uid.as_deref().unwrap_or(&owner.0)),
        (OC, "owner-display-name") => text(&owner.1),
        _ => None,
    }
}

fn element(namespace: &str, name: &str, value: Option<&str>) -> String {
    let (open, close) = match namespace {
        DAV => (format!("d:{name}"), format!("d:{name}")),
        OC => (format!("oc:{name}"), format!("oc:{name}")),
        "http://nextcloud.org/ns" => (format!("nc:{name}"), format!("nc:{name}")),
        other => (
            format!("x:{name} xmlns:x=\"{}\"", xml_escape(other)),
            format!("x:{name}"),
        ),
    };
    match value {
        Some(v) if !v.is_empty() => format!("<{open}>{v}</{close}>"),
        _ => format!("<{open}/>"),
    }
}

fn response_xml(
    state: &AppState,
    target: &DavPath,
    located: &Located,
    owner: &(String, String),
    request: &Propfind,
) -> String {
    let wanted: Vec<(String, String)> = match request {
        Propfind::AllProp => ALL_PROPS
            .iter()
            .map(|(ns, n)| (ns.to_string(), n.to_string()))
            .collect(),
        Propfind::Props(props) => props.clone(),
    };
    let mut found = String::new();
    let mut missing = String::new();
    for (namespace, name) in &wanted {
        match property(state, located, owner, namespace, name) {
            Some(value) => found.push_str(&element(namespace, name, Some(&value))),
            None if matches!(request, Propfind::Props(_)) => {
                missing.push_str(&element(namespace, name, None));
            }
            None => {}
        }
    }
    let mut xml = format!(
        "<d:response><d:href>{}</d:href>",
        xml_escape(&target.href(located))
    );
    if !found.is_empty() {
        xml.push_str(&format!(
            "<d:propstat><d:prop>{found}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>"
        ));
    }
    if !missing.is_empty() {
        xml.push_str(&format!(
            "<d:propstat><d:prop>{missing}</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>"
        ));
    }
    xml.push_str("</d:response>");
    xml
}
