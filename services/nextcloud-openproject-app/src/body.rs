//! Request bodies: read up to the configured limit (413 beyond it), then parse as JSON or form
//! (400 when malformed), always into this service's error type.

use actix_web::{http::header, web, HttpRequest};
use serde::de::DeserializeOwned;
use service_kit::input::BodyError;
use storage_protocol::nextcloud::messages;

use crate::error::ApiError;

/// The body, or 413 once it exceeds `limit` bytes.
pub async fn read_limited(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    service_kit::input::read_limited(req, payload, limit)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => ApiError::PayloadTooLarge,
            BodyError::Read(e) => ApiError::BadRequest(format!("unreadable body: {e}")),
        })
}

/// True when the request says its body is JSON.
pub fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let essence = ct.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")
        })
}

/// A JSON body; one holding a NUL character is as invalid as malformed JSON.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let invalid = || ApiError::BadRequest(messages::INVALID_JSON.into());
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| invalid())?;
    if service_kit::input::json_has_nul(&value) {
        return Err(invalid());
    }
    serde_json::from_value(value).map_err(|_| invalid())
}

/// `application/x-www-form-urlencoded` pairs in order, keys as sent (`groups[]` included); a
/// NUL character makes the form invalid.
pub fn parse_pairs(raw: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw)
        .map_err(|_| ApiError::BadRequest(messages::INVALID_FORM.into()))?;
    if pairs
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err(ApiError::BadRequest(messages::INVALID_FORM.into()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_pairs_keep_repeated_keys() {
        let pairs = parse_pairs(b"userid=bob&groups%5B%5D=a&groups[]=b").unwrap();
        assert_eq!(pairs[1], ("groups[]".into(), "a".into()));
        assert_eq!(pairs[2], ("groups[]".into(), "b".into()));
        assert!(parse_json::<serde_json::Value>(b"{oops").is_err());
    }
}
