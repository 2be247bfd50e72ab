//! `/remote.php/dav/uploads/<user>/<upload>/<chunk>`: chunked uploads (see
//! `domain::files::uploads`). Only the owner sees their uploads; another user's are 404.

use actix_web::{http::Method, web, HttpRequest, HttpResponse};
use storage_protocol::multistatus::Multistatus;

use super::{
    check_owner, client_mtime, header_str, header_u64, http_date, is_write, multi_status, options,
    preconditions, propfind, read, record_staged, segments, stage, write,
    write::{check_room, file_written, missing_parent, written_status},
    DavPath, UPLOADS_ROOT,
};
use crate::{
    auth::{check_csrf, MaybeUser},
    domain::{
        authentication::AuthenticatedUser,
        files::{
            checksum, mime_for, now_secs,
            ops::{self, NewContent, PutOutcome},
            uploads::{self, Assembly},
            FileError,
        },
    },
    error::ApiError,
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
    write(state, user, move |conn, viewer| {
        uploads::create(conn, viewer, &name, destination.as_deref(), now_secs())
    })
    .await?;
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
    let lookup = name.clone();
    let upload = read(state, user, move |conn, viewer| {
        uploads::find(conn, viewer, &lookup)
    })
    .await
    .map_err(|_| ApiError::Missing(format!("Upload {name} does not exist")))?;
    if let Some(destination) = &upload.destination {
        let segments: Vec<String> = destination.split('/').map(str::to_string).collect();
        check_room(state, user, &segments, total).await?;
    }
    let staged = stage(req, payload, &state.files, state.settings.max_upload_bytes).await?;
    let stored = record_staged(state, user, staged, move |conn, viewer, staged| {
        let upload = uploads::find(conn, viewer, &name)?;
        uploads::add_chunk(conn, &upload, &chunk, &staged.key, staged.size, now_secs())
    })
    .await?;
    state
        .files
        .remove(&stored.replaced_key.into_iter().collect::<Vec<_>>());
    Ok(if stored.created {
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
    check_room(state, user, &destination.segments, total).await?;
    let assembly = write(state, user, move |conn, viewer| {
        let upload = uploads::find(conn, viewer, &name)?;
        uploads::begin_assembly(conn, &upload, now_secs())
    })
    .await?;
    let expected = total.map(|t| t as i64);
    let outcome = assemble(
        req,
        state,
        user,
        assembly,
        destination.segments.clone(),
        expected,
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

/// Turns a claimed upload into the file at `target`: checks the total length, concatenates
/// the chunks into a staged content, stores it as PUT does, and ends the upload. On failure the
/// claim is released (the client may retry) and nothing is left of the attempt.
pub(super) async fn assemble(
    req: &HttpRequest,
    state: &AppState,
    user: &AuthenticatedUser,
    assembly: Assembly,
    target: Vec<String>,
    expected_total: Option<i64>,
) -> Result<PutOutcome, ApiError> {
    let upload_id = assembly.upload_id;
    let result = assemble_claimed(req, state, user, assembly, target, expected_total).await;
    match result {
        Ok((outcome, chunk_keys)) => {
            state.files.remove(&chunk_keys);
            state
                .files
                .remove(&outcome.replaced_key.iter().cloned().collect::<Vec<_>>());
            Ok(outcome)
        }
        Err(e) => {
            let released = write(state, user, move |conn, _| {
                uploads::release(conn, upload_id)
            })
            .await;
            if let Err(release) = released {
                tracing::warn!(error = %release, "a failed upload's claim could not be released");
            }
            Err(e)
        }
    }
}

async fn assemble_claimed(
    req: &HttpRequest,
    state: &AppState,
    user: &AuthenticatedUser,
    assembly: Assembly,
    target: Vec<String>,
    expected_total: Option<i64>,
) -> Result<(PutOutcome, Vec<String>), ApiError> {
    if let Some(expected) = expected_total.filter(|e| *e != assembly.total) {
        return Err(ApiError::BadRequest(format!(
            "Chunks on server do not sum up to {expected} but to {} bytes",
            assembly.total
        )));
    }
    if assembly.total as u64 > state.settings.max_upload_bytes {
        return Err(ApiError::PayloadTooLarge);
    }
    let store = state.files.clone();
    let keys = assembly.keys.clone();
    let staged = web::block(move || store.assemble(&keys))
        .await
        .map_err(|e| ApiError::Unexpected(anyhow::Error::new(e)))?
        .map_err(FileError::from)?;
    let checksum = match checksum::to_store(header_str(req, "OC-Checksum"), &staged.sha1_hex()) {
        Ok(checksum) => checksum,
        Err(e) => {
            state.files.discard(&staged);
            return Err(FileError::from(e).into());
        }
    };
    let mime = mime_for(target.last().map_or("", String::as_str));
    let mtime = client_mtime(req);
    let conditions = preconditions(req);
    let upload_id = assembly.upload_id;
    record_staged(state, user, staged, move |conn, viewer, staged| {
        let content = NewContent {
            staged,
            mime_type: mime,
            client_mtime: mtime,
            checksum: &checksum,
        };
        let outcome = ops::put(conn, viewer, &target, &content, &conditions)?;
        Ok((outcome, uploads::finish(conn, upload_id)?))
    })
    .await
}

/// DELETE of an upload folder aborts the upload; of a chunk, drops the chunk.
async fn delete(
    state: &AppState,
    user: &AuthenticatedUser,
    path: &UploadPath,
) -> Result<HttpResponse, ApiError> {
    let name = path.upload()?.to_string();
    let chunk = path.chunk.clone();
    let keys = write(state, user, move |conn, viewer| {
        let upload = uploads::find(conn, viewer, &name)?;
        match chunk {
            Some(chunk) => {
                let key = crate::db::uploads::find_chunk(conn, upload.id, &chunk)?
                    .ok_or(FileError::NotFound)?
                    .content_key;
                crate::db::uploads::delete_chunk(conn, upload.id, &chunk)?;
                Ok(vec![key])
            }
            None => uploads::finish(conn, upload.id),
        }
    })
    .await?;
    state.files.remove(&keys);
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
    let wanted = path.clone();
    let entries = read(state, user, move |conn, viewer| {
        let mut entries = Vec::new();
        let Some(name) = &wanted.upload else {
            entries.push(Entry::folder(vec![], 0));
            if deep {
                for upload in crate::db::uploads::list(conn, &viewer.uid)? {
                    entries.push(Entry::folder(vec![upload.name], upload.updated_at));
                }
            }
            return Ok(entries);
        };
        let upload = uploads::find(conn, viewer, name)?;
        let mut chunks = crate::db::uploads::chunks(conn, upload.id)?;
        chunks.sort_by(|a, b| uploads::natural_order(&a.name, &b.name));
        match &wanted.chunk {
            Some(chunk) => {
                let found = chunks
                    .into_iter()
                    .find(|c| &c.name == chunk)
                    .ok_or(FileError::NotFound)?;
                entries.push(Entry::chunk(&upload.name, found, upload.updated_at));
            }
            None => {
                entries.push(Entry::folder(vec![upload.name.clone()], upload.updated_at));
                if deep {
                    for chunk in chunks {
                        entries.push(Entry::chunk(&upload.name, chunk, upload.updated_at));
                    }
                }
            }
        }
        Ok(entries)
    })
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

/// An upload folder or chunk in a PROPFIND answer.
struct Entry {
    path: Vec<String>,
    size: Option<i64>,
    etag: String,
    mtime: i64,
}

impl Entry {
    fn folder(path: Vec<String>, mtime: i64) -> Self {
        let etag = format!("{mtime}");
        Self {
            path,
            size: None,
            etag,
            mtime,
        }
    }

    fn chunk(upload: &str, chunk: crate::db::uploads::ChunkRow, mtime: i64) -> Self {
        Self {
            path: vec![upload.to_string(), chunk.name],
            size: Some(chunk.size),
            etag: chunk.content_key.chars().take(13).collect(),
            mtime,
        }
    }

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
