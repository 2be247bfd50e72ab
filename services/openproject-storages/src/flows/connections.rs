//! The use cases of a user's connection to a storage's Nextcloud (oauth.md §4,
//! openproject-storages.md §6.2, §12). Every user-bound call goes through [`with_user_token`],
//! which sends the user's access token and, on a 401, refreshes it once (single-flight across
//! replicas) and retries once; the storage's `authorizationState` is such a call. Authorizing
//! (ensure_connection, callback) is in [`authorization`]; the rules both follow are in
//! [`crate::domain::connections`].

pub mod authorization;

use std::{future::Future, time::Duration};

use service_kit::{
    crypto::{SecretBox, SecretString},
    db::Db,
    time::now_millis,
};
use storage_protocol::storages::AuthorizationState;

use crate::{
    db::{
        oauth_client_credentials::OAuthClientCredentials, oauth_client_tokens::OAuthClientToken,
        storages::Storage,
    },
    domain::connections::{
        finish_refresh, is_unauthorized, refresh_failure, refresh_step, seal, FinishedRefresh,
        RefreshStep, Remote, UserBound, REFRESH_LEASE_MILLIS,
    },
    peer::{ClientCredentials, NextcloudClient, Probe, TokenGrant},
    state::AppState,
};

/// How often a caller waiting for another's refresh looks at the stored result.
const REFRESH_POLL: Duration = Duration::from_millis(100);

/// What user-bound calls need from the service.
#[derive(Clone, Copy)]
pub struct Outbound<'a> {
    pub db: &'a Db,
    pub nextcloud: &'a NextcloudClient,
    pub secret_box: &'a SecretBox,
}

impl<'a> Outbound<'a> {
    pub fn of(state: &'a AppState) -> Self {
        Self {
            db: &state.db,
            nextcloud: &state.nextcloud,
            secret_box: &state.secret_box,
        }
    }
}

/// Runs `call` with the user's access token (oauth.md §4.4): on a 401 the token is refreshed
/// once (or another caller's fresh result is used) and `call` runs once more.
pub async fn with_user_token<T, F, Fut>(
    out: Outbound<'_>,
    user_id: i64,
    remote: Remote<'_>,
    call: F,
) -> UserBound<T>
where
    F: Fn(SecretString) -> Fut,
    Fut: Future<Output = Probe<T>>,
{
    let credentials_id = remote.credentials.id;
    let token = match out
        .db
        .read_query(move |conn| OAuthClientToken::find(conn, user_id, credentials_id))
        .await
    {
        Ok(Some(token)) => token,
        Ok(None) => return UserBound::NotConnected,
        Err(error) => return UserBound::Unexpected(error.into()),
    };
    let access_token = match out.secret_box.open(&token.access_token_sealed) {
        Ok(token) => SecretString::new(token),
        Err(error) => return UserBound::Unexpected(error.into()),
    };
    let first = call(access_token).await;
    if !is_unauthorized(&first) {
        return UserBound::Answered(first);
    }
    match refresh(out, remote, token).await {
        Refreshed::Fresh(access_token) => {
            let second = call(access_token).await;
            if is_unauthorized(&second) {
                UserBound::Unauthorized
            } else {
                UserBound::Answered(second)
            }
        }
        Refreshed::Failed => UserBound::RefreshFailed,
        Refreshed::TooRecent => UserBound::Unauthorized,
        Refreshed::Unexpected(error) => UserBound::Unexpected(error),
    }
}

enum Refreshed {
    /// A newer access token: ours, or one another caller stored meanwhile.
    Fresh(SecretString),
    /// The refresh failed and the token is deleted (by us or by a concurrent caller).
    Failed,
    /// The refused token was itself refreshed moments ago; refreshing again would not help.
    TooRecent,
    Unexpected(anyhow::Error),
}

/// Refreshes the pair Nextcloud refused (`seen`), single-flight per (user, credentials) across
/// replicas: a caller claims the row with one conditional update (a lease), calls the token
/// endpoint outside any transaction (so no database lock is held during the call) and stores
/// the result only if its claim still holds. Callers that find a claim wait for its result.
async fn refresh(out: Outbound<'_>, remote: Remote<'_>, seen: OAuthClientToken) -> Refreshed {
    let client_secret = match remote.credentials.client_secret_sealed.as_deref() {
        Some(sealed) => match out.secret_box.open(sealed) {
            Ok(secret) => SecretString::new(secret),
            Err(error) => return Refreshed::Unexpected(error.into()),
        },
        None => SecretString::new(""),
    };
    let deadline = tokio::time::Instant::now()
        + Duration::from_millis((REFRESH_LEASE_MILLIS + 5_000).unsigned_abs());
    let (claimed, claimed_at) = loop {
        let now = now_millis();
        let looked_for = seen.clone();
        let step = out
            .db
            .query(move |conn| refresh_step(conn, &looked_for, now))
            .await;
        match step {
            Err(error) => return Refreshed::Unexpected(error.into()),
            Ok(RefreshStep::Gone) => return Refreshed::Failed,
            Ok(RefreshStep::Newer(current)) => return fresh(out.secret_box, &current),
            Ok(RefreshStep::TooRecent) => return Refreshed::TooRecent,
            Ok(RefreshStep::Claimed(current, at)) => break (current, at),
            Ok(RefreshStep::Busy) => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Refreshed::Unexpected(anyhow::anyhow!(
                "a concurrent refresh of a Nextcloud token did not finish"
            ));
        }
        tokio::time::sleep(REFRESH_POLL).await;
    };

    // The token call and its result run to the end even if this request is dropped meanwhile:
    // Nextcloud may already have rotated the pair, which must then be stored.
    let job = ClaimedRefresh {
        db: out.db.clone(),
        nextcloud: out.nextcloud.clone(),
        secret_box: out.secret_box.clone(),
        host: remote.host.to_string(),
        client_id: remote.credentials.client_id.clone(),
        client_secret,
        claimed,
        claimed_at,
    };
    tokio::spawn(job.run()).await.unwrap_or_else(|error| {
        Refreshed::Unexpected(anyhow::anyhow!("the refresh task failed: {error}"))
    })
}

