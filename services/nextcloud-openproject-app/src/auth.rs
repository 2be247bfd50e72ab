//! The security layer: the [`MaybeUser`] extractor, the guards that turn "who" into "allowed",
//! and the CSRF check of cookie sessions (README §4.3, §5.2).

use std::{future::Future, pin::Pin};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    middleware::Next,
    web, Error, FromRequest, HttpMessage, HttpRequest,
};
use service_kit::client_address::client_address;
use storage_protocol::{nextcloud::SESSION_COOKIE, ocs::OCS_API_REQUEST_HEADER};

use crate::{
    domain::authentication::{AuthMethod, AuthenticatedUser, RequestCredentials},
    error::{ApiError, OcsFormat},
    flows,
    state::AppState,
};

/// The header (and form/query parameter) carrying the CSRF token.
pub const REQUEST_TOKEN: &str = "requesttoken";

/// The caller, when the request authenticates someone. Computed once per request.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthenticatedUser>);

impl MaybeUser {
    /// 401 (or the browser redirect) when anonymous.
    pub fn require_user(&self) -> Result<&AuthenticatedUser, ApiError> {
        self.0.as_ref().ok_or(ApiError::NotLoggedIn)
    }

    /// 401 when anonymous, 403 when not a member of group `admin`.
    pub fn require_admin(&self) -> Result<&AuthenticatedUser, ApiError> {
        let user = self.require_user()?;
        if user.is_admin {
            Ok(user)
        } else {
            Err(ApiError::NotAdmin)
        }
    }
}

/// Whether an `Authorization` header uses the Basic scheme (well-formed or not).
fn sends_basic(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().split(' ').next())
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("basic"))
}

/// OCS logs Basic credentials in before routing, as Nextcloud's `ocs/v{1,2}.php` does: credentials
/// that do not log in answer [`ApiError::WrongCredentials`] on every OCS path, known or not, and
/// public ones included.
pub async fn check_ocs_credentials(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if OcsFormat::of(req.request()).is_some() && sends_basic(req.request()) {
        let caller = MaybeUser::extract(req.request()).await;
        let refusal = match caller {
            Ok(MaybeUser(Some(_))) => None,
            Ok(MaybeUser(None)) => Some(ApiError::WrongCredentials),
            Err(e) => Some(e),
        };
        if let Some(error) = refusal {
            return Ok(req.error_response(error).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The state of the running application.
pub fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("application state is missing")))
}

impl FromRequest for MaybeUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(known) = req.extensions().get::<MaybeUser>() {
                return Ok(known.clone());
            }
            let state = app_state(&req)?;
            let credentials = RequestCredentials {
                authorization: req
                    .headers()
                    .get(actix_web::http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                session_cookie: req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()),
                client_address: client_address(&req),
            };
            let user = MaybeUser(flows::authentication::authenticate(&state, credentials).await?);
            req.extensions_mut().insert(user.clone());
            Ok(user)
        })
    }
}

/// The CSRF token of a session, valid as long as the session.
pub fn session_token(state: &AppState, user: &AuthenticatedUser) -> Option<String> {
    match &user.method {
        AuthMethod::Session {
            id,
            expires_at_millis,
        } => Some(state.csrf.issue(id.expose(), expires_at_millis / 1000)),
        _ => None,
    }
}

/// Cookie sessions writing to a CSRF-protected route need `OCS-APIRequest: true` or a valid
/// `requesttoken` (header, query parameter or `form_token`); Basic and Bearer never do.
pub fn check_csrf(
    state: &AppState,
    req: &HttpRequest,
    user: &AuthenticatedUser,
    form_token: Option<&str>,
) -> Result<(), ApiError> {
    let AuthMethod::Session { id, .. } = &user.method else {
        return Ok(());
    };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header(OCS_API_REQUEST_HEADER).is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Ok(());
    }
    let query_token = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()
        .and_then(|q| {
            q.into_inner()
                .into_iter()
                .find_map(|(k, v)| (k == REQUEST_TOKEN).then_some(v))
        });
    let token = header(REQUEST_TOKEN)
        .map(str::to_string)
        .or(query_token)
        .or(form_token.map(str::to_string));
    match token {
        Some(token) if state.csrf.verify(&token, id.expose()) => Ok(()),
        _ => Err(ApiError::CsrfFailed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use service_kit::crypto::SecretString;

    fn user(is_admin: bool) -> AuthenticatedUser {
        AuthenticatedUser {
            uid: "alice".into(),
            display_name: "Alice".into(),
            is_admin,
            method: AuthMethod::Session {
                id: SecretString::new("sid"),
                expires_at_millis: 0,
            },
        }
    }

    #[test]
    fn guards() {
        let anonymous = MaybeUser(None);
        assert!(matches!(
            anonymous.require_user(),
            Err(ApiError::NotLoggedIn)
        ));
        assert!(matches!(
            anonymous.require_admin(),
            Err(ApiError::NotLoggedIn)
        ));
        let alice = MaybeUser(Some(user(false)));
        assert_eq!(alice.require_user().unwrap().uid, "alice");
        assert!(matches!(alice.require_admin(), Err(ApiError::NotAdmin)));
        let admin = MaybeUser(Some(user(true)));
        assert!(admin.require_admin().is_ok());
    }
}
