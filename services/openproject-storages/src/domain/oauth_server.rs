//! OpenProject as OAuth authorization server for Nextcloud (spec/oauth.md §2): the authorize
//! request's checks in the contract's order, the token endpoint's grants, revocation and
//! introspection, on top of the shared engine in `oauth-provider`.

use oauth_provider::{
    self as engine, Authorization, CodeState, GrantError, PkceError, PkceMethod, Policy,
    RefreshState, Rotation, TokenPair, TokenRow, TokenShape,
};
use serde::Deserialize;
use service_kit::{
    auth::limits,
    crypto::{constant_time_eq, digest, random_urlsafe, SecretBox, SecretString},
};
use storage_protocol::{
    oauth::{
        openproject::{descriptions, ErrorCode},
        GrantType,
    },
    storages::API_V3_SCOPE,
};

use crate::db::{oauth_applications::OAuthApplication, users::User, Conn};

/// OpenProject's rules: codes 10 min, access tokens 2 h, refresh rotation with a grace until the
/// new pair is used (a retry of the old refresh token within 10 minutes gets the same new pair),
/// PKCE optional with `S256` only; every value 43 characters of base64url (codes 32 random
/// bytes, tokens their pair's id and 24 random bytes).
pub const POLICY: Policy = Policy {
    code_ttl_secs: 600,
    access_ttl_secs: 7200,
    rotation: Rotation::GraceUntilSuccessorUsed,
    retry_window_secs: 600,
    pkce_methods: &[PkceMethod::S256],
    new_code: || random_urlsafe(32),
    access_token: TokenShape::Base64Url43,
    refresh_token: TokenShape::Base64Url43,
};

/// The parameters of `GET`/`POST /oauth/authorize`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// Why an authorize request cannot proceed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Shown as an HTML page (400): the client or its redirect URI cannot be trusted.
    Page {
        error: &'static str,
        description: &'static str,
    },
    /// Sent back to the client at its redirect URI.
    Redirect(String),
}

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct ValidAuthorization {
    /// This server's issuer identifier, sent as `iss` with the response (RFC 9207).
    pub issuer: String,
    pub application: OAuthApplication,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<PkceMethod>,
}

