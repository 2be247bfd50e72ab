//! A Nextcloud user's connection to OpenProject, with Nextcloud as the OAuth client
//! (oauth.md §5, nextcloud-openproject-app.md §4): the authorize URL with state and PKCE, the
//! code exchange at the redirect, the lazy single-flight refresh behind
//! [`openproject_access_token`], personal access tokens and disconnecting.
//!
//! Tokens are sealed at rest (user preferences), the verifier too; nothing secret is logged.

use std::time::{Duration, Instant};

use diesel::Connection;
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
use service_kit::{
    crypto::{self, constant_time_eq, SecretBox, SecretString},
    db::{AnyConnection, Db},
    time::now_millis,
};
use storage_protocol::{
    integration_app::{messages, USER_AGENT},
    oauth::openproject as op_oauth,
    storages::nextcloud_urls,
};

use super::{
    preferences::{self, keys, PreferenceError, Whose, PROTECTED_KEYS},
    settings::AdminSettings,
    setup,
};
use crate::{db::token_refreshes, error::ApiError};

/// Refresh when the token expires within this margin (oauth.md §5 step 3).
pub const REFRESH_MARGIN_SECS: i64 = 60;
/// A token without `expires_in` lives this long.
pub const DEFAULT_LIFETIME_SECS: i64 = 3600;
/// How long a refresh may hold the user's lease: longer than a token request may take.
const LEASE_MILLIS: i64 = 30_000;
/// How often a caller waiting for another one's refresh looks again.
const WAIT_STEP: Duration = Duration::from_millis(50);

/// The OAuth error message when the redirect's preconditions fail (§4 step 1).
pub const EXCHANGE_PRECONDITIONS_FAILED: &str = "Error during OAuth exchanges";
/// `oauth_connection_result` values.
pub const RESULT_SUCCESS: &str = "success";
pub const RESULT_ERROR: &str = "error";

/// Where each starting page of the OAuth journey is.
pub const DASHBOARD_PATH: &str = "/index.php/apps/dashboard/";
pub const PERSONAL_SETTINGS_PATH: &str = "/index.php/settings/user/openproject";
pub const FILES_PATH: &str = "/index.php/apps/files/";

/// What talking to OpenProject for a user needs.
#[derive(Clone, Copy)]
pub struct OpenProject<'a> {
    pub db: &'a Db,
    pub secret_box: &'a SecretBox,
    /// Built by `service_kit::http_client`: timeouts, no redirects.
    pub http: &'a reqwest::Client,
    /// `NCOA_PUBLIC_URL`, without trailing `/`.
    pub public_url: &'a str,
}

impl OpenProject<'_> {
    /// `<NCOA_PUBLIC_URL>/index.php/apps/integration_openproject/oauth-redirect`.
    pub fn redirect_uri(&self) -> String {
        nextcloud_urls::oauth_redirect_uri(&format!("{}/", self.public_url))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The admin configuration is incomplete (§3.4).
    #[error("the OpenProject admin configuration is not valid")]
    AdminConfigNotValid,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<PreferenceError> for ApiError {
    fn from(e: PreferenceError) -> Self {
        Self::Unexpected(anyhow::Error::new(e).context("user preferences"))
    }
}

impl From<ConnectionError> for ApiError {
    fn from(e: ConnectionError) -> Self {
        match e {
            ConnectionError::AdminConfigNotValid => {
                Self::BadRequest(messages::ADMIN_CONFIG_NOT_VALID.into())
            }
            ConnectionError::Database(e) => e.into(),
        }
    }
}

/// `GET APP/op-oauth-url`: a new state (32 lowercase hex characters) and PKCE verifier (128
/// base64url characters from 96 random bytes) stored for the user, and OpenProject's authorize
/// URL carrying the state and the S256 challenge.
pub fn start_authorization(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    redirect_uri: &str,
    uid: &str,
) -> Result<String, ConnectionError> {
    if !setup::check(conn, secret_box)?.config_status_without_project_folder {
        return Err(ConnectionError::AdminConfigNotValid);
    }
    let settings = AdminSettings::load(conn, secret_box)?;
    let state = crypto::random_hex(16);
    let verifier = crypto::random_urlsafe(96);
    conn.transaction(|conn| {
        preferences::set(conn, secret_box, uid, keys::OAUTH_STATE, &state)?;
        preferences::set(conn, secret_box, uid, keys::CODE_VERIFIER, &verifier)
    })?;
    Ok(op_oauth::authorize_url(
        &settings.openproject_instance_url,
        &settings.openproject_client_id,
        redirect_uri,
        &state,
        &oauth_provider::s256_challenge(&verifier),
    ))
}

/// The query of `GET APP/oauth-redirect`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RedirectParams {
    pub code: Option<String>,
    pub state: Option<String>,
    /// OpenProject's `error` when the user denied or the request was refused.
    pub error: Option<String>,
}

