//! An OpenProject user authorizes OpenProject at a storage's Nextcloud (oauth.md §4.1–§4.3,
//! flows.md §5): `ensure_connection` starts it, the callback finishes it.
//!
//! The state's binding to the user lives server-side, readable by any replica: `ensure_connection`
//! stores the state's digest with the session's user, the storage and the sealed PKCE verifier.
//! The `oauth_state_<state>` cookie only says where to go back to. A front end may start the flow
//! itself with a nonce of its own (§4.2); such a state has no record and is accepted only with its
//! cookie present in this browser (the product's binding), without PKCE, and is single use as well.
//!
//! Here are the rules over a connection and plain values; the use cases that call Nextcloud are
//! in [`crate::flows::connections::authorization`].

use service_kit::auth::same_origin_path;
use storage_protocol::{
    oauth::openproject_client::StateCookie,
    storages::{nextcloud_urls, openproject_oauth_callback},
};

use crate::db::{
    oauth_client_credentials::OAuthClientCredentials,
    oauth_client_states::{NewOAuthClientState, OAuthClientState},
    storages::Storage,
    Conn,
};

/// A stored state can be finished this long after `ensure_connection` (oauth.md §4.1).
pub const STATE_TTL_MILLIS: i64 = 10 * 60 * 1000;
/// Lifetime of the `oauth_state_<state>` cookie; used states are remembered as long.
pub const STATE_COOKIE_MAX_AGE_SECS: i64 = 3600;

/// Where a browser goes after an authorization: the same-origin `raw` (a path gets the public
/// URL in front), anything else the public URL's root.
pub fn destination(public_url: &str, raw: Option<&str>) -> String {
    match raw.and_then(|raw| same_origin_path(raw, public_url)) {
        Some(path) => format!("{public_url}{path}"),
        None => format!("{public_url}/"),
    }
}

/// A storage that users can authorize at: it has a host and client credentials.
pub struct Authorizable {
    pub storage: Storage,
    pub host: String,
    pub credentials: OAuthClientCredentials,
}

/// The storage, if its credentials carry `client_id` (and it has a host).
pub fn authorizable(
    conn: &mut Conn,
    storage_id: i64,
    client_id: &str,
) -> diesel::QueryResult<Option<Authorizable>> {
    let Some(storage) = Storage::find(conn, storage_id)? else {
        return Ok(None);
    };
    let Some(host) = storage.host.clone() else {
        return Ok(None);
    };
    Ok(OAuthClientCredentials::for_storage(conn, storage_id)?
        .filter(|credentials| credentials.client_id == client_id)
        .map(|credentials| Authorizable {
            storage,
            host,
            credentials,
        }))
}

/// What `GET /oauth_clients/{client_id}/ensure_connection` answers a signed-in user.
#[derive(Debug)]
pub enum EnsureConnection {
    /// No credentials with this client id for the storage: to `/` with the flash message.
    ClientNotFound,
    /// Already connected: straight to the destination.
    Connected { destination: String },
    /// To Nextcloud's authorize URL, with the state cookie.
    Authorize {
        state: String,
        cookie: StateCookie,
        authorize_url: String,
    },
}

/// Nextcloud's authorize URL for a new authorization request, with its state and PKCE challenge.
pub fn authorize_url(
    public_url: &str,
    host: &str,
    client_id: &str,
    state: &str,
    code_challenge: &str,
) -> String {
    let callback = openproject_oauth_callback(public_url, client_id);
    format!(
        "{}&state={state}&code_challenge={code_challenge}&code_challenge_method=S256",
        nextcloud_urls::authorize(host, client_id, &callback),
    )
}

/// The callback's request, as the route read it.
#[derive(Debug, Clone, Copy)]
pub struct Callback<'a> {
    pub user_id: i64,
    pub client_id: &'a str,
    pub code: Option<&'a str>,
    pub state: Option<&'a str>,
    /// The decoded value of the cookie `oauth_state_<state>`.
    pub cookie: Option<&'a str>,
}

/// Where the callback sends the browser: `href` is the cookie's (re-checked same-origin) or `/`.
#[derive(Debug, PartialEq, Eq)]
pub enum CallbackOutcome {
    Connected { href: String },
    Failed { href: String, message: String },
}

/// How a state was claimed.
pub enum Claim {
    /// Started by `ensure_connection` for this user and storage, now used: its verifier.
    Recorded(Option<String>),
    /// No record: a front end's nonce (§4.2).
    Unrecorded,
    /// Another user's, another storage's, expired, or used before.
    Refused,
}

/// Consumes the recorded state `state_digest`, in one conditional update.
pub fn claim_recorded(
    conn: &mut Conn,
    state_digest: &str,
    user_id: i64,
    storage_id: Option<i64>,
    now: i64,
) -> diesel::QueryResult<Claim> {
    let Some(record) = OAuthClientState::find_by_digest(conn, state_digest)? else {
        return Ok(Claim::Unrecorded);
    };
    if record.user_id != user_id || Some(record.storage_id) != storage_id {
        return Ok(Claim::Refused);
    }
    Ok(if OAuthClientState::consume(conn, record.id, now)? == 1 {
        Claim::Recorded(record.code_verifier_sealed)
    } else {
        Claim::Refused
    })
}

/// Records a front end's nonce as used; false when it was used before.
pub fn claim_unrecorded(
    conn: &mut Conn,
    state_digest: &str,
    user_id: i64,
    storage_id: i64,
    now: i64,
) -> diesel::QueryResult<bool> {
    let used = NewOAuthClientState {
        state_digest,
        user_id,
        storage_id,
        code_verifier_sealed: None,
        created_at: now,
        expires_at: now,
        consumed_at: Some(now),
    };
    OAuthClientState::insert_new(conn, &used)
}

#[cfg(test)]
mod tests {
    use service_kit::crypto::random_urlsafe;

    use super::*;

    #[test]
    fn destinations_stay_on_this_origin() {
        let op = "https://op.example";
        assert_eq!(
            destination(op, Some("/projects/1?tab=files")),
            "https://op.example/projects/1?tab=files"
        );
        assert_eq!(
            destination(op, Some("https://op.example/a")),
            "https://op.example/a"
        );
        for foreign in [
            "https://evil.example/a",
            "//evil.example/a",
            "/\\evil.example",
            "http://op.example/a",
            "https://op.example:444/a",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(
                destination(op, Some(foreign)),
                "https://op.example/",
                "{foreign}"
            );
        }
        assert_eq!(destination(op, None), "https://op.example/");
    }

    #[test]
    fn verifiers_are_unreserved_and_long_enough() {
        let verifier = random_urlsafe(48);
        assert_eq!(verifier.len(), 64);
        assert!(verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
}