/// `redirect_uri` with `pairs` added to its query (`state` only when the client sent one).
pub fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> String {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return redirect_uri.to_string(),
    };
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in pairs {
            query.append_pair(key, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    url.to_string()
}

fn error_redirect(
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
    issuer: &str,
) -> AuthorizeError {
    AuthorizeError::Redirect(redirect_with(
        redirect_uri,
        &[
            ("error", error),
            ("error_description", description),
            ("iss", issuer),
        ],
        state,
    ))
}

/// Whether every requested scope is one the application has.
fn scope_within(requested: &str, allowed: &str) -> bool {
    let allowed: Vec<&str> = allowed.split_whitespace().collect();
    requested.split_whitespace().all(|s| allowed.contains(&s))
}

/// The checks of oauth.md §2.1 step 2, in order; `issuer` is this server's (`OPS_PUBLIC_URL`),
/// sent as `iss` with every redirect (RFC 9207).
pub fn validate_authorize(
    conn: &mut Conn,
    params: &AuthorizeParams,
    issuer: &str,
) -> Result<ValidAuthorization, AuthorizeErrorOrDb> {
    let (application, redirect_uri) = registered_client(conn, params)?;
    let state = params.state.as_deref().filter(|s| !s.is_empty());
    let requested = requested_grant(params, &application).map_err(|(error, description)| {
        error_redirect(&redirect_uri, error.as_str(), description, state, issuer)
    })?;
    Ok(ValidAuthorization {
        issuer: issuer.to_string(),
        application,
        redirect_uri,
        scope: requested.scope,
        state: state.map(str::to_string),
        code_challenge: requested.code_challenge,
        code_challenge_method: requested.code_challenge_method,
    })
}

/// The client and its redirect URI. Until both are known, a failure is shown on a page: it is
/// never sent to a URI the client did not register.
fn registered_client(
    conn: &mut Conn,
    params: &AuthorizeParams,
) -> Result<(OAuthApplication, String), AuthorizeErrorOrDb> {
    let client_id = params.client_id.as_deref().unwrap_or_default();
    let application = match OAuthApplication::find_by_client_id(conn, client_id)? {
        Some(application) if !client_id.is_empty() => application,
        _ => {
            return Err(AuthorizeError::Page {
                error: ErrorCode::InvalidClient.as_str(),
                description: descriptions::INVALID_CLIENT,
            }
            .into())
        }
    };
    // Exact string equality with the registered URI; none given means the only one registered.
    let redirect_uri = match params.redirect_uri.as_deref() {
        None => application.redirect_uri.clone(),
        Some(given) if given == application.redirect_uri => given.to_string(),
        Some(_) => {
            return Err(AuthorizeError::Page {
                error: ErrorCode::InvalidRedirectUri.as_str(),
                description: descriptions::INVALID_REDIRECT_URI,
            }
            .into())
        }
    };
    Ok((application, redirect_uri))
}

/// What an authorization request asks for, once its client is known.
struct RequestedGrant {
    scope: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<PkceMethod>,
}

/// The checks after the client's: a failure goes back to the client's redirect URI.
fn requested_grant(
    params: &AuthorizeParams,
    application: &OAuthApplication,
) -> Result<RequestedGrant, (ErrorCode, &'static str)> {
    if params.response_type.as_deref() != Some("code") {
        return Err((
            ErrorCode::UnsupportedResponseType,
            descriptions::UNSUPPORTED_RESPONSE_TYPE,
        ));
    }
    let scope = params
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(API_V3_SCOPE)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if !scope_within(&scope, &application.scopes) {
        return Err((ErrorCode::InvalidScope, descriptions::INVALID_SCOPE));
    }
    let code_challenge = params.code_challenge.clone().filter(|c| !c.is_empty());
    let code_challenge_method = match (&code_challenge, params.code_challenge_method.as_deref()) {
        (Some(_), Some(method)) => {
            PkceMethod::parse(method).filter(|method| POLICY.pkce_methods.contains(method))
        }
        (None, _) | (Some(_), None) => None,
    };
    if code_challenge.is_some() && code_challenge_method.is_none() {
        return Err((
            ErrorCode::InvalidRequest,
            descriptions::INVALID_CODE_CHALLENGE_METHOD,
        ));
    }
    // RFC 7636 §4.2: 43–128 characters of the unreserved alphabet.
    if code_challenge
        .as_deref()
        .is_some_and(|c| !engine::is_valid_code_challenge(c))
    {
        return Err((ErrorCode::InvalidRequest, descriptions::INVALID_REQUEST));
    }
    Ok(RequestedGrant {
        scope,
        code_challenge,
        code_challenge_method,
    })
}

/// An authorize failure, or the database failing underneath.
#[derive(Debug)]
pub enum AuthorizeErrorOrDb {
    Authorize(AuthorizeError),
    Db(service_kit::db::DbError),
}

impl From<service_kit::db::DbError> for AuthorizeErrorOrDb {
    fn from(e: service_kit::db::DbError) -> Self {
        Self::Db(e)
    }
}

impl From<AuthorizeError> for AuthorizeErrorOrDb {
    fn from(e: AuthorizeError) -> Self {
        Self::Authorize(e)
    }
}

impl From<diesel::result::Error> for AuthorizeErrorOrDb {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Whether the user already approved this application for these scopes (consent is skipped).
pub fn already_approved(
    conn: &mut Conn,
    valid: &ValidAuthorization,
    user: &User,
) -> diesel::QueryResult<bool> {
    engine::has_live_grant(
        conn,
        valid.application.id,
        &user.id.to_string(),
        &valid.scope,
    )
}

/// The user approved: a code for the client, delivered at its redirect URI.
pub fn approve(
    conn: &mut Conn,
    valid: &ValidAuthorization,
    user: &User,
    now: i64,
) -> diesel::QueryResult<String> {
    let subject = user.id.to_string();
    let code = engine::issue_code(
        conn,
        &POLICY,
        &Authorization {
            client_pk: valid.application.id,
            subject: &subject,
            redirect_uri: &valid.redirect_uri,
            scope: &valid.scope,
            code_challenge: valid.code_challenge.as_deref(),
            code_challenge_method: valid.code_challenge_method,
        },
        now,
    )?;
    Ok(redirect_with(
        &valid.redirect_uri,
        &[("code", &code), ("iss", &valid.issuer)],
        valid.state.as_deref(),
    ))
}

/// The user denied: `access_denied` at the client's redirect URI.
pub fn deny(valid: &ValidAuthorization) -> String {
    redirect_with(
        &valid.redirect_uri,
        &[
            ("error", ErrorCode::AccessDenied.as_str()),
            ("error_description", descriptions::ACCESS_DENIED),
            ("iss", &valid.issuer),
        ],
        valid.state.as_deref(),
    )
}

/// The form fields of `POST /oauth/token`; `Debug` shows no secret.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<SecretString>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<SecretString>,
    pub refresh_token: Option<SecretString>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
}

impl TokenParams {
    /// Whether every field is within `service_kit::auth::limits`; checked before the request
    /// reaches the database.
    pub fn fit_the_limits(&self) -> bool {
        limits::oauth_fields_fit(
            self.client_id.as_deref(),
            [
                self.grant_type.as_deref(),
                self.code.as_ref().map(SecretString::expose),
                self.redirect_uri.as_deref(),
                self.code_verifier.as_ref().map(SecretString::expose),
                self.refresh_token.as_ref().map(SecretString::expose),
                self.scope.as_deref(),
                self.client_secret.as_ref().map(SecretString::expose),
            ],
        )
    }
}

/// Client credentials from HTTP Basic or the form; `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

impl ClientCredentials {
    /// Whether both values are within `service_kit::auth::limits` (Basic credentials replace
    /// the form's, so they are checked apart).
    pub fn fit_the_limits(&self) -> bool {
        limits::oauth_fields_fit(Some(&self.client_id), [Some(self.client_secret.expose())])
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    InvalidRequest(String),
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
    InvalidScope,
}

impl TokenError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => ErrorCode::InvalidRequest.as_str(),
            Self::InvalidClient => ErrorCode::InvalidClient.as_str(),
            Self::InvalidGrant => ErrorCode::InvalidGrant.as_str(),
            Self::UnsupportedGrantType => ErrorCode::UnsupportedGrantType.as_str(),
            Self::InvalidScope => ErrorCode::InvalidScope.as_str(),
        }
    }

    pub fn description(&self) -> String {
        match self {
            Self::InvalidRequest(description) => description.clone(),
            Self::InvalidClient => descriptions::INVALID_CLIENT.into(),
            Self::InvalidGrant => descriptions::INVALID_GRANT.into(),
            Self::UnsupportedGrantType => descriptions::UNSUPPORTED_GRANT_TYPE.into(),
            Self::InvalidScope => descriptions::INVALID_SCOPE.into(),
        }
    }

    /// Failures that count for throttling: the client did not prove who it is. A grant that
    /// fails for a client that did is not a guess at anything (its codes and tokens are long
    /// random values), and never makes that client wait.
    pub fn is_failed_client_authentication(&self) -> bool {
        matches!(self, Self::InvalidClient)
    }
}

