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
    /// RFC 9207: authorization responses carry `iss`.
    pub authorization_response_iss_parameter_supported: bool,
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
            grant_types_supported: GrantType::ALL.map(|g| g.as_str().to_string()).into(),
            service_documentation: at("/api/v3/openapi.json"),
            revocation_endpoint: at("/oauth/revoke"),
            code_challenge_methods_supported: strings(&["S256"]),
            token_endpoint_auth_methods_supported: strings(&[
                "client_secret_basic",
                "client_secret_post",
            ]),
            authorization_response_iss_parameter_supported: true,
        }
    }
}

/// The `grant_type`s both token endpoints accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
}

impl GrantType {
    pub const ALL: [Self; 2] = [Self::AuthorizationCode, Self::RefreshToken];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|grant| grant.as_str() == raw)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
        }
    }
}
/// `token_type` of every issued access token.
pub const TOKEN_TYPE_BEARER: &str = "Bearer";
/// The PKCE method our clients always send, and the only one Nextcloud accepts.
pub const PKCE_S256: &str = "S256";
/// Headers of every token-endpoint response, success or error (oauth.md §1).
pub const CACHE_CONTROL_NO_STORE: (&str, &str) = ("Cache-Control", "no-store");
pub const PRAGMA_NO_CACHE: (&str, &str) = ("Pragma", "no-cache");

/// The Nextcloud side's authorization server (oauth.md §3).
pub mod nextcloud {
    use serde::{Deserialize, Serialize};

    pub const AUTHORIZE_PATH: &str = "/index.php/apps/oauth2/authorize";
    pub const TOKEN_PATH: &str = "/index.php/apps/oauth2/api/v1/token";
    /// The consent page (Extension path): `?clientIdentifier=<client_id>&…`.
    pub const CONSENT_PATH: &str = "/index.php/login/flow";
    /// Where the consent form posts (Extension path).
    pub const GRANT_PATH: &str = "/index.php/login/flow/grant";

    /// Lifetimes (seconds).
    pub const CODE_TTL_SECS: i64 = 600;
    pub const ACCESS_TOKEN_TTL_SECS: i64 = 3600;
    /// Lengths of the issued values, all `[A-Za-z0-9]`.
    pub const CODE_LEN: usize = 128;
    pub const ACCESS_TOKEN_LEN: usize = 72;
    pub const REFRESH_TOKEN_LEN: usize = 128;

    /// The HTML message for an unknown `client_id` at the authorize endpoint (§3.1 step 1).
    pub const CLIENT_NOT_AUTHORIZED: &str =
        "Your client is not authorized to connect. Please inform the administrator of your client.";

    /// Redirect `error` values of the authorize endpoint (§3.1).
    pub const ERROR_UNSUPPORTED_RESPONSE_TYPE: &str = "unsupported_response_type";
    pub const ERROR_INVALID_REQUEST: &str = "invalid_request";
    pub const ERROR_ACCESS_DENIED: &str = "access_denied";

    /// What a challenge must look like (§3.1 step 3): `^[A-Za-z0-9._~-]{43,128}$`.
    pub fn is_valid_code_challenge(challenge: &str) -> bool {
        (43..=128).contains(&challenge.len())
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
    }

    /// The `error` of a token-endpoint failure (§3.3: all 400, exactly `{"error":"<code>"}`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum TokenErrorCode {
        /// Row 1: an unsupported `grant_type`; row 5: the PKCE verifier does not match.
        InvalidGrant,
        /// Rows 2, 3, 4 and 6: unknown, replayed or expired code, rotated-out refresh token,
        /// missing verifier, client gone.
        InvalidRequest,
        /// Row 7: client id or secret do not match the code's client.
        InvalidClient,
    }

    impl TokenErrorCode {
        pub fn as_str(self) -> &'static str {
            match self {
                Self::InvalidGrant => "invalid_grant",
                Self::InvalidRequest => "invalid_request",
                Self::InvalidClient => "invalid_client",
            }
        }
    }

    /// `{"error": "<code>"}`: every failure of Nextcloud's token endpoint.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    pub struct TokenError {
        pub error: TokenErrorCode,
    }
}

