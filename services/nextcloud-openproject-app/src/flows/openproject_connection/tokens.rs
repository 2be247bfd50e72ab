//! The user's stored OpenProject tokens and [`openproject_access_token`]: the lazy refresh of
//! oauth.md §5 step 3, one caller per user at a time on any replica.

use std::time::{Duration, Instant};

use service_kit::{
    crypto::{constant_time_eq, SecretString},
    time::now_millis,
};

use crate::peer::{self, Identity, Tokens};

use super::OpenProject;
use crate::{
    db::token_refreshes,
    domain::{
        openproject_connection::connection_lock,
        preferences::{self, keys, Whose},
        settings::AdminSettings,
    },
    error::ApiError,
};

/// Refresh when the token expires within this margin (oauth.md §5 step 3).
pub const REFRESH_MARGIN_SECS: i64 = 60;
/// How long a refresh may hold the user's lease: longer than a token request may take.
const LEASE_MILLIS: i64 = 30_000;
/// How often a caller waiting for another one's refresh looks again.
const WAIT_STEP: Duration = Duration::from_millis(50);

/// Stores a new pair. With `replacing`, only while the stored refresh token is still that one
/// (a disconnect or a new connection during a refresh wins); returns whether it was stored.
pub(super) async fn store_tokens(
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

pub(super) async fn store_identity(
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
            service_kit::db::write_transaction(conn, |conn| {
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
    /// This service failed (its database); answered as any unexpected failure.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl From<ApiError> for AccessTokenError {
    /// The stores this refresh uses fail only unexpectedly; the cause is kept as it is, so the
    /// failure is logged as it would have been without the refresh.
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Unexpected(cause) => Self::Unexpected(cause),
            other => Self::Unexpected(anyhow::Error::new(other)),
        }
    }
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
            // One read: a refresh stores the token and its expiry together, and a reader that
            // saw the old token with the new expiry would use a token about to be retired.
            let mut values = preferences::get_consistent(
                conn,
                &secret_box,
                &uid,
                &[keys::TOKEN, keys::REFRESH_TOKEN, keys::TOKEN_EXPIRES_AT],
            )?;
            let mut secret = |key| {
                values
                    .remove(key)
                    .filter(|t: &String| !t.is_empty())
                    .map(SecretString::new)
            };
            Ok(Stored {
                token: secret(keys::TOKEN),
                refresh_token: secret(keys::REFRESH_TOKEN),
                expires_at: values
                    .get(keys::TOKEN_EXPIRES_AT)
                    .and_then(|v| v.parse().ok()),
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
            let result = refresh_holding_lease(op, uid, waited).await;
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

/// `waited`: the caller found another refresh running before it got the lease, so that one
/// has ended since (stored tokens still stale means it failed).
async fn refresh_holding_lease(
    op: OpenProject<'_>,
    uid: &str,
    waited: bool,
) -> Result<SecretString, AccessTokenError> {
    // Read again under the lease: a refresh may have finished since the caller looked.
    let stored = read_stored(op, uid).await?;
    let Some(token) = stored.token.clone() else {
        return Err(AccessTokenError::NotConnected);
    };
    if stored.is_fresh(now_millis() / 1000) {
        return Ok(token);
    }
    if waited {
        // The refresh this caller waited for ended between its last look and its claim, and
        // failed (it was logged): share that outcome rather than repeat it.
        return Err(AccessTokenError::RefreshFailed);
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
    let tokens = match peer::refresh_tokens(op, &settings, &refresh_token).await {
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