/// What the redirect found stored, read and cleared in one step.
struct FlowState {
    starting_page: Option<String>,
    state: Option<String>,
    verifier: Option<String>,
    settings: AdminSettings,
}

fn take_flow_state(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    uid: &str,
) -> Result<FlowState, ApiError> {
    // Serialized per user: of two redirects carrying the same state, only one finds it.
    crate::db::serialized_transaction(conn, connection_lock(uid), |conn| {
        let starting_page =
            preferences::get(conn, secret_box, uid, keys::OAUTH_JOURNEY_STARTING_PAGE)?;
        let state = preferences::take(conn, secret_box, uid, keys::OAUTH_STATE)?;
        // A verifier sealed with another key is as good as none.
        let verifier =
            preferences::take(conn, secret_box, uid, keys::CODE_VERIFIER).or_else(|e| match e {
                PreferenceError::Sealed(_) => Ok(None),
                other => Err(other),
            })?;
        Ok(FlowState {
            starting_page,
            state,
            verifier,
            settings: AdminSettings::load(conn, secret_box)?,
        })
    })
}

/// `GET APP/oauth-redirect`: checks the state, exchanges the code (with the verifier) at
/// OpenProject, reads `/api/v3/users/me`, stores the connection and the outcome for the
/// personal settings page, and returns where to send the browser (always a 303).
pub async fn finish_authorization(
    op: OpenProject<'_>,
    uid: &str,
    params: RedirectParams,
) -> Result<String, ApiError> {
    let secret_box = op.secret_box.clone();
    let owner = uid.to_string();
    let flow = op
        .db
        .run(move |conn| take_flow_state(conn, &secret_box, &owner))
        .await?;
    let location = starting_page_location(flow.starting_page.as_deref());

    let settings = &flow.settings;
    let state_matches = match (flow.state.as_deref(), params.state.as_deref()) {
        (Some(stored), Some(given)) => !stored.is_empty() && constant_time_eq(stored, given),
        _ => false,
    };
    let verifier = flow.verifier.filter(|v| is_valid_verifier(v));
    let preconditions = !settings.openproject_client_id.is_empty()
        && settings.openproject_client_secret.expose().len() >= 10
        && state_matches;
    let (Some(verifier), true) = (verifier, preconditions) else {
        record_outcome(op, uid, Err(EXCHANGE_PRECONDITIONS_FAILED.to_string())).await?;
        return Ok(location);
    };

    let exchanged = match params.code.filter(|c| !c.is_empty()) {
        Some(code) => exchange_code(op, settings, &code, verifier).await,
        None => Err(ExchangeFailure::Refused(denial_reason(
            params.error.as_deref(),
        ))),
    };
    match exchanged {
        Ok(tokens) => {
            store_tokens(op, uid, &tokens, None).await?;
            let identity = fetch_me(op.http, &settings.openproject_instance_url, &tokens.access)
                .await
                .ok();
            store_identity(op, uid, identity).await?;
            record_outcome(op, uid, Ok(())).await?;
        }
        Err(failure) => {
            let message = format!("Error getting OAuth access token. {}", failure.reason());
            record_outcome(op, uid, Err(message)).await?;
        }
    }
    Ok(location)
}

/// The redirect's `error` parameter as a reason, when it looks like an OAuth error code.
fn denial_reason(error: Option<&str>) -> String {
    match error {
        Some(code)
            if !code.is_empty()
                && code.len() <= 64
                && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            code.to_string()
        }
        _ => "no authorization code".to_string(),
    }
}

