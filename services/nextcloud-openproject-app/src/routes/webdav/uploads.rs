//! `/remote.php/dav/uploads/<user>/<upload>/<chunk>`: chunked uploads (see
//! `domain::files::uploads`). Only the owner sees their uploads; another user's are 404.

use actix_web::{http::Method, web, HttpRequest, HttpResponse};
use storage_protocol::multistatus::Multistatus;

use super::{
    check_owner, client_mtime, header_str, header_u64, http_date, is_write, multi_status, options,
    propfind, segments, stage,
    write::{content_claims, file_written, missing_parent, written_status},
    DavPath, UPLOADS_ROOT,
};
use crate::{
    auth::{check_csrf, MaybeUser},
    domain::{
        authentication::AuthenticatedUser,
        files::{store::Staging, uploads::UploadEntry},
    },
    error::ApiError,
    flows,
    state::AppState,
};

/// Where in the uploads tree a request points.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UploadPath {
    /// `/remote.php/dav/uploads/<encoded user>`.
    base: String,
    upload: Option<String>,
    chunk: Option<String>,
}

impl UploadPath {
    fn parse(raw: &str, user: &AuthenticatedUser) -> Result<Self, ApiError> {
        let rest = raw.strip_prefix(UPLOADS_ROOT).ok_or(ApiError::NotFound)?;
        let (owner, rest) = rest.split_once('/').unwrap_or((rest, ""));
        check_owner(owner, user)?;
        let base = format!("{UPLOADS_ROOT}{owner}");
        let mut parts = segments(rest)?.into_iter();
        let path = Self {
            base,
            upload: parts.next(),
            chunk: parts.next(),
        };
        if parts.next().is_some() {
            return Err(ApiError::Missing("Upload folders hold no folders".into()));
        }
        Ok(path)
    }

    fn upload(&self) -> Result<&str, ApiError> {
        self.upload
            .as_deref()
            .ok_or_else(|| ApiError::MethodNotAllowed("This is the uploads root".into()))
    }
}

/// Any method under /remote.php/dav/uploads/….
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
    let path = UploadPath::parse(req.uri().path(), &user)?;
    if is_write(req.method()) {
        check_csrf(&state, &req, &user, None)?;
    }
    match (req.method().as_str(), path.chunk.is_some()) {
        ("MKCOL", false) => mkcol(&req, &state, &user, &path).await,
        ("PUT", true) => put_chunk(&req, payload, &state, &user, &path).await,
        ("MOVE", true) => move_file(&req, &state, &user, &path).await,
        ("DELETE", _) => delete(&state, &user, &path).await,
        ("PROPFIND", _) => list(&req, payload, &state, &user, &path).await,
        _ => Err(ApiError::MethodNotAllowed(format!(
            "{} is not supported here",
            req.method()
        ))),
    }
}

/// MKCOL of an upload folder, with the target file as `Destination` (chunking v2).
async fn mkcol(
    req: &HttpRequest,
    state: &AppState,
    user: &AuthenticatedUser,
    path: &UploadPath,
) -> Result<HttpResponse, ApiError> {
    let name = path.upload()?.to_string();
    let destination = match header_str(req, "Destination") {
        Some(_) => Some(DavPath::destination(req, user)?.segments.join("/")),
        None => None,
    };
    flows::webdav::create_upload(state, user, name, destination).await?;
    Ok(HttpResponse::Created().finish())
}

/// PUT of a chunk — 201 new, 204 replaced.
async fn put_chunk(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    user: &AuthenticatedUser,
    path: &UploadPath,
) -> Result<HttpResponse, ApiError> {
    let name = path.upload()?.to_string();
    let chunk = path.chunk.clone().unwrap_or_default();
    let total = header_u64(req, "OC-Total-Length");
    if total.is_some_and(|t| t > state.settings.max_upload_bytes) {
        return Err(ApiError::PayloadTooLarge);
    }
    let destination = flows::webdav::upload_destination(state, user, name.clone()).await?;
    if let Some(destination) = &destination {
        let segments: Vec<String> = destination.split('/').map(str::to_string).collect();
        flows::webdav::check_room(state, user, &segments, total).await?;
    }
    let staged = stage(req, payload, state, Staging::Chunk).await?;
    let created = flows::webdav::put_chunk(state, user, name, chunk, staged).await?;
    Ok(if created {
        HttpResponse::Created().finish()
    } else {
        HttpResponse::NoContent().finish()
    })
}

