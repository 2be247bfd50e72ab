//! Nextcloud's calls to OpenProject as its OAuth client: the code exchange and the refresh with
//! the `oauth2` crate (client id and secret as form fields), the revocation, and
//! `GET /api/v3/users/me`. Failure reasons are safe to show and log: never a secret.

use oauth2::{
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenType,
    },
    AuthType, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use service_kit::http_client::{Observed, SendObserved};
use service_kit::{crypto::SecretString, time::now_millis};
use storage_protocol::{
    integration_app::{messages, USER_AGENT},
    oauth::openproject as op_oauth,
};

use crate::domain::settings::AdminSettings;
use crate::flows::openproject_connection::OpenProject;

/// A token without `expires_in` lives this long.
pub const DEFAULT_LIFETIME_SECS: i64 = 3600;

/// OpenProject's token response: the standard fields and its `created_at` (unix seconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpTokenFields {
    #[serde(default)]
    created_at: Option<i64>,
}

impl ExtraTokenFields for OpTokenFields {}

type OpTokenResponse = StandardTokenResponse<OpTokenFields, BasicTokenType>;

type OpClient = oauth2::Client<
    BasicErrorResponse,
    OpTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The OAuth client of OpenProject's application: client id and secret sent as form fields.
fn oauth_client(settings: &AdminSettings, redirect_uri: &str) -> Result<OpClient, String> {
    let base = settings.openproject_instance_url.trim_end_matches('/');
    let invalid = |_| messages::ADMIN_CONFIG_NOT_VALID.to_string();
    Ok(
        oauth2::Client::new(ClientId::new(settings.openproject_client_id.clone()))
            .set_client_secret(ClientSecret::new(
                settings.openproject_client_secret.expose().to_string(),
            ))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(
                TokenUrl::new(format!("{base}{}", op_oauth::TOKEN_PATH)).map_err(invalid)?,
            )
            .set_redirect_uri(RedirectUrl::new(redirect_uri.to_string()).map_err(invalid)?),
    )
}

/// A token pair as stored.
#[derive(Debug, Clone)]
pub(super) struct Tokens {
    pub(super) access: SecretString,
    pub(super) refresh: Option<SecretString>,
    /// Unix seconds.
    pub(super) expires_at: i64,
}

impl From<OpTokenResponse> for Tokens {
    fn from(response: OpTokenResponse) -> Self {
        let lifetime = response
            .expires_in()
            .and_then(|d| i64::try_from(d.as_secs()).ok())
            .unwrap_or(DEFAULT_LIFETIME_SECS);
        let created_at = response
            .extra_fields()
            .created_at
            .unwrap_or_else(|| now_millis() / 1000);
        Self {
            access: SecretString::new(response.access_token().secret().clone()),
            refresh: response
                .refresh_token()
                .map(|t| SecretString::new(t.secret().clone())),
            expires_at: created_at.saturating_add(lifetime),
        }
    }
}

/// Why a token request failed, safe to show and log (never a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ExchangeFailure {
    /// OpenProject answered with an OAuth error code (or the user denied).
    Refused(String),
    Unreachable,
    Malformed,
    Misconfigured(String),
}

impl ExchangeFailure {
    pub(super) fn reason(&self) -> String {
        match self {
            Self::Refused(code) => code.clone(),
            Self::Unreachable => "OpenProject could not be reached".into(),
            Self::Malformed => "OpenProject's answer could not be read".into(),
            Self::Misconfigured(reason) => reason.clone(),
        }
    }

    fn of<RE: std::error::Error + 'static>(
        error: RequestTokenError<RE, BasicErrorResponse>,
    ) -> Self {
        match error {
            RequestTokenError::ServerResponse(response) => {
                Self::Refused(response.error().as_ref().to_string())
            }
            RequestTokenError::Request(_) => Self::Unreachable,
            RequestTokenError::Parse(_, _) | RequestTokenError::Other(_) => Self::Malformed,
        }
    }
}

pub(super) async fn exchange_code(
    op: OpenProject<'_>,
    settings: &AdminSettings,
    code: &str,
    verifier: String,
) -> Result<Tokens, ExchangeFailure> {
    let client =
        oauth_client(settings, &op.redirect_uri()).map_err(ExchangeFailure::Misconfigured)?;
    let response = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&Observed(op.http))
        .await
        .map_err(ExchangeFailure::of)?;
    let tokens = Tokens::from(response);
    if tokens.refresh.is_none() {
        return Err(ExchangeFailure::Refused("no refresh token".into()));
    }
    Ok(tokens)
}

pub(super) async fn refresh_tokens(
    op: OpenProject<'_>,
    settings: &AdminSettings,
    refresh_token: &SecretString,
) -> Result<Tokens, ExchangeFailure> {
    let client =
        oauth_client(settings, &op.redirect_uri()).map_err(ExchangeFailure::Misconfigured)?;
    let response = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_string()))
        .request_async(&Observed(op.http))
        .await
        .map_err(ExchangeFailure::of)?;
    Ok(Tokens::from(response))
}

/// The OpenProject user behind a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: String,
    /// `"<firstName> <lastName>"`.
    pub name: String,
}

/// `GET <opUrl>/api/v3/users/me` with the token; the failure reason is safe to show.
pub(super) async fn fetch_me(
    http: &reqwest::Client,
    openproject_url: &str,
    token: &SecretString,
) -> Result<Identity, String> {
    let url = format!("{}/api/v3/users/me", openproject_url.trim_end_matches('/'));
    let response = http
        .get(url)
        .bearer_auth(token.expose())
        .header(reqwest::header::USER_AGENT, USER_AGENT)
        .header(reqwest::header::ACCEPT, "application/json")
        .send_observed()
        .await
        .map_err(|_| "OpenProject could not be reached".to_string())?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(body
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!(
                    "{} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or_default()
                )
            }));
    }
    let id = match body.get("id") {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let first = body.get("firstName").and_then(Value::as_str);
    let last = body.get("lastName").and_then(Value::as_str);
    match (id, first, last) {
        (Some(id), Some(first), Some(last)) => Ok(Identity {
            id,
            name: format!("{first} {last}"),
        }),
        _ => Err("OpenProject did not name the user".to_string()),
    }
}

/// `POST <opUrl>/oauth/revoke` with client authentication (oauth.md §2.4). Not through the
/// `oauth2` crate, which refuses revocation endpoints without https (RFC 7009) and so every
/// plain-http deployment; the answer is ignored either way.
pub(super) async fn revoke_refresh_token(
    http: &reqwest::Client,
    settings: &AdminSettings,
    token: &str,
) {
    let base = settings.openproject_instance_url.trim_end_matches('/');
    if base.is_empty() {
        return;
    }
    let form = [
        ("token", token),
        ("token_type_hint", "refresh_token"),
        ("client_id", settings.openproject_client_id.as_str()),
        ("client_secret", settings.openproject_client_secret.expose()),
    ];
    let sent = http
        .post(format!("{base}{}", op_oauth::REVOKE_PATH))
        .header(reqwest::header::USER_AGENT, USER_AGENT)
        .form(&form)
        .send_observed()
        .await;
    if !sent.is_ok_and(|response| response.status().is_success()) {
        tracing::info!("revoking the OpenProject refresh token failed; ignored");
    }
}