#[derive(Debug)]
pub enum TokenFailure {
    Token(TokenError),
    Db(diesel::result::Error),
}

impl From<TokenError> for TokenFailure {
    fn from(e: TokenError) -> Self {
        Self::Token(e)
    }
}

impl From<diesel::result::Error> for TokenFailure {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

impl From<GrantError> for TokenFailure {
    fn from(e: GrantError) -> Self {
        match e {
            GrantError::Replayed => Self::Token(TokenError::InvalidGrant),
            GrantError::Db(e) => Self::Db(e),
        }
    }
}

/// The application whose id and secret these are; the secret is compared as a digest in
/// constant time.
pub fn authenticate_client(
    conn: &mut Conn,
    credentials: Option<&ClientCredentials>,
) -> diesel::QueryResult<Option<OAuthApplication>> {
    let Some(credentials) = credentials else {
        return Ok(None);
    };
    if credentials.client_id.is_empty() {
        return Ok(None);
    }
    let application = OAuthApplication::find_by_client_id(conn, &credentials.client_id)?;
    Ok(application.filter(|a| {
        constant_time_eq(
            &a.secret_digest,
            &digest(credentials.client_secret.expose()),
        )
    }))
}

fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, TokenError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| TokenError::InvalidRequest(descriptions::missing_parameter(name)))
}

/// The subject's user, when they may still hold tokens (active).
fn active_subject(conn: &mut Conn, subject: &str) -> diesel::QueryResult<bool> {
    let Ok(id) = subject.parse::<i64>() else {
        return Ok(false);
    };
    Ok(User::find(conn, id)?.is_some_and(|u| u.is_active()))
}