/// OpenProject's authorization server as Nextcloud, its client, uses it (oauth.md §2, §5).
pub mod openproject {
    pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
    pub const TOKEN_PATH: &str = "/oauth/token";
    pub const REVOKE_PATH: &str = "/oauth/revoke";

    /// The `error` codes of OpenProject's (Doorkeeper's) OAuth endpoints.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ErrorCode {
        InvalidRequest,
        InvalidClient,
        InvalidGrant,
        InvalidScope,
        InvalidRedirectUri,
        InvalidToken,
        UnauthorizedClient,
        UnsupportedGrantType,
        UnsupportedResponseType,
        AccessDenied,
    }

    impl ErrorCode {
        pub const fn as_str(self) -> &'static str {
            match self {
                Self::InvalidRequest => "invalid_request",
                Self::InvalidClient => "invalid_client",
                Self::InvalidGrant => "invalid_grant",
                Self::InvalidScope => "invalid_scope",
                Self::InvalidRedirectUri => "invalid_redirect_uri",
                Self::InvalidToken => "invalid_token",
                Self::UnauthorizedClient => "unauthorized_client",
                Self::UnsupportedGrantType => "unsupported_grant_type",
                Self::UnsupportedResponseType => "unsupported_response_type",
                Self::AccessDenied => "access_denied",
            }
        }
    }

    /// The `error_description` texts of OpenProject's OAuth endpoints (Doorkeeper's English).
    pub mod descriptions {
        pub const INVALID_CLIENT: &str = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";
        pub const INVALID_REDIRECT_URI: &str =
            "The requested redirect uri is malformed or doesn't match client redirect URI.";
        pub const UNSUPPORTED_RESPONSE_TYPE: &str =
            "The authorization server does not support this response type.";
        pub const INVALID_SCOPE: &str = "The requested scope is invalid, unknown, or malformed.";
        pub const INVALID_CODE_CHALLENGE_METHOD: &str = "The code challenge method must be S256.";
        pub const ACCESS_DENIED: &str =
            "The resource owner or authorization server denied the request.";
        pub const INVALID_REQUEST: &str = "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.";
        pub const INVALID_GRANT: &str = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
        pub const UNSUPPORTED_GRANT_TYPE: &str =
            "The authorization grant type is not supported by the authorization server.";
        pub const UNAUTHORIZED_REVOKE: &str = "You are not authorized to revoke this token";
        pub const INVALID_TOKEN: &str = "The access token is invalid";

        pub fn missing_parameter(name: &str) -> String {
            format!("Missing required parameter: {name}.")
        }
    }

    /// `<opUrl>/oauth/authorize?…` as Nextcloud builds it (nextcloud-openproject-app.md §4,
    /// `op-oauth-url`): no `scope`, PKCE `S256`; a trailing `/` of `op_url` is dropped.
    pub fn authorize_url(
        op_url: &str,
        client_id: &str,
        redirect_uri: &str,
        state: &str,
        code_challenge: &str,
    ) -> String {
        let encode = |value: &str| -> String {
            url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
        };
        format!(
            "{}{AUTHORIZE_PATH}?client_id={}&redirect_uri={}&response_type=code&state={}&code_challenge={}&code_challenge_method={}",
            op_url.trim_end_matches('/'),
            encode(client_id),
            encode(redirect_uri),
            encode(state),
            encode(code_challenge),
            super::PKCE_S256,
        )
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
        assert_round_trip::<NextcloudTokenResponse>("nc_oauth_token_response");
        for name in [
            "nc_oauth_error_invalid_grant",
            "nc_oauth_error_invalid_request",
            "nc_oauth_error_invalid_client",
        ] {
            assert_round_trip::<nextcloud::TokenError>(name);
        }
    }

    #[test]
    fn nextcloud_token_errors_are_exact() {
        for (code, text) in [
            (nextcloud::TokenErrorCode::InvalidGrant, "invalid_grant"),
            (nextcloud::TokenErrorCode::InvalidRequest, "invalid_request"),
            (nextcloud::TokenErrorCode::InvalidClient, "invalid_client"),
        ] {
            assert_eq!(
                serde_json::to_string(&nextcloud::TokenError { error: code }).unwrap(),
                format!("{{\"error\":\"{text}\"}}")
            );
            assert_eq!(code.as_str(), text);
        }
    }

    #[test]
    fn the_nextcloud_token_response_has_the_contract_shape() {
        let body = load("nc_oauth_token_response");
        assert_eq!(body["token_type"], TOKEN_TYPE_BEARER);
        assert_eq!(body["expires_in"], nextcloud::ACCESS_TOKEN_TTL_SECS);
        let alnum = |v: &serde_json::Value, len: usize| {
            v.as_str()
                .is_some_and(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_alphanumeric()))
        };
        assert!(alnum(&body["access_token"], nextcloud::ACCESS_TOKEN_LEN));
        assert!(alnum(&body["refresh_token"], nextcloud::REFRESH_TOKEN_LEN));
    }

    #[test]
    fn nextcloud_code_challenges() {
        assert!(nextcloud::is_valid_code_challenge(&"a".repeat(43)));
        assert!(nextcloud::is_valid_code_challenge(&"A-._~9".repeat(20)));
        assert!(!nextcloud::is_valid_code_challenge(&"a".repeat(42)));
        assert!(!nextcloud::is_valid_code_challenge(&"a".repeat(129)));
        assert!(!nextcloud::is_valid_code_challenge(&format!(
            "{}+",
            "a".repeat(43)
        )));
    }

    #[test]
    fn the_openproject_authorize_url_is_exact() {
        assert_eq!(
            openproject::authorize_url(
                "https://op.example/",
                "cid",
                "http://nc.example/index.php/apps/integration_openproject/oauth-redirect",
                "0123456789abcdef0123456789abcdef",
                "ch-_"
            ),
            "https://op.example/oauth/authorize?client_id=cid&redirect_uri=http%3A%2F%2Fnc.example%2Findex.php%2Fapps%2Fintegration_openproject%2Foauth-redirect&response_type=code&state=0123456789abcdef0123456789abcdef&code_challenge=ch-_&code_challenge_method=S256"
        );
    }

    #[test]
    fn openproject_metadata() {
        assert_eq!(
            serde_json::to_value(ServerMetadata::openproject("https://op.example.com")).unwrap(),
            load("op_oauth_server_metadata")
        );
    }
}

