//! Request input: the JSON write body with the contract's content-type rules ([`JsonBody`]),
//! forms, and ids in paths.

use std::{future::Future, pin::Pin};

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};
use serde_json::Value;
use service_kit::input::{read_limited, BodyError};
use storage_protocol::hal::{messages, ErrorId, HalError};

use crate::{auth::state, error::ApiError};

/// A JSON write body (`POST`, `PATCH`, `PUT` under /api/v3): `Content-Type` must be
/// `application/json` or `application/hal+json` (406 when missing, 415 otherwise), the body at
/// most the configured size (413), and JSON (400). An empty body reads as `{}`.
pub struct JsonBody(pub Value);

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = ParsedBody::from_request(req, payload);
        Box::pin(async move {
            match read.await?.0 {
                Ok(value) => Ok(JsonBody(value)),
                Err(detail) => Err(ApiError::hal(
                    HalError::of(ErrorId::InvalidRequestBody).with_parse_error(detail),
                )),
            }
        })
    }
}

/// A JSON write body under the same rules as [`JsonBody`], except that a body that is not JSON
/// is left to the endpoint: `Err` holds the parse error.
pub struct ParsedBody(pub Result<Value, String>);

impl FromRequest for ParsedBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = match state(req) {
            Ok(state) => state.settings.common.max_body_bytes,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let body = read_limited(&req, payload, limit)
                .await
                .map_err(|e| match e {
                    BodyError::TooLarge => body_too_large(),
                    BodyError::Read(detail) => ApiError::hal(
                        HalError::of(ErrorId::InvalidRequestBody).with_parse_error(detail),
                    ),
                })?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(ParsedBody(Ok(Value::Object(Default::default()))));
            }
            check_content_type(content_type.as_deref())?;
            let parsed = serde_json::from_slice::<Value>(&body)
                .map_err(|e| e.to_string())
                .and_then(|value| {
                    if service_kit::input::json_has_nul(&value) {
                        Err("a string holds a NUL character".to_string())
                    } else {
                        Ok(value)
                    }
                });
            Ok(ParsedBody(parsed))
        })
    }
}

fn body_too_large() -> ApiError {
    ApiError::Hal(
        Box::new(HalError::new(
            ErrorId::InvalidRequestBody,
            messages::BODY_TOO_LARGE,
        )),
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
    )
}

fn check_content_type(content_type: Option<&str>) -> Result<(), ApiError> {
    let Some(raw) = content_type else {
        return Err(ApiError::MissingContentType);
    };
    let essence = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence == "application/hal+json" {
        Ok(())
    } else {
        Err(ApiError::hal(HalError::new(
            ErrorId::TypeNotSupported,
            messages::type_not_supported(raw),
        )))
    }
}

/// A positive integer id from a path segment; anything else is 404 (README §3.1).
pub fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && raw.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(ApiError::not_found)
}

/// An `application/x-www-form-urlencoded` body, `None` when it is malformed or holds a NUL.
pub fn parse_form<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Option<T> {
    let text = std::str::from_utf8(raw).ok()?;
    if service_kit::input::encodes_nul(text) {
        return None;
    }
    serde_urlencoded::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert!(check_content_type(Some("application/json")).is_ok());
        assert!(check_content_type(Some("application/hal+json; charset=utf-8")).is_ok());
        assert!(matches!(
            check_content_type(None),
            Err(ApiError::MissingContentType)
        ));
        assert!(check_content_type(Some("text/plain")).is_err());
    }

    #[test]
    fn ids() {
        assert_eq!(parse_id("12").unwrap(), 12);
        for bad in ["0", "-1", "+1", "abc", "1.5", ""] {
            assert!(parse_id(bad).is_err(), "{bad}");
        }
    }
}