/// `^[A-Za-z0-9\-._~]{43,128}$`
fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Where the journey started (`oauth_journey_starting_page`, a JSON object with `page`).
pub fn starting_page_location(stored: Option<&str>) -> String {
    let page: Value = stored
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    match page.get("page").and_then(Value::as_str) {
        Some("dashboard") => DASHBOARD_PATH.to_string(),
        Some("settings") => PERSONAL_SETTINGS_PATH.to_string(),
        Some("files") => {
            let file = page.get("file");
            let text = |key: &str| {
                file.and_then(|f| f.get(key))
                    .or_else(|| page.get(key))
                    .and_then(Value::as_str)
            };
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            if let Some(dir) = text("dir") {
                query.append_pair("dir", dir);
            }
            if let Some(name) = text("name").or_else(|| text("scrollto")) {
                query.append_pair("scrollto", name);
            }
            let query = query.finish();
            if query.is_empty() {
                FILES_PATH.to_string()
            } else {
                format!("{FILES_PATH}?{query}")
            }
        }
        _ => FILES_PATH.to_string(),
    }
}

async fn record_outcome(
    op: OpenProject<'_>,
    uid: &str,
    outcome: Result<(), String>,
) -> Result<(), ApiError> {
    let secret_box = op.secret_box.clone();
    let uid = uid.to_string();
    op.db
        .run(move |conn| {
            conn.transaction(|conn| match &outcome {
                Ok(()) => {
                    preferences::set(
                        conn,
                        &secret_box,
                        &uid,
                        keys::OAUTH_CONNECTION_RESULT,
                        RESULT_SUCCESS,
                    )?;
                    preferences::delete(conn, &uid, keys::OAUTH_CONNECTION_ERROR_MESSAGE).map(drop)
                }
                Err(message) => {
                    preferences::set(
                        conn,
                        &secret_box,
                        &uid,
                        keys::OAUTH_CONNECTION_RESULT,
                        RESULT_ERROR,
                    )?;
                    preferences::set(
                        conn,
                        &secret_box,
                        &uid,
                        keys::OAUTH_CONNECTION_ERROR_MESSAGE,
                        message,
                    )
                }
            })
            .map_err(ApiError::from)
        })
        .await
}

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
struct Tokens {
    access: SecretString,
    refresh: Option<SecretString>,
    /// Unix seconds.
    expires_at: i64,
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
enum ExchangeFailure {
    /// OpenProject answered with an OAuth error code (or the user denied).
    Refused(String),
    Unreachable,
    Malformed,
    Misconfigured(String),
}

impl ExchangeFailure {
    fn reason(&self) -> String {
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

async fn exchange_code(
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
        .request_async(op.http)
        .await
        .map_err(ExchangeFailure::of)?;
    let tokens = Tokens::from(response);
    if tokens.refresh.is_none() {
        return Err(ExchangeFailure::Refused("no refresh token".into()));
    }
    Ok(tokens)
}

async fn refresh_tokens(
    op: OpenProject<'_>,
    settings: &AdminSettings,
    refresh_token: &SecretString,
) -> Result<Tokens, ExchangeFailure> {
    let client =
        oauth_client(settings, &op.redirect_uri()).map_err(ExchangeFailure::Misconfigured)?;
    let response = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_string()))
        .request_async(op.http)
        .await
        .map_err(ExchangeFailure::of)?;
    Ok(Tokens::from(response))
}

/// Stores a new pair. With `replacing`, only while the stored refresh token is still that one
/// (a disconnect or a new connection during a refresh wins); returns whether it was stored.
async fn store_tokens(
    op: OpenProject<'_>,
    uid: &str,
    tokens: &Tokens,
    replacing: Option<&SecretString>,
) -> Result<bool, ApiError> {
    let secret_box = op.secret_box.clone();
    let uid = uid.to_string();
    let tokens = tokens.clone();
    let replacing = replacing.cloned();
    op.db
        .run(move |conn| {
            crate::db::serialized_transaction(conn, connection_lock(&uid), |conn| {
                if let Some(expected) = &replacing {
                    let current = preferences::get(conn, &secret_box, &uid, keys::REFRESH_TOKEN)?;
                    if !current.is_some_and(|c| constant_time_eq(&c, expected.expose())) {
                        return Ok(false);
                    }
                } else {
                    // A new connection replaces everything of the old one.
                    preferences::clear_openproject_connection(conn, Whose::User(&uid))?;
                }
                preferences::set(conn, &secret_box, &uid, keys::TOKEN, tokens.access.expose())?;
                if let Some(refresh) = &tokens.refresh {
                    preferences::set(
                        conn,
                        &secret_box,
                        &uid,
                        keys::REFRESH_TOKEN,
                        refresh.expose(),
                    )?;
                }
                preferences::set(
                    conn,
                    &secret_box,
                    &uid,
                    keys::TOKEN_EXPIRES_AT,
                    &tokens.expires_at.to_string(),
                )?;
                Ok::<_, ApiError>(true)
            })
        })
        .await
}

/// Serializes writes to one user's connection (a per-user PostgreSQL advisory lock; SQLite
/// serializes every writer anyway).
fn connection_lock(uid: &str) -> i64 {
    let digest = crypto::digest(&format!("openproject-connection:{uid}"));
    i64::from_str_radix(&digest[..15], 16).unwrap_or(0)
}

/// The OpenProject user behind a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: String,
    /// `"<firstName> <lastName>"`.
    pub name: String,
}

