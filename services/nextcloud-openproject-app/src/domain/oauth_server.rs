//! The authorization server OpenProject uses (oauth.md §3): the checks of the authorize
//! endpoint, the pending requests behind the consent page, and the token endpoint's seven checks,
//! composed from the shared engine with Nextcloud's policy (codes once and for 10 minutes, PKCE
//! `S256` only, both tokens rotated at every call, a retry within 2 minutes getting the same
//! pair). Authorization responses carry `iss` (RFC 9207).

use oauth_provider::{
    Authorization, CodeState, GrantError, PkceError, PkceMethod, Policy, RefreshState, Rotation,
    TokenPair, TokenShape,
};
use service_kit::{
    auth::limits,
    crypto::{self, constant_time_eq, SecretBox, SecretString},
    db::AnyConnection,
};
use storage_protocol::oauth::{
    nextcloud::{self as wire, TokenErrorCode},
    GrantType, NextcloudTokenResponse, TOKEN_TYPE_BEARER,
};

use crate::db::{
    oauth_clients::{self, OAuthClientRow},
    oauth_pending::{self, NewPendingRow, PendingRow},
};

/// Nextcloud's rules for the engine.
pub const POLICY: Policy = Policy {
    code_ttl_secs: wire::CODE_TTL_SECS,
    access_ttl_secs: wire::ACCESS_TOKEN_TTL_SECS,
    rotation: Rotation::Immediate,
    // A client whose response was lost (Nextcloud crashed between commit and answer) retries
    // within this and gets the same pair instead of a revoked family.
    retry_window_secs: 120,
    pkce_methods: &[PkceMethod::S256],
    new_code: || crypto::random_alphanumeric(wire::CODE_LEN),
    access_token: TokenShape::Alphanumeric(wire::ACCESS_TOKEN_LEN),
    refresh_token: TokenShape::Alphanumeric(wire::REFRESH_TOKEN_LEN),
};

/// How long a request waits for the user's consent.
pub const PENDING_TTL_MILLIS: i64 = 10 * 60 * 1000;
/// The lock deciding on pending requests takes ("ncoapend").
const PENDING_LOCK: i64 = 0x6e63_6f61_7065_6e64;
/// Nextcloud has no scopes; codes and tokens carry an empty one.
const NO_SCOPE: &str = "";

/// The parameters of `GET /index.php/apps/oauth2/authorize` (`redirect_uri` is ignored).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub state: Option<String>,
    pub response_type: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A request that passed the checks every caller gets (§3.1 steps 1–3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAuthorization {
    pub client_pk: i64,
    pub state: String,
    pub code_challenge: Option<String>,
}

/// What the authorize endpoint answers before looking at the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeCheck {
    /// Step 1: a page, never a redirect.
    UnknownClient,
    /// Steps 2 and 3: 303 to the client's registered URI carrying an error.
    Refused(String),
    Valid(ValidAuthorization),
}

/// Steps 1–3 of §3.1, in order; a refusal names `issuer` (this server's public URL) as `iss`.
pub fn check_authorize(
    conn: &mut AnyConnection,
    params: &AuthorizeParams,
    issuer: &str,
) -> diesel::QueryResult<AuthorizeCheck> {
    let client = match params.client_id.as_deref() {
        Some(id) if !id.is_empty() => oauth_clients::find_by_identifier(conn, id)?,
        _ => None,
    };
    let Some(client) = client else {
        return Ok(AuthorizeCheck::UnknownClient);
    };
    let state = params.state.clone().unwrap_or_default();
    let refuse = |error: &str| {
        AuthorizeCheck::Refused(with_query(
            &client.redirect_uri,
            &[("error", error), ("state", &state), ("iss", issuer)],
        ))
    };
    if params.response_type.as_deref() != Some("code") {
        return Ok(refuse(wire::ERROR_UNSUPPORTED_RESPONSE_TYPE));
    }
    let challenge = params.code_challenge.clone().filter(|c| !c.is_empty());
    if let Some(challenge) = &challenge {
        // An absent method means `plain`, which Nextcloud refuses.
        if !wire::is_valid_code_challenge(challenge)
            || params.code_challenge_method.as_deref() != Some(PkceMethod::S256.as_str())
        {
            return Ok(refuse(wire::ERROR_INVALID_REQUEST));
        }
    }
    Ok(AuthorizeCheck::Valid(ValidAuthorization {
        client_pk: client.id,
        state,
        code_challenge: challenge,
    }))
}