// ------------------------------------------------------------------------------------------------
// OpenProject users authorizing OpenProject at Nextcloud (oauth.md §4.1–§4.3): the state cookie
// and the flash messages of `/oauth_clients/{client_id}/ensure_connection` and `…/callback`.
// ------------------------------------------------------------------------------------------------

/// OpenProject as Nextcloud's OAuth client (oauth.md §4).
pub mod openproject_client {
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    /// Name prefix of the cookie carrying an authorization in progress: `oauth_state_<state>`.
    pub const STATE_COOKIE_PREFIX: &str = "oauth_state_";

    /// The value of `oauth_state_<state>`: URL-encoded JSON (§4.1). A front end may write it
    /// itself (§4.2), so nothing in it is trusted.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct StateCookie {
        pub href: String,
        #[serde(rename = "storageId")]
        pub storage_id: String,
    }

    impl StateCookie {
        /// Reads the decoded value; `storageId` may also be a JSON number, as front ends holding
        /// the storage's numeric id may write it.
        pub fn parse(json: &str) -> Option<Self> {
            let value: Value = serde_json::from_str(json).ok()?;
            let href = value.get("href")?.as_str()?.to_string();
            let storage_id = match value.get("storageId")? {
                Value::String(id) => id.clone(),
                Value::Number(id) => id.to_string(),
                _ => return None,
            };
            Some(Self { href, storage_id })
        }
    }

    /// The flash messages of §4.1 and §4.3.
    pub mod messages {
        pub const CODE_NOT_FOUND: &str =
            "OAuth2 'code' not found in 'callback' endpoint (redirect_uri).";
        pub const STATE_NOT_FOUND: &str =
            "OAuth2 'state' not found in 'callback' endpoint (redirect_uri).";
        pub const CLIENT_NOT_FOUND: &str =
            "OAuth2 client not found in 'callback' endpoint (redirect_uri).";
        pub const SERVER_DOES_NOT_RECOGNIZE_US: &str =
            "The OAuth2 Authorization Server doesn't recognize OpenProject (invalid_client).";
        pub const SERVER_UNREACHABLE: &str =
            "The OAuth2 Authorization Server could not be reached.";
        /// Not in the contract: OpenProject's texts for the other error codes of RFC 6749 §5.2
        /// and for an answer that is no token response.
        pub const SERVER_REJECTS_GRANT_TYPE: &str =
            "The OAuth2 Authorization Server rejects the grant type (unauthorized_client)";
        pub const SCOPE_NOT_ALLOWED: &str =
            "You are not allowed to access the requested resource (invalid_scope).";
        pub const INVALID_RESPONSE: &str =
            "OAuth2 Authorization Server provided an invalid response (invalid_response)";

        /// `OAuth2 Authorization grant unsuccessful: OAuth2 provider reported: <detail>`.
        pub fn grant_unsuccessful(detail: &str) -> String {
            format!("OAuth2 Authorization grant unsuccessful: OAuth2 provider reported: {detail}")
        }

        /// The `<detail>` for the `error` code of a token-endpoint error body.
        pub fn provider_error_detail(error: &str) -> String {
            match error {
                "invalid_grant" | "invalid_request" | "unsupported_grant_type" => {
                    format!("The OAuth2 Authorization Server asks you to reauthorize ({error}).")
                }
                "invalid_client" => SERVER_DOES_NOT_RECOGNIZE_US.into(),
                "unauthorized_client" => SERVER_REJECTS_GRANT_TYPE.into(),
                "invalid_scope" => SCOPE_NOT_ALLOWED.into(),
                // An unknown code is not echoed: the peer chose it.
                _ => INVALID_RESPONSE.into(),
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_state_cookie_takes_string_or_numeric_storage_ids() {
            let ours = StateCookie {
                href: "https://op.example/projects".into(),
                storage_id: "3".into(),
            };
            let written = serde_json::to_string(&ours).unwrap();
            assert_eq!(
                written,
                r#"{"href":"https://op.example/projects","storageId":"3"}"#
            );
            assert_eq!(StateCookie::parse(&written), Some(ours.clone()));
            assert_eq!(
                StateCookie::parse(r#"{"href": "https://op.example/projects", "storageId": 3}"#),
                Some(ours)
            );
            for bad in [
                "",
                "{}",
                r#"{"href": 1, "storageId": "3"}"#,
                r#"{"href": "/", "storageId": null}"#,
            ] {
                assert_eq!(StateCookie::parse(bad), None, "{bad}");
            }
        }

        #[test]
        fn grant_failure_details() {
            assert_eq!(
                messages::grant_unsuccessful(&messages::provider_error_detail("invalid_grant")),
                "OAuth2 Authorization grant unsuccessful: OAuth2 provider reported: The OAuth2 Authorization Server asks you to reauthorize (invalid_grant)."
            );
            assert_eq!(
                messages::provider_error_detail("invalid_request"),
                "The OAuth2 Authorization Server asks you to reauthorize (invalid_request)."
            );
            assert_eq!(
                messages::provider_error_detail("invalid_client"),
                messages::SERVER_DOES_NOT_RECOGNIZE_US
            );
            assert_eq!(
                messages::provider_error_detail("<script>"),
                messages::INVALID_RESPONSE
            );
        }
    }
}