/// `POST /oauth/token` (oauth.md §2.2): grant type, required parameters, client, grant, scope.
/// `secret_box` seals a refreshed pair's successor for the retry window.
pub fn token(
    conn: &mut Conn,
    secret_box: &SecretBox,
    credentials: Option<&ClientCredentials>,
    params: &TokenParams,
    now: i64,
) -> Result<TokenPair, TokenFailure> {
    let grant_type = required(params.grant_type.as_deref(), "grant_type")?;
    match GrantType::parse(grant_type) {
        Some(GrantType::AuthorizationCode) => {
            let code = required(params.code.as_ref().map(SecretString::expose), "code")?;
            let redirect_uri = required(params.redirect_uri.as_deref(), "redirect_uri")?;
            let application =
                authenticate_client(conn, credentials)?.ok_or(TokenError::InvalidClient)?;
            let CodeState::Usable(row) = engine::find_code(conn, code, now)? else {
                return Err(TokenError::InvalidGrant.into());
            };
            if row.client_pk != application.id || row.redirect_uri != redirect_uri {
                return Err(TokenError::InvalidGrant.into());
            }
            let verifier = params.code_verifier.as_ref().map(SecretString::expose);
            match engine::verify_pkce(&row, verifier) {
                Ok(()) => {}
                Err(PkceError::Missing | PkceError::Mismatch | PkceError::Unexpected) => {
                    return Err(TokenError::InvalidGrant.into())
                }
            }
            if !active_subject(conn, &row.subject)? {
                return Err(TokenError::InvalidGrant.into());
            }
            Ok(engine::redeem_code(conn, &POLICY, &row, now)?)
        }
        Some(GrantType::RefreshToken) => {
            let refresh_token = required(
                params.refresh_token.as_ref().map(SecretString::expose),
                "refresh_token",
            )?;
            let application =
                authenticate_client(conn, credentials)?.ok_or(TokenError::InvalidClient)?;
            let row = match engine::find_refresh(conn, &POLICY, refresh_token, now)? {
                RefreshState::Usable(row) => row,
                RefreshState::Reused | RefreshState::Unknown => {
                    return Err(TokenError::InvalidGrant.into())
                }
            };
            if row.client_pk != application.id || !active_subject(conn, &row.subject)? {
                return Err(TokenError::InvalidGrant.into());
            }
            let scope = match params
                .scope
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => row.scope.clone(),
                Some(requested) if scope_within(requested, &row.scope) => {
                    requested.split_whitespace().collect::<Vec<_>>().join(" ")
                }
                Some(_) => return Err(TokenError::InvalidScope.into()),
            };
            Ok(engine::rotate(
                conn, &POLICY, secret_box, &row, &scope, now,
            )?)
        }
        _ => Err(TokenError::UnsupportedGrantType.into()),
    }
}

/// The active user a live access token was issued for: what a Bearer request authenticates as.
pub fn bearer_user(conn: &mut Conn, row: &TokenRow) -> diesel::QueryResult<Option<User>> {
    let Ok(user_id) = row.subject.parse::<i64>() else {
        return Ok(None);
    };
    Ok(User::find(conn, user_id)?.filter(User::is_active))
}

/// `POST /oauth/revoke` (§2.4) for an authenticated client: both tokens of the pair die.
pub fn revoke(
    conn: &mut Conn,
    application: &OAuthApplication,
    token: &str,
) -> diesel::QueryResult<engine::RevokeOutcome> {
    engine::revoke(conn, &POLICY, application.id, token)
}

/// What `POST /oauth/introspect` (§2.5) reports to `application`: its own live access tokens.
pub fn introspect(
    conn: &mut Conn,
    application: &OAuthApplication,
    token: &str,
    now: i64,
) -> diesel::QueryResult<Option<TokenRow>> {
    engine::introspect(conn, &POLICY, application.id, token, now)
}

/// The application a live access token was issued to (Bearer-authenticated introspection).
pub fn application_of_bearer(
    conn: &mut Conn,
    access_token: &str,
    now: i64,
) -> diesel::QueryResult<Option<(TokenRow, OAuthApplication)>> {
    let Some(row) = engine::authenticate_access(conn, &POLICY, access_token, now)? else {
        return Ok(None);
    };
    Ok(OAuthApplication::find(conn, row.client_pk)?.map(|application| (row, application)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_the_clients_query_and_encode_values() {
        assert_eq!(
            redirect_with("https://nc.example/cb", &[("code", "a b")], Some("s&1")),
            "https://nc.example/cb?code=a+b&state=s%261"
        );
        assert_eq!(
            redirect_with(
                "https://nc.example/cb?x=1",
                &[("error", "access_denied")],
                None
            ),
            "https://nc.example/cb?x=1&error=access_denied"
        );
    }

    #[test]
    fn scopes() {
        assert!(scope_within("api_v3", "api_v3"));
        assert!(!scope_within("api_v3 admin", "api_v3"));
        assert!(!scope_within("other", "api_v3"));
    }

    #[test]
    fn token_parameters_and_client_credentials_print_no_secret() {
        let params: TokenParams = serde_urlencoded::from_str(
            "grant_type=refresh_token&refresh_token=R3fresh&code=C0de&code_verifier=V3rifier\
             &client_id=the-id&client_secret=S3cret",
        )
        .unwrap();
        let credentials = ClientCredentials {
            client_id: "the-id".into(),
            client_secret: params.client_secret.clone().unwrap(),
        };
        let printed = format!("{params:?} {credentials:?}");
        for secret in ["R3fresh", "C0de", "V3rifier", "S3cret"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(printed.contains("the-id"));
        assert_eq!(params.refresh_token.unwrap().expose(), "R3fresh");
    }

    #[test]
    fn messages() {
        assert_eq!(
            descriptions::missing_parameter("code"),
            "Missing required parameter: code."
        );
        assert_eq!(TokenError::InvalidGrant.code(), "invalid_grant");
    }
}
