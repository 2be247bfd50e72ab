//! Who is calling: the [`Caller`] and [`MaybeCaller`] extractors and the guards on them.

use std::{future::Future, pin::Pin, sync::Arc};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use service_kit::client_address::client_address;
use storage_protocol::openproject::SESSION_COOKIE;

use crate::{
    domain::authentication::{AuthError, AuthMethod, Presented},
    error::ApiError,
    flows::authentication,
    state::AppState,
};

pub use crate::domain::authentication::Caller;

/// The application state; its absence is a wiring mistake, answered as an unexpected error
/// rather than a panic on every request.
pub(crate) fn state(req: &HttpRequest) -> Result<Arc<AppState>, ApiError> {
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
        Err(AuthError::WrongCredentials) => {
            return Err(ApiError::Unauthenticated {
                wrong_credentials: true,
                scheme: auth_scheme(&req),
            })
        }
        Err(AuthError::Throttled) => return Err(ApiError::TooManyRequests),
        Err(AuthError::Unexpected(e)) => return Err(ApiError::Unexpected(e)),
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