/// `GET <opUrl>/api/v3/users/me` with the token; the failure reason is safe to show.
async fn fetch_me(
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
        .send()
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

async fn store_identity(
    op: OpenProject<'_>,
    uid: &str,
    identity: Option<Identity>,
) -> Result<(), ApiError> {
    let Some(identity) = identity else {
        return Ok(());
    };
    let secret_box = op.secret_box.clone();
    let uid = uid.to_string();
    op.db
        .run(move |conn| {
            conn.transaction(|conn| {
                preferences::set(conn, &secret_box, &uid, keys::USER_ID, &identity.id)?;
                preferences::set(conn, &secret_box, &uid, keys::USER_NAME, &identity.name)
            })
            .map_err(ApiError::from)
        })
        .await
}

/// Why no OpenProject token can be had for a user (the OCS wrappers answer 401 with data `""`).
#[derive(Debug, thiserror::Error)]
pub enum AccessTokenError {
    #[error("the user is not connected to OpenProject")]
    NotConnected,
    /// Logged as `Failed to refresh token: <reason>`; the stored tokens are kept.
    #[error("the OpenProject token could not be refreshed")]
    RefreshFailed,
    #[error(transparent)]
    Unexpected(#[from] ApiError),
}

/// What the user's connection holds now.
struct Stored {
    token: Option<SecretString>,
    refresh_token: Option<SecretString>,
    /// Unix seconds; `None` for personal access tokens.
    expires_at: Option<i64>,
}

impl Stored {
    fn is_fresh(&self, now_secs: i64) -> bool {
        self.expires_at
            .is_none_or(|expires| now_secs <= expires - REFRESH_MARGIN_SECS)
    }
}

async fn read_stored(op: OpenProject<'_>, uid: &str) -> Result<Stored, ApiError> {
    let secret_box = op.secret_box.clone();
    let uid = uid.to_string();
    op.db
        .run(move |conn| {
            let get = |conn: &mut AnyConnection, key| {
                preferences::get(conn, &secret_box, &uid, key).or_else(|e| match e {
                    // Sealed with another key: unusable, as if absent.
                    PreferenceError::Sealed(_) => Ok(None),
                    other => Err(ApiError::from(other)),
                })
            };
            Ok(Stored {
                token: get(conn, keys::TOKEN)?
                    .filter(|t| !t.is_empty())
                    .map(SecretString::new),
                refresh_token: get(conn, keys::REFRESH_TOKEN)?
                    .filter(|t| !t.is_empty())
                    .map(SecretString::new),
                expires_at: get(conn, keys::TOKEN_EXPIRES_AT)?.and_then(|v| v.parse().ok()),
            })
        })
        .await
}

/// The user's OpenProject access token for a call about to be made, refreshed first when it
/// expires within 60 s (oauth.md §5 step 3). One caller per user refreshes at a time, on any
/// replica (a lease in the database, not held over the call's transaction); the others wait and
/// use its result. A failed refresh keeps the stored tokens, so the next call tries again.
pub async fn openproject_access_token(
    op: OpenProject<'_>,
    uid: &str,
) -> Result<SecretString, AccessTokenError> {
    let give_up = Instant::now() + Duration::from_millis(LEASE_MILLIS as u64) + WAIT_STEP;
    let mut waited = false;
    loop {
        // Looked at before the tokens: a refresh stores its result before it releases.
        let other_finished = waited && !refresh_running(op, uid).await?;
        let stored = read_stored(op, uid).await?;
        let Some(token) = stored.token.clone() else {
            return Err(AccessTokenError::NotConnected);
        };
        if stored.is_fresh(now_millis() / 1000) {
            return Ok(token);
        }
        if other_finished {
            // The refresh this caller waited for failed (and was logged): share its outcome
            // rather than repeat it; the next call tries again.
            return Err(AccessTokenError::RefreshFailed);
        }
        let until = now_millis() + LEASE_MILLIS;
        let owner = uid.to_string();
        let claimed = op
            .db
            .run(move |conn| {
                token_refreshes::claim(conn, &owner, now_millis(), until).map_err(ApiError::from)
            })
            .await?;
        if claimed {
            let result = refresh_holding_lease(op, uid).await;
            let owner = uid.to_string();
            op.db
                .run(move |conn| {
                    token_refreshes::release(conn, &owner, until).map_err(ApiError::from)
                })
                .await?;
            return result;
        }
        if Instant::now() > give_up {
            tracing::warn!("Failed to refresh token: another refresh did not finish in time");
            return Err(AccessTokenError::RefreshFailed);
        }
        waited = true;
        tokio::time::sleep(WAIT_STEP).await;
    }
}

async fn refresh_running(op: OpenProject<'_>, uid: &str) -> Result<bool, ApiError> {
    let owner = uid.to_string();
    op.db
        .run(move |conn| {
            token_refreshes::is_held(conn, &owner, now_millis()).map_err(ApiError::from)
        })
        .await
}

async fn refresh_holding_lease(
    op: OpenProject<'_>,
    uid: &str,
) -> Result<SecretString, AccessTokenError> {
    // Read again under the lease: a refresh may have finished since the caller looked.
    let stored = read_stored(op, uid).await?;
    let Some(token) = stored.token.clone() else {
        return Err(AccessTokenError::NotConnected);
    };
    if stored.is_fresh(now_millis() / 1000) {
        return Ok(token);
    }
    let Some(refresh_token) = stored.refresh_token else {
        tracing::warn!("Failed to refresh token: no refresh token is stored");
        return Err(AccessTokenError::RefreshFailed);
    };
    let secret_box = op.secret_box.clone();
    let settings = op
        .db
        .run(move |conn| AdminSettings::load(conn, &secret_box).map_err(ApiError::from))
        .await?;
    let tokens = match refresh_tokens(op, &settings, &refresh_token).await {
        Ok(tokens) => tokens,
        Err(failure) => {
            tracing::warn!("Failed to refresh token: {}", failure.reason());
            return Err(AccessTokenError::RefreshFailed);
        }
    };
    if store_tokens(op, uid, &tokens, Some(&refresh_token)).await? {
        Ok(tokens.access)
    } else {
        tracing::warn!("Failed to refresh token: the connection changed during the refresh");
        Err(AccessTokenError::RefreshFailed)
    }
}

/// A validated `PUT APP/config` body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigChanges {
    /// `Some("")` disconnects; `Some(token)` connects with a personal access token.
    pub token: Option<String>,
    /// Other keys in request order; `None` deletes.
    pub values: Vec<(String, Option<String>)>,
}

/// Longest preference key accepted (Nextcloud's limit).
const MAX_KEY_LEN: usize = 64;

/// Parses `{"values": {…}}`: strings (trimmed), booleans as `"1"`/`"0"`, numbers as text,
/// `null` deletes; the connection and flow-state keys other than `token` and
/// `oauth_journey_starting_page` are ignored.
pub fn parse_config(body: &[u8]) -> Result<ConfigChanges, String> {
    let invalid = || messages::INVALID_SETTINGS.to_string();
    let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid());
    };
    let Some(Value::Object(values)) = body.remove("values") else {
        return Err(invalid());
    };
    let mut changes = ConfigChanges::default();
    for (key, value) in values {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(invalid());
        }
        if key == keys::TOKEN {
            changes.token = match value {
                Value::String(token) => Some(token.trim().to_string()),
                Value::Null => None,
                _ => return Err(messages::invalid_value(&key)),
            };
            continue;
        }
        if PROTECTED_KEYS.contains(&key.as_str()) {
            continue;
        }
        let stored = match value {
            Value::Null => None,
            Value::Bool(b) => Some(if b { "1" } else { "0" }.to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.trim().to_string()),
            Value::Array(_) | Value::Object(_) => return Err(messages::invalid_value(&key)),
        };
        changes.values.push((key, stored));
    }
    Ok(changes)
}