/// Stores the request of `uid` until the user decides; returns the id the consent page carries.
pub fn start_consent(
    conn: &mut AnyConnection,
    request: &ValidAuthorization,
    uid: &str,
    now: i64,
) -> diesel::QueryResult<String> {
    oauth_pending::delete_expired(conn, now)?;
    let id = crypto::random_urlsafe(32);
    oauth_pending::insert(
        conn,
        &NewPendingRow {
            id_digest: &crypto::digest(&id),
            client_pk: request.client_pk,
            uid,
            state: &request.state,
            code_challenge: request.code_challenge.as_deref(),
            code_challenge_method: request
                .code_challenge
                .as_ref()
                .map(|_| PkceMethod::S256.as_str()),
            created_at: now,
            expires_at: now + PENDING_TTL_MILLIS,
        },
    )?;
    Ok(id)
}

/// What the consent page shows: the live request of `uid` under `id`, for the client named by
/// `client_identifier`.
pub fn pending_client(
    conn: &mut AnyConnection,
    id: &str,
    uid: &str,
    client_identifier: &str,
    now: i64,
) -> diesel::QueryResult<Option<OAuthClientRow>> {
    let Some(row) = oauth_pending::find_live(conn, &crypto::digest(id), uid, now)? else {
        return Ok(None);
    };
    Ok(oauth_clients::find(conn, row.client_pk)?
        .filter(|client| constant_time_eq(&client.client_identifier, client_identifier)))
}

/// The user's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Grant,
    Deny,
}

/// Consumes the pending request `id` of `uid` and returns where to send the browser: the
/// client's registered URI with a new code (grant) or `access_denied` (deny), and `issuer` as
/// `iss`. `None` when the request is unknown, expired, another user's, or already decided.
pub fn decide(
    conn: &mut AnyConnection,
    id: &str,
    uid: &str,
    decision: Decision,
    issuer: &str,
    now: i64,
) -> diesel::QueryResult<Option<String>> {
    let id_digest = crypto::digest(id);
    // Serialized: of two answers to one request, exactly one finds it (SQLite included, where a
    // deferred transaction that reads first could fail to write).
    crate::db::serialized_transaction(conn, PENDING_LOCK, |conn| {
        let Some(row) = oauth_pending::find_live(conn, &id_digest, uid, now)? else {
            return Ok(None);
        };
        // Single use: only the caller whose delete removed the row goes on.
        if oauth_pending::delete(conn, &id_digest)? != 1 {
            return Ok(None);
        }
        let Some(client) = oauth_clients::find(conn, row.client_pk)? else {
            return Ok(None);
        };
        let location = match decision {
            Decision::Deny => with_query(
                &client.redirect_uri,
                &[
                    ("error", wire::ERROR_ACCESS_DENIED),
                    ("state", &row.state),
                    ("iss", issuer),
                ],
            ),
            Decision::Grant => {
                let code = issue_code(conn, &client, &row, now)?;
                with_query(
                    &client.redirect_uri,
                    &[("state", &row.state), ("code", &code), ("iss", issuer)],
                )
            }
        };
        Ok(Some(location))
    })
}

fn issue_code(
    conn: &mut AnyConnection,
    client: &OAuthClientRow,
    row: &PendingRow,
    now: i64,
) -> diesel::QueryResult<String> {
    oauth_provider::issue_code(
        conn,
        &POLICY,
        &Authorization {
            client_pk: client.id,
            subject: &row.uid,
            redirect_uri: &client.redirect_uri,
            scope: NO_SCOPE,
            code_challenge: row.code_challenge.as_deref(),
            code_challenge_method: row
                .code_challenge_method
                .as_deref()
                .and_then(PkceMethod::parse),
        },
        now,
    )
}

