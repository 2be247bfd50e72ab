//! Request extractors: who is calling ([`Caller`], [`MaybeCaller`]) and the JSON write body
//! with the contract's content-type rules ([`JsonBody`]).

use std::{future::Future, pin::Pin, sync::Arc};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde_json::Value;
use storage_protocol::{
    hal::{messages, ErrorId, HalError},
    openproject::SESSION_COOKIE,
};

use crate::{
    domain::authentication::{self, AuthMethod, Presented},
    error::ApiError,
    state::AppState,
};

pub use crate::domain::authentication::Caller;

/// The application state; its absence is a wiring mistake, answered as an unexpected error
/// rather than a panic on every request.
fn state(req: &HttpRequest) -> Result<Arc<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .map(|data| data.clone().into_inner())
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("the application state is missing")))
}

/// What the request presents: on the API an `Authorization` header, else the session cookie
/// (on the API only with `X-Requested-With: XMLHttpRequest`, the CSRF defence). Browser pages
/// look only at the session.
fn presented(req: &HttpRequest) -> Presented {
    let api = req.path().starts_with("/api/");
    if api {
        if let Some(value) = req.headers().get(header::AUTHORIZATION) {
            return Presented::Authorization(value.to_str().unwrap_or("\u{0}").to_string());
        }
    }
    let xhr = req
        .headers()
        .get("X-Requested-With")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"XMLHttpRequest"));
    match req.cookie(SESSION_COOKIE) {
        Some(cookie) if !api || xhr => Presented::Session(cookie.value().to_string()),
        _ => Presented::Nothing,
    }
}

/// The scheme named in `WWW-Authenticate` (`X-Authentication-Scheme` replaces `Basic`).
fn auth_scheme(req: &HttpRequest) -> String {
    req.headers()
        .get("X-Authentication-Scheme")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("Basic")
        .to_string()
}

/// The client's address as the throttle counts it: the TCP peer, or the client a trusted proxy
/// names in `X-Forwarded-For` (`OPS_TRUSTED_PROXIES`).
pub fn client_address(req: &HttpRequest) -> String {
    match state(req) {
        Ok(state) => state.settings.common.trusted_proxies.client_address(req),
        Err(_) => req
            .peer_addr()
            .map(|peer| peer.ip().to_string())
            .unwrap_or_default(),
    }
}

/// Resolves the caller once per request and keeps the result in the request's extensions.
async fn resolve(req: HttpRequest) -> Result<Option<Caller>, ApiError> {
    if let Some(cached) = req.extensions().get::<Option<Caller>>() {
        return Ok(cached.clone());
    }
    let state = state(&req)?;
    let outcome =
        authentication::authenticate(&state, presented(&req), &client_address(&req)).await;
    let caller = match outcome {
        Ok(caller) => caller,
        Err(authentication::AuthError::WrongCredentials) => {
            return Err(ApiError::Unauthenticated {
                wrong_credentials: true,
                scheme: auth_scheme(&req),
            })
        }
        Err(authentication::AuthError::Throttled) => return Err(ApiError::TooManyRequests),
        Err(authentication::AuthError::Unexpected(e)) => return Err(ApiError::Unexpected(e)),
    };
    req.extensions_mut().insert(caller.clone());
    Ok(caller)
}

/// An authenticated, active user; anonymous callers get 401.
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let scheme = auth_scheme(&req);
            resolve(req).await?.ok_or(ApiError::Unauthenticated {
                wrong_credentials: false,
                scheme,
            })
        })
    }
}

/// The caller when there is one; endpoints open to anonymous callers take this. Wrong
/// credentials are still refused (README §3.2).
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(req).await.map(MaybeCaller) })
    }
}

impl Caller {
    /// Admin-only endpoints: an active admin, else 403.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.is_active_admin() {
            Ok(())
        } else {
            Err(ApiError::missing_permission())
        }
    }

    /// Extension endpoints that manage credentials accept only a password or a session.
    pub fn require_password_or_session(&self) -> Result<(), ApiError> {
        match self.method {
            AuthMethod::Password | AuthMethod::Session => Ok(()),
            AuthMethod::ApiKey | AuthMethod::Bearer => Err(ApiError::missing_permission()),
        }
    }
}

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
        let declared_length = declared_length(req);
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_limited(&mut payload, declared_length, limit)
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

/// Why a request body could not be read.
#[derive(Debug)]
pub enum BodyError {
    TooLarge,
    Read(String),
}

/// Reads a whole request body, refusing more than `limit` bytes (declared or sent).
pub async fn read_limited(
    payload: &mut Payload,
    declared_length: Option<usize>,
    limit: usize,
) -> Result<web::BytesMut, BodyError> {
    if declared_length.is_some_and(|n| n > limit) {
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
    Ok(body)
}

/// The `Content-Length` a request declares.
pub fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
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