/// What `PUT APP/config` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOutcome {
    /// No `token` key: 200 `{}`.
    Stored,
    /// `token` `""`: 200 `{"user_name": ""}`.
    Disconnected,
    /// A personal access token that works: 200 `{"user_name": "<First Last>"}`.
    Connected(String),
    /// A personal access token OpenProject refused: 401 `{"error": "<reason>"}`.
    Refused(String),
}

/// `PUT APP/config`: stores the preferences, then connects with a personal access token or
/// disconnects (revoking the refresh token at OpenProject, best effort).
pub async fn update_config(
    op: OpenProject<'_>,
    uid: &str,
    changes: ConfigChanges,
) -> Result<ConfigOutcome, ApiError> {
    let secret_box = op.secret_box.clone();
    let owner = uid.to_string();
    let values = changes.values.clone();
    op.db
        .run(move |conn| {
            conn.transaction(|conn| {
                for (key, value) in &values {
                    match value {
                        Some(value) => preferences::set(conn, &secret_box, &owner, key, value)?,
                        None => preferences::delete(conn, &owner, key).map(drop)?,
                    }
                }
                Ok::<_, diesel::result::Error>(())
            })
            .map_err(ApiError::from)
        })
        .await?;
    match changes.token.as_deref() {
        None => Ok(ConfigOutcome::Stored),
        Some("") => {
            disconnect(op, uid).await?;
            Ok(ConfigOutcome::Disconnected)
        }
        Some(token) => connect_with_personal_token(op, uid, token).await,
    }
}