/// The parameters of a token request, after HTTP Basic credentials replaced the body's client.
#[derive(Debug, Clone, Default)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub refresh_token: Option<SecretString>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub code_verifier: Option<String>,
    /// The query string carried a client credential, code, refresh token or verifier: refused,
    /// since URLs end up in logs and histories (RFC 9700 §4.3.3).
    pub secrets_in_query: bool,
}

/// Query parameters the token endpoint refuses.
pub const SECRET_PARAMETERS: [&str; 5] = [
    "client_id",
    "client_secret",
    "code",
    "refresh_token",
    "code_verifier",
];

impl TokenParams {
    /// Whether every field is within `service_kit::auth::limits`; checked before the request
    /// reaches the database.
    pub fn fit_the_limits(&self) -> bool {
        limits::oauth_fields_fit(
            self.client_id.as_deref(),
            [
                self.grant_type.as_deref(),
                self.code.as_deref(),
                self.refresh_token.as_ref().map(SecretString::expose),
                self.client_secret.as_ref().map(SecretString::expose),
                self.code_verifier.as_deref(),
            ],
        )
    }
}

/// Whether the request names a client and its correct secret, whatever became of its grant.
/// The throttle counts only failures of requests that do not: the holder of the secret (the
/// OpenProject server refreshing many stale tokens, say) is never made to wait.
pub fn presents_client_credentials(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    params: &TokenParams,
) -> diesel::QueryResult<bool> {
    let Some(client_id) = params.client_id.as_deref().filter(|id| !id.is_empty()) else {
        return Ok(false);
    };
    let Some(client) = oauth_clients::find_by_identifier(conn, client_id)? else {
        return Ok(false);
    };
    let secret = params
        .client_secret
        .as_ref()
        .map(SecretString::expose)
        .unwrap_or_default();
    super::oauth_clients::secret_matches(conn, secret_box, &client, secret)
}

/// What the token endpoint answers: a new pair, or one of the seven refusals.
pub type TokenResult = Result<NextcloudTokenResponse, TokenErrorCode>;

/// The token endpoint (§3.3): credentials in the query refused, then the seven checks in
/// order, then a new pair; the presented code or pair is retired in the same conditional update
/// that issues the next one. `secret_box` verifies the client secret and seals the successor
/// kept for a retry.
pub fn token(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    params: &TokenParams,
    now: i64,
) -> diesel::QueryResult<TokenResult> {
    if params.secrets_in_query {
        return Ok(Err(TokenErrorCode::InvalidRequest));
    }
    let grant_type = params.grant_type.as_deref().unwrap_or_default();
    let issued = match GrantType::parse(grant_type) {
        Some(GrantType::AuthorizationCode) => exchange_code(conn, secret_box, params, now)?,
        Some(GrantType::RefreshToken) => refresh(conn, secret_box, params, now)?,
        None => Err(TokenErrorCode::InvalidGrant),
    };
    Ok(issued.map(|pair| NextcloudTokenResponse {
        access_token: pair.access_token.into_exposed(),
        token_type: TOKEN_TYPE_BEARER.into(),
        expires_in: pair.expires_in,
        refresh_token: pair.refresh_token.into_exposed(),
        user_id: pair.subject,
    }))
}

