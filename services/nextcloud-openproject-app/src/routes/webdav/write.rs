//! The writes of the files tree: PUT (plain and legacy chunked), MKCOL, DELETE, MOVE, COPY.

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use futures_util::StreamExt;

use super::{client_mtime, header_str, header_u64, oc_id, preconditions, stage, DavPath};
use crate::{
    domain::{
        authentication::AuthenticatedUser,
        files::{store::Staging, uploads::LegacyChunk, valid_name, FileError, Located},
    },
    error::ApiError,
    flows::{self, webdav::ContentClaims},
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

/// What the request says about the content it sends beside the bytes.
pub(super) fn content_claims(req: &HttpRequest) -> ContentClaims {
    ContentClaims {
        checksum: header_str(req, "OC-Checksum").map(str::to_string),
        mtime: client_mtime(req),
        preconditions: preconditions(req),
    }
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
    flows::webdav::check_room(state, user, &target.segments, length).await?;
    let staged = stage(req, payload, state, Staging::Content).await?;
    let claims = content_claims(req);
    let mtime = claims.mtime;
    let outcome = flows::webdav::put(state, user, target.segments.clone(), staged, claims)
        .await
        .map_err(|e| missing_parent(&target, e))?;
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
    flows::webdav::check_room(
        state,
        user,
        &destination.segments,
        header_u64(req, "OC-Total-Length"),
    )
    .await?;
    let staged = stage(req, payload, state, Staging::Chunk).await?;
    let path = destination.segments.join("/");
    let assembly = flows::webdav::add_legacy_chunk_for(state, user, chunk, path, staged).await?;
    let Some(assembly) = assembly else {
        return Ok(HttpResponse::Created().finish());
    };
    let assembled = flows::webdav::assemble(
        state,
        user,
        assembly,
        destination.segments.clone(),
        None,
        content_claims(req),
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
    let created = flows::webdav::mkcol(state, user, target.segments.clone()).await?;
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
    flows::webdav::delete(state, user, target.segments.clone()).await?;
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
    let outcome =
        flows::webdav::move_node(state, user, target.segments.clone(), to.segments, overwrite)
            .await?;
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
    let outcome = flows::webdav::copy_node(
        state,
        user,
        target.segments.clone(),
        to.segments,
        overwrite,
        recursive,
    )
    .await?;
    Ok(file_written(
        state,
        written_status(!outcome.replaced),
        &outcome.node,
        false,
    ))
}
