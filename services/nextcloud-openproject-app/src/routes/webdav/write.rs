//! The writes of the files tree: PUT (plain and legacy chunked), MKCOL, DELETE, MOVE, COPY.

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use futures_util::StreamExt;

use super::{
    client_mtime, header_str, header_u64, oc_id, preconditions, read, record_staged, stage,
    uploads, write, DavPath,
};
use crate::{
    domain::{
        authentication::AuthenticatedUser,
        files::{
            checksum, mime_for, now_secs,
            ops::{self, NewContent},
            resolve,
            uploads::{add_legacy_chunk, LegacyChunk, LegacyProgress},
            valid_name, FileError, Located,
        },
    },
    error::ApiError,
    state::AppState,
};

/// The answer to a write that leaves a file: its id and etag, as the clients read them.
pub(super) fn file_written(
    state: &AppState,
    status: StatusCode,
    node: &Located,
    mtime_accepted: bool,
) -> HttpResponse {
    let etag = format!("\"{}\"", node.node.etag);
    let mut response = HttpResponse::build(status);
    if mtime_accepted {
        response.insert_header(("X-OC-MTime", "accepted"));
    }
    response
        .insert_header(("OC-FileId", oc_id(state, node.node.id)))
        .insert_header(("OC-ETag", etag.clone()))
        .insert_header((header::ETAG, etag))
        .finish()
}

/// 201 for something new at its place, 204 for what replaced something there.
pub(super) fn written_status(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    }
}

/// PUT into a folder that does not exist is 404 on the real server (MKCOL answers 409).
pub(super) fn missing_parent(target: &DavPath, error: ApiError) -> ApiError {
    match error {
        ApiError::Conflict(message) if message == FileError::ParentMissing.to_string() => {
            let parent = target.segments[..target.segments.len().saturating_sub(1)].join("/");
            ApiError::Missing(format!("File with name {parent} could not be located"))
        }
        other => other,
    }
}

/// Refuses, before the body is read, an upload of `length` bytes that the quota cannot take.
pub(super) async fn check_room(
    state: &AppState,
    user: &AuthenticatedUser,
    segments: &[String],
    length: Option<u64>,
) -> Result<(), ApiError> {
    let Some(length) = length.and_then(|l| i64::try_from(l).ok()) else {
        return Ok(());
    };
    let segments = segments.to_vec();
    read(state, user, move |conn, viewer| {
        if viewer.quota_bytes.is_none() {
            return Ok(());
        }
        match resolve(conn, viewer, &segments)? {
            Some(existing) => viewer.check_quota(conn, &existing.node, length - existing.node.size),
            None => match resolve(conn, viewer, &segments[..segments.len().saturating_sub(1)])? {
                Some(parent) => viewer.check_quota(conn, &parent.node, length),
                None => Ok(()),
            },
        }
    })
    .await
}

/// PUT — 201 created or 204 replaced; with `OC-Chunked`, a legacy chunk.
pub(super) async fn put(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    if target.segments.is_empty() {
        return Err(ApiError::MethodNotAllowed("the target is a folder".into()));
    }
    if req.headers().contains_key("OC-Chunked") {
        return put_legacy_chunk(req, payload, state, user, target).await;
    }
    let length = header_u64(req, header::CONTENT_LENGTH.as_str());
    check_room(state, user, &target.segments, length).await?;
    let staged = stage(req, payload, &state.files, state.settings.max_upload_bytes).await?;
    let checksum = match checksum::to_store(header_str(req, "OC-Checksum"), &staged.sha1_hex()) {
        Ok(checksum) => checksum,
        Err(e) => {
            state.files.discard(&staged);
            return Err(FileError::from(e).into());
        }
    };
    let segments = target.segments.clone();
    let mime = mime_for(segments.last().map_or("", String::as_str));
    let mtime = client_mtime(req);
    let conditions = preconditions(req);
    let outcome = record_staged(state, user, staged, move |conn, viewer, staged| {
        let content = NewContent {
            staged,
            mime_type: mime,
            client_mtime: mtime,
            checksum: &checksum,
        };
        ops::put(conn, viewer, &segments, &content, &conditions)
    })
    .await
    .map_err(|e| missing_parent(&target, e))?;
    state
        .files
        .remove(&outcome.replaced_key.iter().cloned().collect::<Vec<_>>());
    Ok(file_written(
        state,
        written_status(outcome.created),
        &outcome.node,
        mtime.is_some(),
    ))
}