fn exchange_code(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    params: &TokenParams,
    now: i64,
) -> diesel::QueryResult<Result<TokenPair, TokenErrorCode>> {
    let code = params.code.as_deref().unwrap_or_default();
    // Rows 2 and 3: a replay revokes what the code produced, an expired code is deleted.
    let row = match oauth_provider::find_code(conn, code, now)? {
        CodeState::Usable(row) => row,
        CodeState::Expired | CodeState::Replayed | CodeState::Unknown => {
            return Ok(Err(TokenErrorCode::InvalidRequest))
        }
    };
    // Rows 4 and 5; a verifier for a code issued without a challenge is refused like a wrong
    // one (a downgrade).
    match oauth_provider::verify_pkce(&row, params.code_verifier.as_deref()) {
        Ok(()) => {}
        Err(PkceError::Missing) => return Ok(Err(TokenErrorCode::InvalidRequest)),
        Err(PkceError::Mismatch | PkceError::Unexpected) => {
            return Ok(Err(TokenErrorCode::InvalidGrant))
        }
    }
    // Rows 6 and 7.
    if let Err(refusal) = authenticate_client(conn, secret_box, row.client_pk, params)? {
        return Ok(Err(refusal));
    }
    match oauth_provider::redeem_code(conn, &POLICY, &row, now) {
        Ok(pair) => Ok(Ok(pair)),
        // A concurrent exchange won: this one is the replay.
        Err(GrantError::Replayed) => Ok(Err(TokenErrorCode::InvalidRequest)),
        Err(GrantError::Db(e)) => Err(e),
    }
}

fn refresh(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    params: &TokenParams,
    now: i64,
) -> diesel::QueryResult<Result<TokenPair, TokenErrorCode>> {
    let presented = params
        .refresh_token
        .as_ref()
        .map(SecretString::expose)
        .unwrap_or_default();
    // Row 2: a rotated-out token presented again revokes its whole family (unless it is a retry
    // within the window: then the same successor is handed out again).
    let row = match oauth_provider::find_refresh(conn, &POLICY, presented, now)? {
        RefreshState::Usable(row) => row,
        RefreshState::Reused | RefreshState::Unknown => {
            return Ok(Err(TokenErrorCode::InvalidRequest))
        }
    };
    if let Err(refusal) = authenticate_client(conn, secret_box, row.client_pk, params)? {
        return Ok(Err(refusal));
    }
    match oauth_provider::rotate(conn, &POLICY, secret_box, &row, NO_SCOPE, now) {
        Ok(pair) => Ok(Ok(pair)),
        Err(GrantError::Replayed) => Ok(Err(TokenErrorCode::InvalidRequest)),
        Err(GrantError::Db(e)) => Err(e),
    }
}

/// Rows 6 and 7: the code's client still exists, and the caller proves to be it. The secret is
/// compared as a keyed digest in constant time (oauth_clients::secret_matches).
fn authenticate_client(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    client_pk: i64,
    params: &TokenParams,
) -> diesel::QueryResult<Result<(), TokenErrorCode>> {
    let Some(client) = oauth_clients::find(conn, client_pk)? else {
        return Ok(Err(TokenErrorCode::InvalidRequest));
    };
    let id_matches = constant_time_eq(
        &client.client_identifier,
        params.client_id.as_deref().unwrap_or_default(),
    );
    let secret = params
        .client_secret
        .as_ref()
        .map(SecretString::expose)
        .unwrap_or_default();
    let secret_matches =
        crate::domain::oauth_clients::secret_matches(conn, secret_box, &client, secret)?;
    if id_matches && secret_matches {
        Ok(Ok(()))
    } else {
        Ok(Err(TokenErrorCode::InvalidClient))
    }
}

