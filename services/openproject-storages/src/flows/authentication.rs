//! Who is calling: HTTP Basic with a password or an API key, an OAuth access token issued by
//! `/oauth/token` (Bearer), or a session cookie. An unknown, expired or revoked Bearer token
//! authenticates nobody (401 on protected endpoints) and is not a failed login.

use service_kit::{
    auth::{limits, parse_authorization, Credentials, ThrottleDecision},
    crypto::{self, digest, SecretString},
    throttle,
    time::now_millis,
};

use crate::{
    db::{api_tokens, users::User},
    domain::{
        authentication::{AuthError, AuthMethod, Caller, Presented},
        oauth_server, sessions,
        users::RESERVED_LOGIN,
    },
    state::AppState,
};

/// Resolves the caller. `Ok(None)` is an anonymous request (including an unknown Bearer token
/// or an expired session); wrong Basic credentials are an error, counted against the address.
pub async fn authenticate(
    state: &AppState,
    presented: Presented,
    address: &str,
) -> Result<Option<Caller>, AuthError> {
    match presented {
        Presented::Nothing => Ok(None),
        Presented::Session(id) => {
            let user = state
                .db
                .run(move |conn| Ok::<_, AuthError>(sessions::resolve(conn, &id, now_millis())?))
                .await?;
            Ok(user.filter(User::is_active).map(|user| Caller {
                user,
                method: AuthMethod::Session,
            }))
        }
        Presented::Authorization(header) => match parse_authorization(&header) {
            Err(_) => Err(AuthError::WrongCredentials),
            Ok(None) => Ok(None),
            Ok(Some(Credentials::Bearer(token))) => bearer(state, token.expose().to_string()).await,
            Ok(Some(Credentials::Basic { username, password })) => {
                basic(state, username, password.expose().to_string(), address)
                    .await
                    .map(Some)
            }
        },
    }
}

/// A password login, throttled per (address, login) and per login (`service_kit::throttle`):
/// failures of other logins, or of this login from other addresses only, never refuse it. API
/// keys are long random values: checked first, a correct one always passes. A login longer than
/// any user's is wrong without a database trip.
async fn basic(
    state: &AppState,
    username: String,
    password: String,
    address: &str,
) -> Result<Caller, AuthError> {
    if !limits::fits_chars(&username, limits::MAX_LOGIN_CHARS) {
        return Err(AuthError::WrongCredentials);
    }
    if username == RESERVED_LOGIN {
        return api_key(state, &password, address).await;
    }
    let policy = state.throttle;
    let check = {
        let (address, account) = (address.to_string(), username.clone());
        state
            .db
            .run(move |conn| {
                Ok::<_, AuthError>(throttle::check_login(
                    conn,
                    &policy,
                    &address,
                    &account,
                    now_millis(),
                )?)
            })
            .await?
    };
    if check.decision == ThrottleDecision::Refuse {
        return Err(AuthError::Throttled);
    }
    if let ThrottleDecision::Delay(delay) = check.decision {
        tokio::time::sleep(delay).await;
    }
    let found = by_password(state, &username, &password).await?;
    match found {
        Some(caller) if caller.user.is_active() => {
            if check.pair_has_failed() {
                state
                    .db
                    .run(move |conn| Ok::<_, AuthError>(throttle::login_succeeded(conn, &check)?))
                    .await?;
            }
            Ok(caller)
        }
        _ => {
            state
                .db
                .run(move |conn| {
                    Ok::<_, AuthError>(throttle::login_failed(conn, &policy, &check, now_millis())?)
                })
                .await?;
            Err(AuthError::WrongCredentials)
        }
    }
}

/// An API key (`apikey:<token>`): looked up by digest first; a miss counts against the address
/// and is delayed, then refused past the limit.
async fn api_key(state: &AppState, token: &str, address: &str) -> Result<Caller, AuthError> {
    if let Some(caller) = by_api_key(state, token)
        .await?
        .filter(|caller| caller.user.is_active())
    {
        return Ok(caller);
    }
    let (policy, key) = (state.throttle, throttle::ThrottleKey::api_key(address));
    let decision = state
        .db
        .run(move |conn| {
            Ok::<_, AuthError>(throttle::secret_failed(conn, &policy, &key, now_millis())?)
        })
        .await?;
    match decision {
        ThrottleDecision::Refuse => Err(AuthError::Throttled),
        ThrottleDecision::Delay(delay) => {
            tokio::time::sleep(delay).await;
            Err(AuthError::WrongCredentials)
        }
        ThrottleDecision::Allow => Err(AuthError::WrongCredentials),
    }
}

/// The token's active user ([`oauth_provider::authenticate_bearer`]): a revoked token is refused
/// at once on every replica.
async fn bearer(state: &AppState, token: String) -> Result<Option<Caller>, AuthError> {
    let user = oauth_provider::authenticate_bearer(
        &state.db,
        &oauth_server::POLICY,
        SecretString::new(token),
        |conn, row| Ok::<_, AuthError>(oauth_server::bearer_user(conn, row)?),
    )
    .await?;
    Ok(user.map(|user| Caller {
        user,
        method: AuthMethod::Bearer,
    }))
}

async fn by_api_key(state: &AppState, token: &str) -> Result<Option<Caller>, AuthError> {
    let token_digest = digest(token);
    let user = state
        .db
        .run(move |conn| Ok::<_, AuthError>(api_tokens::find_user(conn, &token_digest)?))
        .await?;
    Ok(user.map(|user| Caller {
        user,
        method: AuthMethod::ApiKey,
    }))
}

async fn by_password(
    state: &AppState,
    login: &str,
    password: &str,
) -> Result<Option<Caller>, AuthError> {
    let lookup = login.to_string();
    let Some(user) = state
        .db
        .run(move |conn| Ok::<_, AuthError>(User::find_by_login(conn, &lookup)?))
        .await?
    else {
        return Ok(None);
    };
    let cache_key = user.login.to_lowercase();
    if state
        .credentials
        .is_verified(&cache_key, password, &user.password_hash)
    {
        return Ok(Some(Caller {
            user,
            method: AuthMethod::Password,
        }));
    }
    let (candidate, hash) = (password.to_string(), user.password_hash.clone());
    let verified = tokio::task::spawn_blocking(move || crypto::verify_password(&candidate, &hash))
        .await
        .map_err(|e| anyhow::anyhow!("password verification task failed: {e}"))?;
    if !verified {
        return Ok(None);
    }
    state
        .credentials
        .remember(&cache_key, password, &user.password_hash);
    Ok(Some(Caller {
        user,
        method: AuthMethod::Password,
    }))
}

/// Checks a login form's username and password; used by `POST /login`.
pub async fn login_with_password(
    state: &AppState,
    login: &str,
    password: &str,
    address: &str,
) -> Result<User, AuthError> {
    if login == RESERVED_LOGIN {
        return Err(AuthError::WrongCredentials);
    }
    basic(state, login.to_string(), password.to_string(), address)
        .await
        .map(|caller| caller.user)
}
