//! A user's connection to a storage's Nextcloud (oauth.md §4, openproject-storages.md §6.2, §12).
//! Every user-bound call goes through [`with_user_token`], which sends the user's access token and,
//! on a 401, refreshes it once (single-flight across replicas) and retries once; the storage's
//! `authorizationState` is such a call. Authorizing (ensure_connection, callback) is in
//! [`authorization`].

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
        oauth_client_credentials::OAuthClientCredentials,
        oauth_client_tokens::{OAuthClientToken, SealedTokens},
        storages::Storage,
        Conn,
    },
    peer::{ClientCredentials, IssuedTokens, NextcloudClient, Probe, TokenGrant},
};

/// A pair refreshed this recently is not refreshed again (oauth.md §4.4).
const REFRESH_GRACE_MILLIS: i64 = 10_000;
/// How long a claim on a refresh holds: longer than a token call can take (5 s to connect, 10 s
/// between reads, 25 s in all), so only a replica that died mid-refresh loses it.
const REFRESH_LEASE_MILLIS: i64 = 30_000;
/// How often a caller waiting for another's refresh looks at the stored result.
const REFRESH_POLL: Duration = Duration::from_millis(100);

/// What user-bound calls need from the service.
#[derive(Clone, Copy)]
pub struct Outbound<'a> {
    pub db: &'a Db,
    pub nextcloud: &'a NextcloudClient,
    pub secret_box: &'a SecretBox,
}

/// The Nextcloud a user-bound call goes to: the storage's host and its client credentials.
#[derive(Clone, Copy)]
pub struct Remote<'a> {
    pub host: &'a str,
    pub credentials: &'a OAuthClientCredentials,
}

/// The outcome of a user-bound call.
#[derive(Debug)]
pub enum UserBound<T> {
    /// Nextcloud's answer, anything but a 401 (after at most one refresh and retry).
    Answered(Probe<T>),
    /// The user holds no token for these credentials.
    NotConnected,
    /// Nextcloud answered 401 and the refresh failed: the user's token is deleted.
    RefreshFailed,
    /// Nextcloud answered 401 to a token refreshed moments ago, or again after the refresh.
    Unauthorized,
    /// The stored token could not be read or written.
    Unexpected(anyhow::Error),
}