/// `uri` with `pairs` appended as a query (after `&` when it already has one), each value
/// form-encoded.
pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        oauth_clients::{replace, IssuedClient},
        users::{create, NewUser, UserId},
    };
    use service_kit::time::now_millis;

    fn setup(conn: &mut AnyConnection) -> IssuedClient {
        create(
            conn,
            &NewUser {
                uid: UserId::parse("alice").unwrap(),
                display_name: "Alice".into(),
                email: None,
                password_hash: "x".into(),
                groups: vec![],
            },
        )
        .unwrap();
        replace(conn, &secret_box(), "https://op.example").unwrap()
    }

    /// The issuer the tests' server names.
    const ISS: &str = "https://nc.example";

    fn secret_box() -> SecretBox {
        crypto::SecretKey::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
            .unwrap()
            .secret_box()
    }

    fn token(conn: &mut AnyConnection, params: &TokenParams) -> diesel::QueryResult<TokenResult> {
        super::token(conn, &secret_box(), params, now_millis())
    }

    fn params(client: &str, extra: &[(&str, &str)]) -> AuthorizeParams {
        let mut p = AuthorizeParams {
            client_id: Some(client.into()),
            response_type: Some("code".into()),
            state: Some("s t".into()),
            ..AuthorizeParams::default()
        };
        for (key, value) in extra {
            let value = Some(value.to_string());
            match *key {
                "response_type" => p.response_type = value,
                "code_challenge" => p.code_challenge = value,
                "code_challenge_method" => p.code_challenge_method = value,
                _ => unreachable!(),
            }
        }
        p
    }

    #[test]
    fn authorize_checks_run_in_order() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let issued = setup(conn);
        let id = issued.client.client_id.as_str();
        let uri = issued.client.redirect_uri.as_str();
        assert_eq!(
            check_authorize(conn, &params("nope", &[]), ISS).unwrap(),
            AuthorizeCheck::UnknownClient
        );
        assert_eq!(
            check_authorize(conn, &params(id, &[("response_type", "token")]), ISS).unwrap(),
            AuthorizeCheck::Refused(format!(
                "{uri}?error=unsupported_response_type&state=s+t&iss=https%3A%2F%2Fnc.example"
            ))
        );
        let good = "a".repeat(43);
        for extra in [
            vec![("code_challenge", good.as_str())],
            vec![
                ("code_challenge", good.as_str()),
                ("code_challenge_method", "plain"),
            ],
            vec![
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ],
        ] {
            assert_eq!(
                check_authorize(conn, &params(id, &extra), ISS).unwrap(),
                AuthorizeCheck::Refused(format!(
                    "{uri}?error=invalid_request&state=s+t&iss=https%3A%2F%2Fnc.example"
                ))
            );
        }
        assert_eq!(
            check_authorize(
                conn,
                &params(
                    id,
                    &[("code_challenge", &good), ("code_challenge_method", "S256")]
                ),
                ISS
            )
            .unwrap(),
            AuthorizeCheck::Valid(ValidAuthorization {
                client_pk: issued.client.id,
                state: "s t".into(),
                code_challenge: Some(good.clone()),
            })
        );
    }

    #[test]
    fn pending_requests_are_single_use_and_per_user() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let issued = setup(conn);
        let request = ValidAuthorization {
            client_pk: issued.client.id,
            state: "st".into(),
            code_challenge: None,
        };
        let id = start_consent(conn, &request, "alice", now_millis()).unwrap();
        assert!(
            pending_client(conn, &id, "alice", &issued.client.client_id, now_millis())
                .unwrap()
                .is_some()
        );
        assert!(
            pending_client(conn, &id, "bob", &issued.client.client_id, now_millis())
                .unwrap()
                .is_none()
        );
        assert!(pending_client(conn, &id, "alice", "other", now_millis())
            .unwrap()
            .is_none());
        assert_eq!(
            decide(conn, &id, "bob", Decision::Grant, ISS, now_millis()).unwrap(),
            None
        );
        let location = decide(conn, &id, "alice", Decision::Grant, ISS, now_millis())
            .unwrap()
            .unwrap();
        let prefix = format!("{}?state=st&code=", issued.client.redirect_uri);
        assert!(location.starts_with(&prefix), "{location}");
        assert!(
            location.ends_with("&iss=https%3A%2F%2Fnc.example"),
            "RFC 9207: {location}"
        );
        assert_eq!(
            location.len(),
            prefix.len() + wire::CODE_LEN + "&iss=https%3A%2F%2Fnc.example".len()
        );
        assert_eq!(
            decide(conn, &id, "alice", Decision::Grant, ISS, now_millis()).unwrap(),
            None
        );

        let id = start_consent(conn, &request, "alice", now_millis()).unwrap();
        assert_eq!(
            decide(conn, &id, "alice", Decision::Deny, ISS, now_millis()).unwrap(),
            Some(format!(
                "{}?error=access_denied&state=st&iss=https%3A%2F%2Fnc.example",
                issued.client.redirect_uri
            ))
        );
    }

    fn code(conn: &mut AnyConnection, issued: &IssuedClient, challenge: Option<&str>) -> String {
        let request = ValidAuthorization {
            client_pk: issued.client.id,
            state: "st".into(),
            code_challenge: challenge.map(str::to_string),
        };
        let id = start_consent(conn, &request, "alice", now_millis()).unwrap();
        let location = decide(conn, &id, "alice", Decision::Grant, ISS, now_millis())
            .unwrap()
            .unwrap();
        url::Url::parse(&location)
            .unwrap()
            .query_pairs()
            .find(|(key, _)| key == "code")
            .unwrap()
            .1
            .into_owned()
    }

    fn params_for(issued: &IssuedClient, code: &str) -> TokenParams {
        TokenParams {
            grant_type: Some(GrantType::AuthorizationCode.as_str().into()),
            code: Some(code.into()),
            client_id: Some(issued.client.client_id.clone()),
            client_secret: Some(issued.secret.clone()),
            ..TokenParams::default()
        }
    }

    #[test]
    fn token_refusals_come_in_the_contract_order() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let issued = setup(conn);
        let verifier = crypto::random_alphanumeric(64);
        let challenge = oauth_provider::s256_challenge(&verifier);
        let with_challenge = code(conn, &issued, Some(&challenge));

        // Row 1 before everything, even with a code that would pass.
        let mut params = params_for(&issued, &with_challenge);
        params.grant_type = Some("password".into());
        assert_eq!(
            token(conn, &params).unwrap(),
            Err(TokenErrorCode::InvalidGrant)
        );
        // Row 4 before row 7: no verifier, wrong secret.
        let mut params = params_for(&issued, &with_challenge);
        params.client_secret = Some(SecretString::new("wrong"));
        assert_eq!(
            token(conn, &params).unwrap(),
            Err(TokenErrorCode::InvalidRequest)
        );
        // Row 5 before row 7.
        params.code_verifier = Some("x".repeat(43));
        assert_eq!(
            token(conn, &params).unwrap(),
            Err(TokenErrorCode::InvalidGrant)
        );
        // Row 7.
        params.code_verifier = Some(verifier.clone());
        assert_eq!(
            token(conn, &params).unwrap(),
            Err(TokenErrorCode::InvalidClient)
        );
        let mut params = params_for(&issued, &with_challenge);
        params.code_verifier = Some(verifier);
        let pair = token(conn, &params).unwrap().unwrap();
        assert_eq!(pair.user_id, "alice");
        assert_eq!(pair.expires_in, 3600);

        // Row 6: a code whose client is gone. The foreign key deletes codes with their client,
        // so make an orphan by switching it off for this connection.
        let orphan = code(conn, &issued, None);
        {
            use diesel::connection::SimpleConnection;
            match conn as &mut AnyConnection {
                AnyConnection::Sqlite(c) => c.batch_execute("PRAGMA foreign_keys = OFF"),
                AnyConnection::Postgresql(c) => {
                    c.batch_execute("SET session_replication_role = replica")
                }
            }
            .unwrap();
        }
        crate::db::oauth_clients::delete_all(conn).unwrap();
        assert!(matches!(
            oauth_provider::find_code(conn, &orphan, now_millis()).unwrap(),
            CodeState::Usable(_)
        ));
        assert_eq!(
            token(conn, &params_for(&issued, &orphan)).unwrap(),
            Err(TokenErrorCode::InvalidRequest)
        );
    }

    #[test]
    fn queries_are_appended() {
        assert_eq!(
            with_query("https://a/cb", &[("x", "1 2")]),
            "https://a/cb?x=1+2"
        );
        assert_eq!(
            with_query("https://a/cb?y=0", &[("x", "&")]),
            "https://a/cb?y=0&x=%26"
        );
    }
}