/// Clears the user's connection, then revokes its refresh token at OpenProject (Extension, best
/// effort: the answer is ignored).
pub async fn disconnect(op: OpenProject<'_>, uid: &str) -> Result<(), ApiError> {
    let secret_box = op.secret_box.clone();
    let owner = uid.to_string();
    let (refresh_token, settings) = op
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                // A token sealed with another key cannot be revoked; the rest goes on.
                let refresh = preferences::get(conn, &secret_box, &owner, keys::REFRESH_TOKEN)
                    .or_else(|e| match e {
                        PreferenceError::Sealed(_) => Ok(None),
                        other => Err(ApiError::from(other)),
                    })?;
                preferences::clear_openproject_connection(conn, Whose::User(&owner))?;
                Ok::<_, ApiError>((refresh, AdminSettings::load(conn, &secret_box)?))
            })
        })
        .await?;
    let Some(refresh_token) = refresh_token.filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    revoke_refresh_token(op.http, &settings, &refresh_token).await;
    Ok(())
}

/// `POST <opUrl>/oauth/revoke` with client authentication (oauth.md §2.4). Not through the
/// `oauth2` crate, which refuses revocation endpoints without https (RFC 7009) and so every
/// plain-http deployment; the answer is ignored either way.
async fn revoke_refresh_token(http: &reqwest::Client, settings: &AdminSettings, token: &str) {
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
        .send()
        .await;
    if !sent.is_ok_and(|response| response.status().is_success()) {
        tracing::info!("revoking the OpenProject refresh token failed; ignored");
    }
}

async fn connect_with_personal_token(
    op: OpenProject<'_>,
    uid: &str,
    token: &str,
) -> Result<ConfigOutcome, ApiError> {
    let tokens = Tokens {
        access: SecretString::new(token),
        refresh: None,
        expires_at: 0,
    };
    let secret_box = op.secret_box.clone();
    let owner = uid.to_string();
    let openproject_url = op
        .db
        .run(move |conn| {
            crate::db::serialized_transaction(conn, connection_lock(&owner), |conn| {
                preferences::clear_openproject_connection(conn, Whose::User(&owner))?;
                preferences::set(
                    conn,
                    &secret_box,
                    &owner,
                    keys::TOKEN,
                    tokens.access.expose(),
                )?;
                Ok::<_, ApiError>(AdminSettings::load(conn, &secret_box)?.openproject_instance_url)
            })
        })
        .await?;
    // Through the token getter, as every OpenProject call goes (a personal token never expires).
    let identity = match openproject_access_token(op, uid).await {
        Ok(token) if !openproject_url.is_empty() => {
            fetch_me(op.http, &openproject_url, &token).await
        }
        Ok(_) => Err(messages::ADMIN_CONFIG_NOT_VALID.to_string()),
        Err(AccessTokenError::Unexpected(e)) => return Err(e),
        Err(e) => Err(e.to_string()),
    };
    match identity {
        Ok(identity) => {
            let name = identity.name.clone();
            store_identity(op, uid, Some(identity)).await?;
            Ok(ConfigOutcome::Connected(name))
        }
        Err(reason) => {
            let owner = uid.to_string();
            op.db
                .run(move |conn| {
                    preferences::clear_openproject_connection(conn, Whose::User(&owner))
                        .map_err(ApiError::from)
                })
                .await?;
            Ok(ConfigOutcome::Refused(reason))
        }
    }
}

