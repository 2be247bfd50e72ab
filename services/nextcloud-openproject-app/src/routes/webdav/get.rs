//! GET and HEAD of a file: its content with `ETag`, `Last-Modified` and `OC-FileId`, single
//! byte ranges (206, 416), and the conditional headers (304, 412).

use std::io::{Seek, SeekFrom};

use actix_web::{
    http::{header, Method, StatusCode},
    HttpRequest, HttpResponse,
};

use super::{header_str, http_date, oc_id, preconditions, read_stream, DavPath};
use crate::{
    domain::{
        authentication::AuthenticatedUser,
        files::{preconditions::Verdict, FileError},
    },
    error::{dav_error, ApiError},
    flows,
    state::AppState,
};

/// What a `Range` header asks of a file of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// No range, one we don't serve (several ranges, other units): the whole file.
    Whole,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// A range that lies outside the file: 416.
    Unsatisfiable,
}

impl ByteRange {
    /// RFC 9110 §14.1.2: `bytes=a-b`, `bytes=a-`, `bytes=-n`.
    pub fn parse(header: Option<&str>, size: u64) -> Self {
        let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
            return Self::Whole;
        };
        if spec.contains(',') {
            return Self::Whole;
        }
        let Some((first, last)) = spec.trim().split_once('-') else {
            return Self::Whole;
        };
        let (first, last) = (first.trim(), last.trim());
        let number = |s: &str| s.parse::<u64>().ok();
        match (first.is_empty(), last.is_empty()) {
            (true, true) => Self::Whole,
            (true, false) => match number(last) {
                Some(0) => Self::Unsatisfiable,
                Some(_) if size == 0 => Self::Unsatisfiable,
                Some(n) => Self::Part {
                    start: size.saturating_sub(n),
                    end: size - 1,
                },
                None => Self::Whole,
            },
            (false, _) => {
                let Some(start) = number(first) else {
                    return Self::Whole;
                };
                let end = if last.is_empty() {
                    Some(u64::MAX)
                } else {
                    number(last)
                };
                match end {
                    Some(end) if end < start => Self::Whole,
                    Some(_) if start >= size => Self::Unsatisfiable,
                    Some(end) => Self::Part {
                        start,
                        end: end.min(size - 1),
                    },
                    None => Self::Whole,
                }
            }
        }
    }
}

/// GET/HEAD — a file's content with its headers.
pub(super) async fn get(
    req: &HttpRequest,
    state: &AppState,
    user: &AuthenticatedUser,
    target: DavPath,
) -> Result<HttpResponse, ApiError> {
    let (located, file) = flows::webdav::open(state, user, target.segments.clone()).await?;
    let node = &located.node;
    let etag = format!("\"{}\"", node.etag);
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::ETAG, etag.as_str()))
        .insert_header((header::LAST_MODIFIED, http_date(node.mtime)))
        .insert_header(("OC-FileId", oc_id(state, node.id)));
    match preconditions(req).evaluate(Some((&node.etag, node.mtime)), true) {
        Verdict::Proceed => {}
        Verdict::NotModified => return Ok(response.status(StatusCode::NOT_MODIFIED).finish()),
        Verdict::Failed => {
            return Err(ApiError::PreconditionFailed(
                "An If-Match header did not match the file".into(),
            ))
        }
    }
    let Some(mut file) = file else {
        if req.method() == Method::HEAD {
            return Ok(response.finish());
        }
        return Err(ApiError::MethodNotAllowed(
            "GET is not supported on folders".into(),
        ));
    };
    let size = node.size.max(0) as u64;
    response
        .insert_header((header::CONTENT_TYPE, node.mime_type.as_str()))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    // `If-Range` serves the range only while the file is the one the client saw.
    let range_applies = header_str(req, "If-Range").is_none_or(|v| v.trim() == etag);
    let range = if range_applies {
        ByteRange::parse(header_str(req, "Range"), size)
    } else {
        ByteRange::Whole
    };
    let (start, length) = match range {
        ByteRange::Whole => (0, size),
        ByteRange::Part { start, end } => {
            response
                .status(StatusCode::PARTIAL_CONTENT)
                .insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}")));
            (start, end - start + 1)
        }
        ByteRange::Unsatisfiable => {
            let mut refused = dav_error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "The requested range is not satisfiable",
            );
            refused.headers_mut().insert(
                header::CONTENT_RANGE,
                header::HeaderValue::from_str(&format!("bytes */{size}"))
                    .map_err(|e| ApiError::Unexpected(e.into()))?,
            );
            return Ok(refused);
        }
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .map_err(|e| ApiError::from(FileError::from(e)))?;
    }
    // HEAD too: actix sends the sized body's length and skips the body itself.
    Ok(response
        .no_chunking(length)
        .streaming(read_stream(file, length)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        let part = |start, end| ByteRange::Part { start, end };
        assert_eq!(ByteRange::parse(None, 10), ByteRange::Whole);
        assert_eq!(ByteRange::parse(Some("bytes=0-3"), 10), part(0, 3));
        assert_eq!(ByteRange::parse(Some("bytes=4-"), 10), part(4, 9));
        assert_eq!(ByteRange::parse(Some("bytes=5-100"), 10), part(5, 9));
        assert_eq!(ByteRange::parse(Some("bytes=-3"), 10), part(7, 9));
        assert_eq!(ByteRange::parse(Some("bytes=-30"), 10), part(0, 9));
        assert_eq!(
            ByteRange::parse(Some("bytes=10-"), 10),
            ByteRange::Unsatisfiable
        );
        assert_eq!(
            ByteRange::parse(Some("bytes=-0"), 10),
            ByteRange::Unsatisfiable
        );
        assert_eq!(
            ByteRange::parse(Some("bytes=0-"), 0),
            ByteRange::Unsatisfiable
        );
        assert_eq!(
            ByteRange::parse(Some("bytes=0-1,3-4"), 10),
            ByteRange::Whole
        );
        assert_eq!(ByteRange::parse(Some("bytes=3-1"), 10), ByteRange::Whole);
        assert_eq!(ByteRange::parse(Some("items=0-1"), 10), ByteRange::Whole);
    }
}