/// A refresh this caller holds the claim of.
struct ClaimedRefresh {
    db: Db,
    nextcloud: NextcloudClient,
    secret_box: SecretBox,
    host: String,
    client_id: String,
    client_secret: SecretString,
    claimed: OAuthClientToken,
    claimed_at: i64,
}

impl ClaimedRefresh {
    async fn run(self) -> Refreshed {
        let Self {
            db,
            nextcloud,
            secret_box,
            host,
            client_id,
            client_secret,
            claimed,
            claimed_at,
        } = self;
        let refresh_token = claimed.refresh_token_sealed.as_deref().and_then(|sealed| {
            secret_box
                .open(sealed)
                .inspect_err(|_| {
                    tracing::error!(
                        user_id = claimed.user_id,
                        credentials_id = claimed.oauth_client_credentials_id,
                        "a stored Nextcloud refresh token cannot be decrypted: OPS_SECRET_KEY changed since it was stored, or the value is corrupt"
                    )
                })
                .ok()
        });
        let grant = match refresh_token {
            Some(refresh_token) => {
                let client = ClientCredentials {
                    client_id: &client_id,
                    client_secret: client_secret.expose(),
                };
                nextcloud
                    .refresh_token(&host, &client, &refresh_token)
                    .await
            }
            // Nothing to refresh with: as good as refused.
            None => TokenGrant::Invalid,
        };
        let issued = match grant {
            TokenGrant::Issued(issued) => issued,
            failure => {
                tracing::info!(
                    user_id = claimed.user_id,
                    credentials_id = claimed.oauth_client_credentials_id,
                    reason = refresh_failure(&failure),
                    "refreshing a Nextcloud token failed; the token is deleted"
                );
                return match db
                    .query(move |conn| OAuthClientToken::delete_claimed(conn, &claimed, claimed_at))
                    .await
                {
                    Ok(_) => Refreshed::Failed,
                    Err(error) => Refreshed::Unexpected(error.into()),
                };
            }
        };
        let now = now_millis();
        let sealed = seal(
            &secret_box,
            &issued,
            claimed.refresh_token_sealed.clone(),
            now,
        );
        let outcome = db
            .query(move |conn| finish_refresh(conn, &claimed, claimed_at, &sealed, now))
            .await;
        match outcome {
            Ok(FinishedRefresh::Stored) => Refreshed::Fresh(issued.access_token),
            Ok(FinishedRefresh::Replaced(current)) => fresh(&secret_box, &current),
            Ok(FinishedRefresh::Gone) => Refreshed::Failed,
            Err(error) => Refreshed::Unexpected(error.into()),
        }
    }
}

fn fresh(secret_box: &SecretBox, row: &OAuthClientToken) -> Refreshed {
    match secret_box.open(&row.access_token_sealed) {
        Ok(token) => Refreshed::Fresh(SecretString::new(token)),
        Err(error) => Refreshed::Unexpected(error.into()),
    }
}

/// The caller's `authorizationState` for a storage (openproject-storages.md §6.2), live: asks
/// Nextcloud who the user is with their token, refreshing it once on a 401.
pub async fn authorization_state(
    out: Outbound<'_>,
    user_id: i64,
    storage: &Storage,
    credentials: Option<&OAuthClientCredentials>,
) -> AuthorizationState {
    let (Some(credentials), Some(host)) = (credentials, storage.host.as_deref()) else {
        return AuthorizationState::Error;
    };
    let remote = Remote { host, credentials };
    let nextcloud = out.nextcloud;
    let outcome = with_user_token(out, user_id, remote, |token| async move {
        nextcloud.cloud_user(host, token.expose()).await
    })
    .await;
    match outcome {
        UserBound::Answered(Probe::Ok(_)) => AuthorizationState::Connected,
        UserBound::NotConnected => AuthorizationState::NotConnected,
        UserBound::RefreshFailed | UserBound::Unauthorized => {
            AuthorizationState::FailedAuthorization
        }
        UserBound::Answered(_) => AuthorizationState::Error,
        UserBound::Unexpected(error) => {
            tracing::warn!(%error, "reading a user's Nextcloud connection failed");
            AuthorizationState::Error
        }
    }
}
