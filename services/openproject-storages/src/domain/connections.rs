//! A user's connection to a storage's Nextcloud (oauth.md §4, openproject-storages.md §6.2, §12):
//! the rules user-bound calls follow, over plain values and a connection. The calls themselves
//! (the token sent, refreshed once on a 401, single-flight across replicas) are the use cases in
//! [`crate::flows::connections`]. Authorizing is in [`authorization`].

pub mod authorization;

use service_kit::crypto::SecretBox;

use crate::{
    db::{
        oauth_client_credentials::OAuthClientCredentials,
        oauth_client_tokens::{OAuthClientToken, SealedTokens},
        Conn,
    },
    peer::{IssuedTokens, Probe, TokenGrant},
};

/// A pair refreshed this recently is not refreshed again (oauth.md §4.4).
const REFRESH_GRACE_MILLIS: i64 = 10_000;
/// How long a claim on a refresh holds: longer than a token call can take (5 s to connect, 10 s
/// between reads, 25 s in all), so only a replica that died mid-refresh loses it.
pub const REFRESH_LEASE_MILLIS: i64 = 30_000;

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

pub fn is_unauthorized<T>(probe: &Probe<T>) -> bool {
    matches!(probe, Probe::Status(status) if *status == reqwest::StatusCode::UNAUTHORIZED)
}

/// What one look at the stored row decided, for a caller about to refresh the pair it saw.
pub enum RefreshStep {
    Gone,
    Newer(OAuthClientToken),
    TooRecent,
    /// This caller holds the claim (a lease) since the given time.
    Claimed(OAuthClientToken, i64),
    Busy,
}

/// Looks at the stored row once: gone, replaced since `seen`, refreshed moments ago, or claimed
/// now by this caller with one conditional update (or already claimed by another).
pub fn refresh_step(
    conn: &mut Conn,
    seen: &OAuthClientToken,
    now: i64,
) -> diesel::QueryResult<RefreshStep> {
    Ok(
        match OAuthClientToken::find(conn, seen.user_id, seen.oauth_client_credentials_id)? {
            None => RefreshStep::Gone,
            Some(current) if current.updated_at != seen.updated_at => RefreshStep::Newer(current),
            Some(current)
                if current
                    .refreshed_at
                    .is_some_and(|at| now - at < REFRESH_GRACE_MILLIS) =>
            {
                RefreshStep::TooRecent
            }
            Some(current) => {
                if OAuthClientToken::claim_refresh(conn, &current, now, REFRESH_LEASE_MILLIS)? == 1
                {
                    RefreshStep::Claimed(current, now)
                } else {
                    RefreshStep::Busy
                }
            }
        },
    )
}

/// What became of a refreshed pair.
pub enum FinishedRefresh {
    /// Stored: this caller's claim still held.
    Stored,
    /// A new authorization replaced the row meanwhile: what is stored now wins.
    Replaced(OAuthClientToken),
    /// The row was deleted meanwhile.
    Gone,
}

/// Stores a refreshed pair if this caller's claim still holds.
pub fn finish_refresh(
    conn: &mut Conn,
    claimed: &OAuthClientToken,
    claimed_at: i64,
    sealed: &SealedTokens,
    now: i64,
) -> diesel::QueryResult<FinishedRefresh> {
    if OAuthClientToken::finish_refresh(conn, claimed, claimed_at, sealed, now)? == 1 {
        return Ok(FinishedRefresh::Stored);
    }
    Ok(
        match OAuthClientToken::find(conn, claimed.user_id, claimed.oauth_client_credentials_id)? {
            Some(current) => FinishedRefresh::Replaced(current),
            None => FinishedRefresh::Gone,
        },
    )
}

/// Why a refresh failed, for the log: never a token or a body.
pub fn refresh_failure(grant: &TokenGrant) -> String {
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
/// leaves the previous one in place. The pair expires `expires_in` after `now`.
pub fn seal(
    secret_box: &SecretBox,
    issued: &IssuedTokens,
    previous_refresh_token: Option<String>,
    now: i64,
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
            .map(|d| now.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use service_kit::{crypto::SecretString, time::now_millis};

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
        let sealed = seal(&secret_box, &issued, Some("previous".into()), now_millis());
        assert_eq!(sealed.refresh_token_sealed.as_deref(), Some("previous"));
        assert_eq!(
            secret_box.open(&sealed.access_token_sealed).unwrap(),
            "access"
        );
        let expires_at = sealed.expires_at.unwrap();
        assert!((expires_at - now_millis() - 3_600_000).abs() < 5_000);
    }
}