/// A legacy chunk (`<file>-chunking-<transfer>-<count>-<index>`): kept aside until the
/// transfer's last chunk arrives, whose request alone creates the file and answers with its
/// `ETag` and `OC-FileId`.
async fn put_legacy_chunk(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let chunk_name = target.segments.last().map_or("", String::as_str);
    let chunk = LegacyChunk::parse(chunk_name)?;
    valid_name(&chunk.file_name)?;
    let mut destination = target.clone();
    if let Some(last) = destination.segments.last_mut() {
        last.clone_from(&chunk.file_name);
    }
    check_room(
        state,
        user,
        &destination.segments,
        header_u64(req, "OC-Total-Length"),
    )
    .await?;
    let staged = stage(req, payload, &state.files, state.settings.max_upload_bytes).await?;
    let path = destination.segments.join("/");
    let progress = record_staged(state, user, staged, move |conn, viewer, staged| {
        add_legacy_chunk(
            conn,
            viewer,
            &chunk,
            &path,
            &staged.key,
            staged.size,
            now_secs(),
        )
    })
    .await?;
    let (stored, assembly) = match progress {
        LegacyProgress::Pending(stored) => (stored, None),
        LegacyProgress::Complete(stored, assembly) => (stored, Some(assembly)),
    };
    state
        .files
        .remove(&stored.replaced_key.into_iter().collect::<Vec<_>>());
    let Some(assembly) = assembly else {
        return Ok(HttpResponse::Created().finish());
    };
    let assembled = uploads::assemble(
        req,
        state,
        user,
        assembly,
        destination.segments.clone(),
        None,
    )
    .await
    .map_err(|e| missing_parent(&destination, e))?;
    Ok(file_written(
        state,
        written_status(assembled.created),
        &assembled.node,
        client_mtime(req).is_some(),
    ))
}

/// MKCOL — 201; a request body is 415; an existing path is 405.
pub(super) async fn mkcol(
    req: &HttpRequest,
    mut payload: web::Payload,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let has_body = header_u64(req, header::CONTENT_LENGTH.as_str()).is_some_and(|n| n > 0)
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
pub(super) async fn delete(
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

/// `Overwrite: F` refuses an existing destination (412).
fn overwrite(req: &HttpRequest) -> bool {
    !header_str(req, "Overwrite").is_some_and(|v| v.trim().eq_ignore_ascii_case("F"))
}

/// MOVE — `Destination` in the same tree; 201 new, 204 replaced, with the node's id and etag.
pub(super) async fn move_to(
    req: &HttpRequest,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let to = DavPath::write_destination(req, user)?;
    let overwrite = overwrite(req);
    let from = target.segments.clone();
    let outcome = write(state, user, move |conn, viewer| {
        ops::move_node(conn, viewer, &from, &to.segments, overwrite)
    })
    .await?;
    state.files.remove(&outcome.removed_keys);
    Ok(file_written(
        state,
        written_status(!outcome.replaced),
        &outcome.node,
        false,
    ))
}

/// COPY — files, and folders with `Depth: infinity` (default) or `0`; the copy gets new ids.
pub(super) async fn copy(
    req: &HttpRequest,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let to = DavPath::write_destination(req, user)?;
    let recursive = match header_str(req, "Depth").map(str::trim) {
        None => true,
        Some(v) if v.eq_ignore_ascii_case("infinity") => true,
        Some("0") => false,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "The Depth of a COPY is 0 or infinity".into(),
            ))
        }
    };
    let overwrite = overwrite(req);
    let from = target.segments.clone();
    let store = state.files.clone();
    let made = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let made_here = made.clone();
    let result = write(state, user, move |conn, viewer| {
        let mut new_keys = Vec::new();
        let outcome = ops::copy_node(
            conn,
            &store,
            viewer,
            &from,
            &to.segments,
            overwrite,
            recursive,
            &mut new_keys,
        );
        if let Ok(mut made) = made_here.lock() {
            made.extend(new_keys);
        }
        outcome
    })
    .await;
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            if let Ok(made) = made.lock() {
                state.files.remove(&made);
            }
            return Err(e);
        }
    };
    state.files.remove(&outcome.removed_keys);
    Ok(file_written(
        state,
        written_status(!outcome.replaced),
        &outcome.node,
        false,
    ))
}
