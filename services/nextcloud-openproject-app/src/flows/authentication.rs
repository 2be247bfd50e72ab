//! Authenticating a request: Basic with a password or an app password, a Bearer access token
//! issued by our authorization server (oauth.md §3.3), or a session cookie. A Bearer token that is
//! unknown, expired or revoked authenticates nobody and is never counted as a failure.
//!
//! Failed password and app-password logins are counted per (client address, login) and per
//! login (`service_kit::throttle`); past the free attempts each costs a growing delay, past the
//! limit the attempt is refused. Failures of other logins from the same address never refuse a
//! login, nor do failures of the same login from elsewhere unless this address failed too.

use std::{sync::OnceLock, time::Duration};

use service_kit::{
    auth::{limits, parse_authorization, Credentials, ThrottleDecision},
    crypto::{self, SecretString},
    throttle::{self, LoginCheck},
    time::now_millis,
};

use crate::{
    db::{users, users::UserRow},
    domain::{
        authentication::{
            candidate, load, AuthMethod, AuthenticatedUser, Candidate, RequestCredentials,
        },
        sessions,
    },
    error::ApiError,
    state::AppState,
};

/// The user a request authenticates as, `None` for anonymous requests and wrong credentials
/// (routes needing a user turn that into 401). Errs only when the client is throttled or the
/// database fails.
pub async fn authenticate(
    state: &AppState,
    request: RequestCredentials,
) -> Result<Option<AuthenticatedUser>, ApiError> {
    match request.authorization.as_deref().map(parse_authorization) {
        Some(Ok(Some(Credentials::Basic { username, password }))) => {
            authenticate_basic(state, &request.client_address, username, password).await
        }
        Some(Ok(Some(Credentials::Bearer(token)))) => authenticate_bearer(state, token).await,
        // Other schemes and malformed headers authenticate nobody.
        Some(_) => Ok(None),
        None => match request.session_cookie {
            Some(id) => authenticate_session(state, SecretString::new(id)).await,
            None => Ok(None),
        },
    }
}

/// The token's enabled user ([`oauth_provider::authenticate_bearer`]).
async fn authenticate_bearer(
    state: &AppState,
    token: SecretString,
) -> Result<Option<AuthenticatedUser>, ApiError> {
    oauth_provider::authenticate_bearer(
        &state.db,
        &crate::domain::oauth_server::POLICY,
        token,
        |conn, row| match users::find(conn, &row.subject)?.filter(|u| u.enabled) {
            Some(user) => Ok::<_, ApiError>(Some(load(conn, user, AuthMethod::Bearer)?)),
            None => Ok(None),
        },
    )
    .await
}

async fn authenticate_session(
    state: &AppState,
    id: SecretString,
) -> Result<Option<AuthenticatedUser>, ApiError> {
    state
        .db
        .run(move |conn| {
            let Some((uid, expires_at_millis)) =
                sessions::resolve(conn, id.expose(), now_millis())?
            else {
                return Ok(None);
            };
            let method = AuthMethod::Session {
                id,
                expires_at_millis,
            };
            match users::find(conn, &uid)?.filter(|u| u.enabled) {
                Some(row) => Ok(Some(load(conn, row, method)?)),
                None => Ok(None),
            }
        })
        .await
}

/// Checks a Basic login: throttle first, then an app password (digest lookup), then the user's
/// password (cache, else argon2 on a blocking thread). A failure is counted.
pub async fn authenticate_basic(
    state: &AppState,
    client_address: &str,
    login: String,
    password: SecretString,
) -> Result<Option<AuthenticatedUser>, ApiError> {
    let Some(check) = throttle_login(state, client_address, &login).await? else {
        return Ok(None);
    };
    let (login_for_db, password_for_db) = (login.clone(), password.clone());
    let found = state
        .db
        .run(move |conn| {
            candidate(conn, &login_for_db, password_for_db.expose()).map_err(ApiError::from)
        })
        .await?;
    let verified = match found {
        Candidate::AppPassword(row) => Some((row, AuthMethod::AppPassword)),
        Candidate::Password(row) => verify_password(state, &row, &password)
            .await?
            .then_some((row, AuthMethod::Password)),
        Candidate::Nobody => {
            argon2_verify(password, None).await?;
            None
        }
    };
    match verified {
        Some((row, method)) => Ok(Some(
            state
                .db
                .run(move |conn| {
                    throttle::login_succeeded(conn, &check)?;
                    load(conn, row, method).map_err(ApiError::from)
                })
                .await?,
        )),
        None => {
            login_failed(state, client_address, check).await?;
            Ok(None)
        }
    }
}