/// MOVE of `.file` to the target: assembles the chunks in the order of their names.
async fn move_file(
    req: &HttpRequest,
    state: &AppState,
    user: &AuthenticatedUser,
    path: &UploadPath,
) -> Result<HttpResponse, ApiError> {
    if path.chunk.as_deref() != Some(".file") {
        return Err(ApiError::Forbidden(
            "Only the upload's .file can be moved".into(),
        ));
    }
    let name = path.upload()?.to_string();
    let destination = DavPath::write_destination(req, user)?;
    let total = header_u64(req, "OC-Total-Length");
    flows::webdav::check_room(state, user, &destination.segments, total).await?;
    let assembly = flows::webdav::begin_assembly(state, user, name).await?;
    let expected = total.map(|t| t as i64);
    let outcome = flows::webdav::assemble(
        state,
        user,
        assembly,
        destination.segments.clone(),
        expected,
        content_claims(req),
    )
    .await
    .map_err(|e| missing_parent(&destination, e))?;
    Ok(file_written(
        state,
        written_status(outcome.created),
        &outcome.node,
        client_mtime(req).is_some(),
    ))
}

/// DELETE of an upload folder aborts the upload; of a chunk, drops the chunk.
async fn delete(
    state: &AppState,
    user: &AuthenticatedUser,
    path: &UploadPath,
) -> Result<HttpResponse, ApiError> {
    let name = path.upload()?.to_string();
    let chunk = path.chunk.clone();
    flows::webdav::delete_upload(state, user, name, chunk).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// PROPFIND of the uploads root (the user's uploads), an upload (its chunks, which clients
/// read to resume), or a chunk.
async fn list(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    user: &AuthenticatedUser,
    path: &UploadPath,
) -> Result<HttpResponse, ApiError> {
    let request = propfind::request_body(req, payload, state).await?;
    let deep = propfind::wants_children(req);
    let entries =
        flows::webdav::list_uploads(state, user, path.upload.clone(), path.chunk.clone(), deep)
            .await?;
    let mut out = Multistatus::new();
    for entry in &entries {
        out.response(
            &entry.href(&path.base),
            &request,
            &UPLOAD_PROPS,
            |ns, name| entry.property(ns, name),
        );
    }
    Ok(multi_status(out))
}

/// The properties of upload folders and chunks (allprop shows these, not those of files).
const UPLOAD_PROPS: [(&str, &str); 4] = [
    ("DAV:", "resourcetype"),
    ("DAV:", "getcontentlength"),
    ("DAV:", "getlastmodified"),
    ("DAV:", "getetag"),
];

/// How an upload folder or chunk is written in a PROPFIND answer.
trait EntryView {
    fn href(&self, base: &str) -> String;
    fn property(&self, namespace: &str, name: &str) -> Option<String>;
}

impl EntryView for UploadEntry {
    fn href(&self, base: &str) -> String {
        let mut href = base.to_string();
        href.push('/');
        for (i, segment) in self.path.iter().enumerate() {
            if i > 0 {
                href.push('/');
            }
            super::push_encoded(&mut href, segment);
        }
        if self.size.is_none() && !self.path.is_empty() {
            href.push('/');
        }
        href
    }

    fn property(&self, namespace: &str, name: &str) -> Option<String> {
        match (namespace, name, self.size) {
            ("DAV:", "resourcetype", None) => Some("<d:collection/>".into()),
            ("DAV:", "resourcetype", Some(_)) => Some(String::new()),
            ("DAV:", "getcontentlength", Some(size)) => Some(size.to_string()),
            ("DAV:", "getlastmodified", _) => Some(http_date(self.mtime)),
            ("DAV:", "getetag", _) => Some(format!("&quot;{}&quot;", self.etag)),
            _ => None,
        }
    }
}
