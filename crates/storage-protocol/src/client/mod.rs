//! Typed clients of both sides' APIs: each method sends one request of the contract with the
//! protocol's body and reads the protocol's answer, so that the other service, the tests and tools
//! do not build requests by hand or read answers by JSON pointer.

use std::fmt;

use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

mod nextcloud;
mod openproject;
mod peer;

pub use nextcloud::NextcloudApi;
pub use openproject::OpenProjectApi;
pub use peer::PeerApi;

/// Why a call did not give the answer the operation promises.
#[derive(Debug)]
pub enum ClientError {
    /// The request was not sent, or its answer not received.
    Transport(reqwest::Error),
    /// An answer with another status than the operation's success; `body` is what the service
    /// said, so that a failing caller can show it.
    Status { status: StatusCode, body: String },
    /// The success status, with a body that is not what the operation answers.
    Malformed { reason: String, body: String },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(error) => write!(f, "request failed: {error}"),
            Self::Status { status, body } => write!(f, "unexpected status {status}: {body}"),
            Self::Malformed { reason, body } => write!(f, "unexpected answer ({reason}): {body}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Transport(error) => Some(error),
            Self::Status { .. } | Self::Malformed { .. } => None,
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(error: reqwest::Error) -> Self {
        Self::Transport(error)
    }
}

/// Who a client acts as: HTTP Basic with a user's login and password (or app password).
#[derive(Debug, Clone)]
struct BasicAuth {
    user: String,
    password: String,
}

/// A service's base URL (without a trailing `/`), the HTTP client to reach it with, and whom to
/// act as: what both APIs' clients share.
#[derive(Debug, Clone)]
struct Endpoint {
    http: reqwest::Client,
    base: String,
    auth: BasicAuth,
}

impl Endpoint {
    fn new(http: reqwest::Client, base_url: &str, user: &str, password: &str) -> Self {
        Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            auth: BasicAuth {
                user: user.to_string(),
                password: password.to_string(),
            },
        }
    }

    /// `path` (starting with `/`) below the base URL.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .basic_auth(&self.auth.user, Some(&self.auth.password))
    }
}

/// Sends `request` and reads its answer, which must have the status `expected`, as `T`.
async fn call<T: DeserializeOwned>(
    request: RequestBuilder,
    expected: StatusCode,
) -> Result<T, ClientError> {
    let response = request.send().await?;
    let status = response.status();
    let body = response.text().await?;
    read(status, expected, body)
}

/// An answer as `T` when its status is `expected`; otherwise the error naming what came.
fn read<T: DeserializeOwned>(
    status: StatusCode,
    expected: StatusCode,
    body: String,
) -> Result<T, ClientError> {
    let body = expect_status(status, expected, body)?;
    serde_json::from_str(&body).map_err(|error| ClientError::Malformed {
        reason: error.to_string(),
        body,
    })
}

/// The body of an answer with the status `expected`; another status is an error carrying it.
fn expect_status(
    status: StatusCode,
    expected: StatusCode,
    body: String,
) -> Result<String, ClientError> {
    if status == expected {
        Ok(body)
    } else {
        Err(ClientError::Status { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integration_app::ResultFlag;

    #[test]
    fn an_answer_with_the_expected_status_is_read_as_its_type() {
        let flag: ResultFlag =
            read(StatusCode::OK, StatusCode::OK, r#"{"result": true}"#.into()).unwrap();
        assert!(flag.result);
    }

    #[test]
    fn another_status_carries_what_the_service_said() {
        let error = read::<ResultFlag>(
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::CREATED,
            r#"{"message": "Name can't be blank."}"#.into(),
        )
        .unwrap_err();
        assert!(matches!(
            &error,
            ClientError::Status { status, body }
                if *status == StatusCode::UNPROCESSABLE_ENTITY && body.contains("blank")
        ));
        assert_eq!(
            error.to_string(),
            r#"unexpected status 422 Unprocessable Entity: {"message": "Name can't be blank."}"#
        );
    }

    #[test]
    fn a_body_of_another_shape_is_malformed_and_shown() {
        let error =
            read::<ResultFlag>(StatusCode::OK, StatusCode::OK, "<html>".into()).unwrap_err();
        assert!(matches!(&error, ClientError::Malformed { body, .. } if body == "<html>"));
    }

    #[test]
    fn paths_go_below_the_base_url_with_basic_auth() {
        let endpoint = Endpoint::new(reqwest::Client::new(), "http://op.example/", "admin", "pw");
        let request = endpoint
            .request(reqwest::Method::GET, "/api/v3/roles")
            .build()
            .unwrap();
        assert_eq!(request.url().as_str(), "http://op.example/api/v3/roles");
        // base64("admin:pw")
        assert_eq!(
            request.headers()[reqwest::header::AUTHORIZATION],
            "Basic YWRtaW46cHc="
        );
    }
}
