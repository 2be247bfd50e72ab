//! Bodies of both authorization servers and what their clients read (spec/oauth.md): token
//! responses, error bodies, introspection, token info and server metadata.

use serde::{Deserialize, Serialize};

/// `{"error": …, "error_description"?: …}`: errors of the token, revoke and introspect endpoints
/// (OpenProject always sends a description; Nextcloud's token endpoint sends none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// 200 of OpenProject's `POST /oauth/token` (oauth.md §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenProjectTokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub scope: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// 200 of Nextcloud's `POST /index.php/apps/oauth2/api/v1/token` (oauth.md §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextcloudTokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub user_id: String,
}

/// 200 of OpenProject's `POST /oauth/introspect` (oauth.md §2.5): only `active` when inactive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
}

impl Introspection {
    pub fn inactive() -> Self {
        Self {
            active: false,
            scope: None,
            client_id: None,
            token_type: None,
            exp: None,
            iat: None,
        }
    }
}

/// 200 of OpenProject's `GET /oauth/token/info` (oauth.md §2.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub resource_owner_id: i64,
    pub scope: Vec<String>,
    pub expires_in: i64,
    pub application: TokenInfoApplication,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfoApplication {
    pub uid: String,
}

/// `GET /.well-known/oauth-authorization-server` of OpenProject (oauth.md §2.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub introspection_endpoint: String,
    pub scopes_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub service_documentation: String,
    pub revocation_endpoint: String,
    pub code_challenge_methods_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

impl ServerMetadata {
    /// OpenProject's metadata; `public_url` without trailing `/`.
    pub fn openproject(public_url: &str) -> Self {
        let at = |path: &str| format!("{public_url}{path}");
        let strings = |values: &[&str]| values.iter().map(|v| v.to_string()).collect();
        Self {
            issuer: public_url.to_string(),
            authorization_endpoint: at("/oauth/authorize"),
            token_endpoint: at("/oauth/token"),
            introspection_endpoint: at("/oauth/introspect"),
            scopes_supported: strings(&["api_v3"]),
            response_types_supported: strings(&["code"]),
            grant_types_supported: strings(&["authorization_code", "refresh_token"]),
            service_documentation: at("/api/v3/openapi.json"),
            revocation_endpoint: at("/oauth/revoke"),
            code_challenge_methods_supported: strings(&["plain", "S256"]),
            token_endpoint_auth_methods_supported: strings(&[
                "client_secret_basic",
                "client_secret_post",
            ]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{assert_round_trip, load};

    #[test]
    fn fixtures_round_trip() {
        assert_round_trip::<OpenProjectTokenResponse>("op_oauth_token_response");
        assert_round_trip::<ErrorBody>("op_oauth_error_invalid_grant");
        assert_round_trip::<Introspection>("op_oauth_introspection_active");
        assert_round_trip::<Introspection>("op_oauth_introspection_inactive");
        assert_round_trip::<TokenInfo>("op_oauth_token_info");
        assert_round_trip::<ServerMetadata>("op_oauth_server_metadata");
    }

    #[test]
    fn openproject_metadata() {
        assert_eq!(
            serde_json::to_value(ServerMetadata::openproject("https://op.example.com")).unwrap(),
            load("op_oauth_server_metadata")
        );
    }
}