/// The password check behind the login form (user passwords only, never app passwords).
pub async fn authenticate_form(
    state: &AppState,
    client_address: &str,
    login: String,
    password: SecretString,
) -> Result<Option<String>, ApiError> {
    let Some(check) = throttle_login(state, client_address, &login).await? else {
        return Ok(None);
    };
    let user = state
        .db
        .run(move |conn| users::find(conn, &login).map_err(ApiError::from))
        .await?
        .filter(|u| u.enabled);
    match user {
        Some(row) => {
            if verify_password(state, &row, &password).await? {
                if check.pair_has_failed() {
                    state
                        .db
                        .run(move |conn| {
                            throttle::login_succeeded(conn, &check).map_err(ApiError::from)
                        })
                        .await?;
                }
                return Ok(Some(row.uid));
            }
        }
        None => {
            argon2_verify(password, None).await?;
        }
    }
    login_failed(state, client_address, check).await?;
    Ok(None)
}

async fn verify_password(
    state: &AppState,
    row: &UserRow,
    password: &SecretString,
) -> Result<bool, ApiError> {
    if state
        .credentials
        .is_verified(&row.uid, password.expose(), &row.password_hash)
    {
        return Ok(true);
    }
    let ok = argon2_verify(password.clone(), Some(row.password_hash.clone())).await?;
    if ok {
        state
            .credentials
            .remember(&row.uid, password.expose(), &row.password_hash);
    }
    Ok(ok)
}

/// argon2 on a blocking thread; against [`dummy_hash`] when there is no user.
async fn argon2_verify(password: SecretString, hash: Option<String>) -> Result<bool, ApiError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        match hash {
            Some(hash) => crypto::verify_password(password.expose(), &hash),
            None => {
                // The work is the point; the answer is always "no".
                let _ = crypto::verify_password(password.expose(), dummy_hash());
                false
            }
        }
    })
    .await
    .map_err(|e| ApiError::Unexpected(anyhow::Error::new(e).context("password verification")))
}

/// A hash no password is checked against for real: verifying it when the login names nobody
/// makes unknown and known logins cost the same, so timing does not reveal which users exist.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| crypto::hash_password(&crypto::random_alphanumeric(32)))
}

/// The throttle's word on a login of `login` from `client_address` (one read of both counts):
/// waits out a delay, refuses (429) past the limit. `None` for a login longer than any user
/// id, which is wrong at once and never reaches the database.
async fn throttle_login(
    state: &AppState,
    client_address: &str,
    login: &str,
) -> Result<Option<LoginCheck>, ApiError> {
    if !limits::fits_chars(login, limits::MAX_LOGIN_CHARS) {
        return Ok(None);
    }
    let policy = state.throttle;
    let (address, account) = (client_address.to_string(), login.to_string());
    let check = state
        .db
        .run(move |conn| {
            throttle::check_login(conn, &policy, &address, &account, now_millis())
                .map_err(ApiError::from)
        })
        .await?;
    obey(check.decision, client_address).await?;
    Ok(Some(check))
}

/// Waits out a throttle delay (at most 5 s), or refuses the request.
pub async fn obey(decision: ThrottleDecision, client_address: &str) -> Result<(), ApiError> {
    match decision {
        ThrottleDecision::Allow => Ok(()),
        ThrottleDecision::Delay(delay) => {
            tokio::time::sleep(delay.min(Duration::from_secs(5))).await;
            Ok(())
        }
        ThrottleDecision::Refuse => {
            tracing::warn!(client_address, "failure limit reached");
            Err(ApiError::TooManyRequests)
        }
    }
}

/// Counts one failed login against the pair and the login.
async fn login_failed(
    state: &AppState,
    client_address: &str,
    check: LoginCheck,
) -> Result<(), ApiError> {
    let policy = state.throttle;
    tracing::info!(client_address, "failed login");
    state
        .db
        .run(move |conn| {
            throttle::login_failed(conn, &policy, &check, now_millis()).map_err(ApiError::from)
        })
        .await
}
