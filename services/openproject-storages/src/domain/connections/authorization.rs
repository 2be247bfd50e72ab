//! An OpenProject user authorizes OpenProject at a storage's Nextcloud (oauth.md §4.1–§4.3,
//! flows.md §5): `ensure_connection` starts it, the callback finishes it.
//!
//! The state's binding to the user lives server-side, readable by any replica: `ensure_connection`
//! stores the state's digest with the session's user, the storage and the sealed PKCE verifier.
//! The `oauth_state_<state>` cookie only says where to go back to. A front end may start the flow
//! itself with a nonce of its own (§4.2); such a state has no record and is accepted only with its
//! cookie present in this browser (the product's binding), without PKCE, and is single use as well.

use oauth2::{PkceCodeChallenge, PkceCodeVerifier};
use service_kit::{
    auth::same_origin_path,
    crypto::{digest, random_urlsafe},
    time::now_millis,
};
use storage_protocol::{
    oauth::openproject_client::{messages, StateCookie},
    storages::{nextcloud_urls, openproject_oauth_callback, AuthorizationState},
};

use super::{authorization_state, seal, Outbound};
use crate::{
    db::{
        oauth_client_credentials::OAuthClientCredentials,
        oauth_client_states::{NewOAuthClientState, OAuthClientState},
        oauth_client_tokens::OAuthClientToken,
        storages::Storage,
        Conn,
    },
    peer::{ClientCredentials, IssuedTokens, Probe, TokenGrant},
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
struct Authorizable {
    storage: Storage,
    host: String,
    credentials: OAuthClientCredentials,
}

/// The storage, if its credentials carry `client_id` (and it has a host).
fn authorizable(
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

/// oauth.md §4.1.
pub async fn ensure_connection(
    out: Outbound<'_>,
    public_url: &str,
    user_id: i64,
    client_id: &str,
    storage_id: Option<i64>,
    destination_url: Option<&str>,
) -> anyhow::Result<EnsureConnection> {
    let destination = destination(public_url, destination_url);
    let Some(storage_id) = storage_id else {
        return Ok(EnsureConnection::ClientNotFound);
    };
    let wanted = client_id.to_string();
    let found = out
        .db
        .query(move |conn| {
            let Some(target) = authorizable(conn, storage_id, &wanted)? else {
                return Ok(None);
            };
            let token = OAuthClientToken::find(conn, user_id, target.credentials.id)?;
            Ok(Some((target, token.is_some())))
        })
        .await?;
    let Some((
        Authorizable {
            storage,
            host,
            credentials,
        },
        has_token,
    )) = found
    else {
        return Ok(EnsureConnection::ClientNotFound);
    };
    if has_token {
        // A token Nextcloud refuses and that cannot be refreshed is deleted by this check, and
        // the user authorizes again; an unreachable Nextcloud would not let them anyway.
        let state = authorization_state(
            out.db,
            out.nextcloud,
            out.secret_box,
            user_id,
            &storage,
            Some(&credentials),
        )
        .await;
        if matches!(
            state,
            AuthorizationState::Connected | AuthorizationState::Error
        ) {
            return Ok(EnsureConnection::Connected { destination });
        }
    }

    let state = uuid::Uuid::new_v4().to_string();
    // 48 random bytes → 64 characters of base64url: unreserved characters only (RFC 7636).
    let verifier = random_urlsafe(48);
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.clone()));
    let row_digest = digest(&state);
    let verifier_sealed = out.secret_box.seal(&verifier);
    let now = now_millis();
    out.db
        .query(move |conn| {
            OAuthClientState::purge_created_before(conn, now - STATE_COOKIE_MAX_AGE_SECS * 1000)?;
            OAuthClientState::insert(
                conn,
                &NewOAuthClientState {
                    state_digest: &row_digest,
                    user_id,
                    storage_id,
                    code_verifier_sealed: Some(&verifier_sealed),
                    created_at: now,
                    expires_at: now + STATE_TTL_MILLIS,
                    consumed_at: None,
                },
            )
        })
        .await?;
    let callback = openproject_oauth_callback(public_url, &credentials.client_id);
    let authorize_url = format!(
        "{}&state={state}&code_challenge={}&code_challenge_method=S256",
        nextcloud_urls::authorize(&host, &credentials.client_id, &callback),
        challenge.as_str()
    );
    Ok(EnsureConnection::Authorize {
        cookie: StateCookie {
            href: destination,
            storage_id: storage_id.to_string(),
        },
        state,
        authorize_url,
    })
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
enum Claim {
    /// Started by `ensure_connection` for this user and storage, now used: its verifier.
    Recorded(Option<String>),
    /// No record: a front end's nonce (§4.2).
    Unrecorded,
    /// Another user's, another storage's, expired, or used before.
    Refused,
}

/// Consumes the recorded state `state_digest`, in one conditional update.
fn claim_recorded(
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
fn claim_unrecorded(
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

/// oauth.md §4.3: the checks in order, then the exchange, the remote identity and the stored
/// token pair.
pub async fn callback(
    out: Outbound<'_>,
    public_url: &str,
    request: Callback<'_>,
) -> anyhow::Result<CallbackOutcome> {
    let cookie = request.cookie.and_then(StateCookie::parse);
    let href = cookie
        .as_ref()
        .and_then(|c| same_origin_path(&c.href, public_url))
        .map_or_else(|| "/".to_string(), |path| format!("{public_url}{path}"));
    let failed = |message: String| {
        Ok(CallbackOutcome::Failed {
            href: href.clone(),
            message,
        })
    };
    let attempt = match claim_attempt(out, &request, cookie.as_ref()).await? {
        Ok(attempt) => attempt,
        Err(message) => return failed(message.to_string()),
    };
    let issued = match exchange_code(out, public_url, &attempt).await? {
        Ok(issued) => issued,
        Err(message) => return failed(message),
    };
    store_connection(out, &attempt, &issued).await?;
    tracing::info!(
        user_id = attempt.user_id,
        storage_id = attempt.storage.id,
        "user connected to Nextcloud"
    );
    Ok(CallbackOutcome::Connected { href })
}

/// A callback whose state this user claimed, for a storage whose credentials carry its client id.
struct Attempt<'a> {
    code: &'a str,
    user_id: i64,
    storage: Storage,
    host: String,
    credentials: OAuthClientCredentials,
    /// The PKCE verifier of the recorded authorization request, sealed.
    code_verifier_sealed: Option<String>,
}

/// Uses up the callback's state (once, for this user) and finds the storage it is for; the
/// failure is the message the user sees. A callback without a code (a denial) uses the state up
/// too, so it cannot be replayed with one.
async fn claim_attempt<'a>(
    out: Outbound<'_>,
    request: &Callback<'a>,
    cookie: Option<&StateCookie>,
) -> anyhow::Result<Result<Attempt<'a>, &'static str>> {
    let storage_id = cookie.and_then(|c| c.storage_id.parse::<i64>().ok());
    let state_digest = request.state.filter(|s| !s.is_empty()).map(digest);
    let user_id = request.user_id;
    let Some(code) = request.code.filter(|c| !c.is_empty()) else {
        if let (Some(state_digest), Some(_)) = (state_digest, cookie) {
            let now = now_millis();
            out.db
                .query(move |conn| {
                    claim_recorded(conn, &state_digest, user_id, storage_id, now).map(|_| ())
                })
                .await?;
        }
        return Ok(Err(messages::CODE_NOT_FOUND));
    };
    let (Some(state_digest), Some(_)) = (state_digest, cookie) else {
        return Ok(Err(messages::STATE_NOT_FOUND));
    };
    let now = now_millis();
    let claim_digest = state_digest.clone();
    let claim = out
        .db
        .query(move |conn| claim_recorded(conn, &claim_digest, user_id, storage_id, now))
        .await?;
    let (recorded, code_verifier_sealed) = match claim {
        Claim::Refused => return Ok(Err(messages::STATE_NOT_FOUND)),
        Claim::Recorded(verifier) => (true, verifier),
        Claim::Unrecorded => (false, None),
    };
    let wanted = request.client_id.to_string();
    let found = match storage_id {
        Some(storage_id) => {
            out.db
                .query(move |conn| authorizable(conn, storage_id, &wanted))
                .await?
        }
        None => None,
    };
    let Some(Authorizable {
        storage,
        host,
        credentials,
    }) = found
    else {
        return Ok(Err(messages::CLIENT_NOT_FOUND));
    };
    let storage_id = storage.id;
    if !recorded
        && !out
            .db
            .query(move |conn| claim_unrecorded(conn, &state_digest, user_id, storage_id, now))
            .await?
    {
        return Ok(Err(messages::STATE_NOT_FOUND));
    }
    Ok(Ok(Attempt {
        code,
        user_id,
        storage,
        host,
        credentials,
        code_verifier_sealed,
    }))
}

/// Exchanges the attempt's code at Nextcloud's token endpoint; the failure is the message the
/// user sees.
async fn exchange_code(
    out: Outbound<'_>,
    public_url: &str,
    attempt: &Attempt<'_>,
) -> anyhow::Result<Result<IssuedTokens, String>> {
    let code_verifier = attempt
        .code_verifier_sealed
        .as_deref()
        .map(|sealed| out.secret_box.open(sealed))
        .transpose()?;
    let client_secret = attempt
        .credentials
        .client_secret_sealed
        .as_deref()
        .map(|sealed| out.secret_box.open(sealed))
        .transpose()?
        .unwrap_or_default();
    let client = ClientCredentials {
        client_id: &attempt.credentials.client_id,
        client_secret: &client_secret,
    };
    let callback = openproject_oauth_callback(public_url, &attempt.credentials.client_id);
    let grant = out
        .nextcloud
        .exchange_code(
            &attempt.host,
            &client,
            &callback,
            attempt.code,
            code_verifier.as_deref(),
        )
        .await;
    Ok(match grant {
        TokenGrant::Issued(issued) => Ok(issued),
        TokenGrant::Refused(error) => Err(messages::grant_unsuccessful(
            &messages::provider_error_detail(&error),
        )),
        TokenGrant::Unreachable => Err(messages::grant_unsuccessful(messages::SERVER_UNREACHABLE)),
        TokenGrant::Invalid => Err(messages::grant_unsuccessful(messages::INVALID_RESPONSE)),
    })
}

/// Stores the user's new tokens with their Nextcloud identity, read with the new token.
async fn store_connection(
    out: Outbound<'_>,
    attempt: &Attempt<'_>,
    issued: &IssuedTokens,
) -> anyhow::Result<()> {
    let (user_id, storage_id) = (attempt.user_id, attempt.storage.id);
    let origin_user_id = match out
        .nextcloud
        .cloud_user(&attempt.host, issued.access_token.expose())
        .await
    {
        Probe::Ok(id) => Some(id),
        // The connection stands; only the remote identity is unknown until it is read again.
        _ => {
            tracing::warn!(
                user_id,
                storage_id,
                "reading the Nextcloud user id with a new token failed"
            );
            None
        }
    };
    let sealed = seal(out.secret_box, issued, None);
    let credentials_id = attempt.credentials.id;
    out.db
        .query(move |conn| {
            OAuthClientToken::replace(
                conn,
                user_id,
                credentials_id,
                &sealed,
                origin_user_id.as_deref(),
                now_millis(),
            )
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
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
