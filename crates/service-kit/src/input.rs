//! Input that no database may see: a NUL character. PostgreSQL text cannot hold it (the query
//! fails), SQLite cuts strings at it; so both services refuse it where input enters (the URL,
//! JSON and form bodies, `Authorization`) and both backends answer alike.

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    error::PayloadError,
    http::header,
    middleware::Next,
    web, Error, HttpRequest, ResponseError,
};
use futures_util::{Stream, StreamExt};
use serde_json::Value;

/// Why a request body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// More than the limit, declared or sent (413).
    TooLarge,
    /// The connection failed while the body arrived.
    Read(String),
}

/// Reads a whole request body, refusing more than `limit` bytes, declared or sent.
pub async fn read_limited(
    req: &HttpRequest,
    mut payload: impl Stream<Item = Result<web::Bytes, PayloadError>> + Unpin,
    limit: usize,
) -> Result<web::Bytes, BodyError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Which part of the URL held a NUL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NulInUrl {
    /// The path: no resource has such a name (services answer 404).
    Path,
    /// The query string (services answer their invalid-query 400).
    Query,
}

/// Whether percent-encoded text decodes to something holding a NUL.
pub fn encodes_nul(raw: &str) -> bool {
    raw.contains('\0')
        || raw
            .as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// Whether a JSON document holds a NUL in any string or key.
pub fn json_has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(json_has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v)),
        _ => false,
    }
}

/// Middleware: answers a request whose path or query encodes a NUL with the service's error
/// for it, before any handler runs.
pub async fn refuse_nul_in_url<E>(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error>
where
    E: ResponseError + From<NulInUrl> + 'static,
{
    let found = if encodes_nul(req.path()) {
        Some(NulInUrl::Path)
    } else if encodes_nul(req.query_string()) {
        Some(NulInUrl::Query)
    } else {
        None
    };
    match found {
        Some(part) => {
            let error: Error = E::from(part).into();
            Ok(req.error_response(error).map_into_right_body())
        }
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_encoded_raw_and_nested() {
        assert!(encodes_nul("/a/%00b"));
        assert!(encodes_nul("x=\0"));
        assert!(!encodes_nul("/a/%200/%100"));
        let json: Value = serde_json::from_str(r#"{"a": [1, {"b": "x\u0000"}]}"#).unwrap();
        assert!(json_has_nul(&json));
        let key: Value = serde_json::from_str(r#"{"a\u0000": 1}"#).unwrap();
        assert!(json_has_nul(&key));
        assert!(!json_has_nul(&serde_json::json!({"a": ["\\u0000"]})));
    }
}