fn is_unauthorized<T>(probe: &Probe<T>) -> bool {
    matches!(probe, Probe::Status(status) if *status == reqwest::StatusCode::UNAUTHORIZED)
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
        .query(move |conn| OAuthClientToken::find(conn, user_id, credentials_id))
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

/// What one look at the stored row decided.
enum Step {
    Gone,
    Newer(OAuthClientToken),
    TooRecent,
    Claimed(OAuthClientToken, i64),
    Busy,
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
        let seen_version = seen.updated_at;
        let (user_id, credentials_id) = (seen.user_id, seen.oauth_client_credentials_id);
        let step = out
            .db
            .query(move |conn| {
                Ok(
                    match OAuthClientToken::find(conn, user_id, credentials_id)? {
                        None => Step::Gone,
                        Some(current) if current.updated_at != seen_version => Step::Newer(current),
                        Some(current)
                            if current
                                .refreshed_at
                                .is_some_and(|at| now - at < REFRESH_GRACE_MILLIS) =>
                        {
                            Step::TooRecent
                        }
                        Some(current) => {
                            if OAuthClientToken::claim_refresh(
                                conn,
                                &current,
                                now,
                                REFRESH_LEASE_MILLIS,
                            )? == 1
                            {
                                Step::Claimed(current, now)
                            } else {
                                Step::Busy
                            }
                        }
                    },
                )
            })
            .await;
        match step {
            Err(error) => return Refreshed::Unexpected(error.into()),
            Ok(Step::Gone) => return Refreshed::Failed,
            Ok(Step::Newer(current)) => return fresh(out.secret_box, &current),
            Ok(Step::TooRecent) => return Refreshed::TooRecent,
            Ok(Step::Claimed(current, at)) => break (current, at),
            Ok(Step::Busy) => {}
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
        let sealed = seal(&secret_box, &issued, claimed.refresh_token_sealed.clone());
        let (user_id, credentials_id) = (claimed.user_id, claimed.oauth_client_credentials_id);
        let outcome = db
            .query(move |conn| {
                if OAuthClientToken::finish_refresh(
                    conn,
                    &claimed,
                    claimed_at,
                    &sealed,
                    now_millis(),
                )? == 1
                {
                    return Ok(None);
                }
                // Replaced (a new authorization) or deleted meanwhile: what is stored now wins.
                OAuthClientToken::find(conn, user_id, credentials_id).map(Some)
            })
            .await;
        match outcome {
            Ok(None) => Refreshed::Fresh(issued.access_token),
            Ok(Some(Some(current))) => fresh(&secret_box, &current),
            Ok(Some(None)) => Refreshed::Failed,
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

/// Why a refresh failed, for the log: never a token or a body.
fn refresh_failure(grant: &TokenGrant) -> String {
    match grant {
        TokenGrant::Issued(_) => "none".into(),
        TokenGrant::Refused(code) => format!("refused ({})", loggable_code(code)),
        TokenGrant::Unreachable => "unreachable".into(),
        TokenGrant::Invalid => "invalid response".into(),
    }
}

/// An OAuth error code as the peer sent it, if it looks like one.
fn loggable_code(code: &str) -> &str {
    if code.len() <= 40 && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        code
    } else {
        "unrecognised"
    }
}

/// The pair as stored: both tokens sealed; a server that does not rotate the refresh token
/// leaves the previous one in place.
pub(crate) fn seal(
    secret_box: &SecretBox,
    issued: &IssuedTokens,
    previous_refresh_token: Option<String>,
) -> SealedTokens {
    SealedTokens {
        access_token_sealed: secret_box.seal(issued.access_token.expose()),
        refresh_token_sealed: issued
            .refresh_token
            .as_ref()
            .map(|t| secret_box.seal(t.expose()))
            .or(previous_refresh_token),
        expires_at: issued
            .expires_in
            .map(|d| now_millis().saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))),
    }
}

/// The user disconnects from a storage's Nextcloud (My account): their tokens and Nextcloud
/// identity for its current client credentials are forgotten. Nothing is sent to Nextcloud; the
/// next connection asks for consent there again only if Nextcloud does.
pub fn disconnect(conn: &mut Conn, user_id: i64, storage_id: i64) -> diesel::QueryResult<()> {
    for credentials in OAuthClientCredentials::for_storages(conn, &[storage_id])? {
        OAuthClientToken::delete_for_user(conn, user_id, credentials.id)?;
    }
    Ok(())
}

/// The caller's `authorizationState` for a storage (openproject-storages.md §6.2), live: asks
/// Nextcloud who the user is with their token, refreshing it once on a 401.
pub async fn authorization_state(
    db: &Db,
    nextcloud: &NextcloudClient,
    secret_box: &SecretBox,
    user_id: i64,
    storage: &Storage,
    credentials: Option<&OAuthClientCredentials>,
) -> AuthorizationState {
    let (Some(credentials), Some(host)) = (credentials, storage.host.as_deref()) else {
        return AuthorizationState::Error;
    };
    let out = Outbound {
        db,
        nextcloud,
        secret_box,
    };
    let remote = Remote { host, credentials };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_error_codes_reach_the_log() {
        assert_eq!(loggable_code("invalid_grant"), "invalid_grant");
        assert_eq!(loggable_code("secret token abc"), "unrecognised");
        assert_eq!(loggable_code(&"a".repeat(41)), "unrecognised");
    }

    #[test]
    fn a_pair_without_a_new_refresh_token_keeps_the_previous_one() {
        let secret_box = service_kit::crypto::SecretKey::generate().secret_box();
        let issued = IssuedTokens {
            access_token: SecretString::new("access"),
            refresh_token: None,
            expires_in: Some(Duration::from_secs(3600)),
        };
        let sealed = seal(&secret_box, &issued, Some("previous".into()));
        assert_eq!(sealed.refresh_token_sealed.as_deref(), Some("previous"));
        assert_eq!(
            secret_box.open(&sealed.access_token_sealed).unwrap(),
            "access"
        );
        let expires_at = sealed.expires_at.unwrap();
        assert!((expires_at - now_millis() - 3_600_000).abs() < 5_000);
    }
}
