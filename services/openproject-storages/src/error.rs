//! The one error type of the OpenProject side, rendered in one place as the contract's HAL error
//! body (README §3.2), the plain-text 406, or a logged 500.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use service_kit::db::DbError;
use storage_protocol::{
    hal::{messages, ErrorId, HalError},
    openproject::{HAL_JSON, SERVICE_DESC_LINK},
};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A contract error body; the status follows its identifier.
    #[error("{0:?}")]
    Hal(Box<HalError>, StatusCode),
    /// 401 with `WWW-Authenticate: <scheme> realm="OpenProject API"`.
    #[error("unauthenticated")]
    Unauthenticated {
        wrong_credentials: bool,
        scheme: String,
    },
    /// A write under /api/v3 without `Content-Type`.
    #[error("missing content type")]
    MissingContentType,
    #[error("too many failed logins")]
    TooManyRequests,
    /// An error of the OAuth endpoints (spec/oauth.md §2): `{"error", "error_description"}`,
    /// or `{}` when `error` is empty (the token endpoint's 415).
    #[error("OAuth error {error}")]
    OAuth {
        status: StatusCode,
        error: &'static str,
        description: Option<String>,
    },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<service_kit::input::NulInUrl> for ApiError {
    fn from(part: service_kit::input::NulInUrl) -> Self {
        match part {
            service_kit::input::NulInUrl::Path => Self::not_found(),
            service_kit::input::NulInUrl::Query => Self::of(ErrorId::InvalidQuery),
        }
    }
}

impl ApiError {
    pub fn of(id: ErrorId) -> Self {
        Self::hal(HalError::of(id))
    }

    pub fn hal(body: HalError) -> Self {
        let status = ErrorId::from_urn(&body.error_identifier)
            .map(ErrorId::status)
            .unwrap_or(500);
        Self::Hal(
            Box::new(body),
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )
    }

    pub fn not_found() -> Self {
        Self::of(ErrorId::NotFound)
    }

    pub fn missing_permission() -> Self {
        Self::of(ErrorId::MissingPermission)
    }

    pub fn unauthenticated() -> Self {
        Self::Unauthenticated {
            wrong_credentials: false,
            scheme: "Basic".into(),
        }
    }

    /// Validation failures, wrapped by the contract's rule (one → itself, more → MultipleErrors).
    pub fn validation(errors: Vec<HalError>) -> Self {
        HalError::wrap(errors).map_or_else(
            || anyhow::anyhow!("empty validation error").into(),
            Self::hal,
        )
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Hal(_, status) => *status,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::MissingContentType => StatusCode::NOT_ACCEPTABLE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::OAuth { status, .. } => *status,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header(("Link", SERVICE_DESC_LINK));
        let body = match self {
            Self::Hal(body, _) => (**body).clone(),
            Self::Unauthenticated {
                wrong_credentials,
                scheme,
            } => {
                response.insert_header((
                    "WWW-Authenticate",
                    format!("{scheme} realm=\"OpenProject API\""),
                ));
                if *wrong_credentials {
                    HalError::new(ErrorId::Unauthenticated, messages::WRONG_CREDENTIALS)
                } else {
                    HalError::of(ErrorId::Unauthenticated)
                }
            }
            Self::MissingContentType => {
                return response
                    .content_type("text/plain; charset=utf-8")
                    .body(messages::MISSING_CONTENT_TYPE)
            }
            Self::TooManyRequests => {
                response.insert_header(("Retry-After", "60"));
                HalError::of(ErrorId::TooManyRequests)
            }
            Self::OAuth {
                status,
                error,
                description,
            } => return oauth_error_response(*status, error, description.as_deref()),
            Self::Unexpected(cause) => {
                tracing::error!(error = ?cause, "request failed unexpectedly");
                HalError::of(ErrorId::InternalServerError)
            }
        };
        response.content_type(HAL_JSON).json(body)
    }
}