/// What the personal settings page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalState {
    pub connected: bool,
    pub user_name: Option<String>,
    pub admin_config_ok: bool,
    /// `oauth_connection_result` and its error message, shown once: both are deleted here.
    pub result: Option<String>,
    pub error_message: Option<String>,
}

pub fn personal_state(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    uid: &str,
) -> Result<PersonalState, ApiError> {
    conn.transaction(|conn| {
        let plain = |conn: &mut AnyConnection, key| {
            crate::db::user_preferences::get(
                conn,
                uid,
                storage_protocol::integration_app::APP_ID,
                key,
            )
        };
        let connected = plain(conn, keys::TOKEN)?.is_some_and(|t| !t.is_empty());
        let user_name = plain(conn, keys::USER_NAME)?.filter(|n| !n.is_empty());
        let result = preferences::take(conn, secret_box, uid, keys::OAUTH_CONNECTION_RESULT)?;
        let error_message =
            preferences::take(conn, secret_box, uid, keys::OAUTH_CONNECTION_ERROR_MESSAGE)?;
        Ok(PersonalState {
            connected,
            user_name,
            admin_config_ok: setup::check(conn, secret_box)?.config_status_without_project_folder,
            result,
            error_message,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_pages() {
        assert_eq!(starting_page_location(None), FILES_PATH);
        assert_eq!(
            starting_page_location(Some(r#"{"page":"settings"}"#)),
            PERSONAL_SETTINGS_PATH
        );
        assert_eq!(
            starting_page_location(Some(r#"{"page":"dashboard"}"#)),
            DASHBOARD_PATH
        );
        assert_eq!(
            starting_page_location(Some(
                r#"{"page":"files","file":{"dir":"/a b","name":"x.pdf"}}"#
            )),
            "/index.php/apps/files/?dir=%2Fa+b&scrollto=x.pdf"
        );
        assert_eq!(starting_page_location(Some("nonsense")), FILES_PATH);
        assert_eq!(
            starting_page_location(Some(r#"{"page":"spreed"}"#)),
            FILES_PATH
        );
    }

    #[test]
    fn verifiers_and_denials() {
        assert!(is_valid_verifier(&crypto::random_urlsafe(96)));
        assert_eq!(crypto::random_urlsafe(96).len(), 128);
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(!is_valid_verifier(&format!("{}=", "a".repeat(43))));
        assert_eq!(denial_reason(Some("access_denied")), "access_denied");
        assert_eq!(denial_reason(Some("<b>")), "no authorization code");
        assert_eq!(denial_reason(None), "no authorization code");
    }

    #[test]
    fn config_bodies() {
        let parsed = parse_config(
            br#"{"values": {"search_enabled": true, "navigation_enabled": false,
                "oauth_journey_starting_page": "{\"page\":\"settings\"}", "user_id": "9",
                "refresh_token": "x", "token": " ", "link_preview_enabled": null, "n": 3}}"#,
        )
        .unwrap();
        assert_eq!(parsed.token.as_deref(), Some(""));
        assert_eq!(
            parsed.values,
            vec![
                ("search_enabled".to_string(), Some("1".to_string())),
                ("navigation_enabled".to_string(), Some("0".to_string())),
                (
                    "oauth_journey_starting_page".to_string(),
                    Some(r#"{"page":"settings"}"#.to_string())
                ),
                ("link_preview_enabled".to_string(), None),
                ("n".to_string(), Some("3".to_string())),
            ]
        );
        assert_eq!(parse_config(b"{}").unwrap_err(), messages::INVALID_SETTINGS);
        assert_eq!(
            parse_config(br#"{"values": {"token": 5}}"#).unwrap_err(),
            "Invalid value for setting: token"
        );
        assert_eq!(
            parse_config(br#"{"values": {"a": [1]}}"#).unwrap_err(),
            "Invalid value for setting: a"
        );
        assert_eq!(
            parse_config(br#"{"values": {}}"#).unwrap(),
            ConfigChanges::default()
        );
    }
}