/// The OAuth error body. Token responses, failed or not, are never cached; a failed client
/// authentication names the scheme (RFC 6749 §5.2), as Doorkeeper does.
fn oauth_error_response(
    status: StatusCode,
    error: &str,
    description: Option<&str>,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        let mut challenge = format!("Bearer realm=\"OpenProject\", error=\"{error}\"");
        if let Some(description) = description {
            challenge.push_str(&format!(", error_description=\"{description}\""));
        }
        response.insert_header(("WWW-Authenticate", challenge));
    }
    if error.is_empty() {
        return response.json(serde_json::json!({}));
    }
    response.json(storage_protocol::oauth::ErrorBody {
        error: error.to_string(),
        error_description: description.map(str::to_string),
    })
}

impl From<crate::domain::host::HostError> for ApiError {
    fn from(e: crate::domain::host::HostError) -> Self {
        use crate::domain::host::HostError;
        match e {
            HostError::Invalid(errors) => ApiError::validation(errors),
            HostError::Hal(body) => ApiError::hal(*body),
            HostError::NotFound => ApiError::not_found(),
            HostError::Forbidden => ApiError::missing_permission(),
            HostError::InvalidQuery => ApiError::of(ErrorId::InvalidQuery),
            HostError::Db(e) => e.into(),
            HostError::Unexpected(e) => e.into(),
        }
    }
}

impl From<crate::domain::storages::StorageError> for ApiError {
    fn from(e: crate::domain::storages::StorageError) -> Self {
        use crate::domain::storages::StorageError;
        match e {
            StorageError::Invalid(errors) => ApiError::validation(errors),
            StorageError::NotFound => ApiError::not_found(),
            StorageError::Db(e) => e.into(),
            StorageError::Unexpected(e) => e.into(),
        }
    }
}

impl From<crate::domain::users::UserError> for ApiError {
    fn from(e: crate::domain::users::UserError) -> Self {
        use crate::domain::users::UserError;
        match e {
            UserError::Invalid(errors) => ApiError::validation(errors),
            UserError::Db(e) => e.into(),
        }
    }
}

impl From<crate::domain::pairing::PairingError> for ApiError {
    fn from(e: crate::domain::pairing::PairingError) -> Self {
        use crate::domain::pairing::PairingError;
        match e {
            PairingError::Db(e) => e.into(),
            PairingError::Refused(refusal) => {
                ApiError::hal(HalError::new(ErrorId::Unauthenticated, refusal.to_string()))
            }
            PairingError::OtherHost { storage_host } => {
                ApiError::validation(vec![HalError::violation(
                    "nextcloudUrl",
                    storage_protocol::pairing::other_host_message(&storage_host),
                )])
            }
            PairingError::Storage(e) => e.into(),
            PairingError::NotPaired => ApiError::hal(HalError::new(
                ErrorId::NotFound,
                storage_protocol::pairing::messages::STORAGE_NOT_PAIRED,
            )),
            PairingError::NotForOpenProject(_) => ApiError::hal(HalError::new(
                ErrorId::BadRequest,
                messages::bad_request(&e.to_string()),
            )),
            PairingError::Key(_) | PairingError::Signing(_) => {
                ApiError::Unexpected(anyhow::Error::new(e))
            }
        }
    }
}

impl From<crate::domain::files::FileError> for ApiError {
    fn from(e: crate::domain::files::FileError) -> Self {
        use crate::domain::files::FileError;
        match e {
            FileError::NotConnected => ApiError::unauthenticated(),
            FileError::NotFound => ApiError::of(ErrorId::OutboundRequestNotFound),
            FileError::Forbidden => ApiError::of(ErrorId::OutboundRequestForbidden),
            FileError::Unreachable => ApiError::hal(HalError::new(
                ErrorId::InternalServerError,
                storage_protocol::file_links::messages::STORAGE_UNREACHABLE,
            )),
            FileError::Unexpected(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_status() {
        assert_eq!(ApiError::not_found().status_code(), 404);
        assert_eq!(ApiError::missing_permission().status_code(), 403);
        assert_eq!(ApiError::unauthenticated().status_code(), 401);
        assert_eq!(ApiError::MissingContentType.status_code(), 406);
        assert_eq!(ApiError::TooManyRequests.status_code(), 429);
        assert_eq!(
            ApiError::Unexpected(anyhow::anyhow!("boom")).status_code(),
            500
        );
        assert_eq!(
            ApiError::validation(vec![HalError::violation("name", "Name can't be blank.")])
                .status_code(),
            422
        );
    }
}
