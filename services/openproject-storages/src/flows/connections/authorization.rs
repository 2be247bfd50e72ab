//! The use cases of a user authorizing OpenProject at a storage's Nextcloud (oauth.md §4.1–§4.3,
//! flows.md §5): `ensure_connection` starts it, the callback finishes it. The rules they follow
//! (the state's binding, where the browser goes) are in [`crate::domain::connections::authorization`].

use oauth2::{PkceCodeChallenge, PkceCodeVerifier};
use service_kit::{
    auth::same_origin_path,
    crypto::{digest, random_urlsafe},
    time::now_millis,
};
use storage_protocol::{
    oauth::openproject_client::{messages, StateCookie},
    storages::{openproject_oauth_callback, AuthorizationState},
};

use super::{authorization_state, Outbound};
use crate::{
    db::{
        oauth_client_credentials::OAuthClientCredentials,
        oauth_client_states::{NewOAuthClientState, OAuthClientState},
        oauth_client_tokens::OAuthClientToken,
        storages::Storage,
    },
    domain::connections::{
        authorization::{
            authorizable, authorize_url, claim_recorded, claim_unrecorded, destination,
            Authorizable, Callback, CallbackOutcome, Claim, EnsureConnection,
            STATE_COOKIE_MAX_AGE_SECS, STATE_TTL_MILLIS,
        },
        seal,
    },
    peer::{ClientCredentials, IssuedTokens, Probe, TokenGrant},
    state::AppState,
};

/// oauth.md §4.1.
pub async fn ensure_connection(
    state: &AppState,
    user_id: i64,
    client_id: &str,
    storage_id: Option<i64>,
    destination_url: Option<&str>,
) -> anyhow::Result<EnsureConnection> {
    let (out, public_url) = (Outbound::of(state), state.public_url.as_str());
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
    let Some((target, has_token)) = found else {
        return Ok(EnsureConnection::ClientNotFound);
    };
    if has_token {
        // A token Nextcloud refuses and that cannot be refreshed is deleted by this check, and
        // the user authorizes again; an unreachable Nextcloud would not let them anyway.
        let state =
            authorization_state(out, user_id, &target.storage, Some(&target.credentials)).await;
        if matches!(
            state,
            AuthorizationState::Connected | AuthorizationState::Error
        ) {
            return Ok(EnsureConnection::Connected { destination });
        }
    }
    start_authorization(out, public_url, user_id, &target, destination).await
}

/// Records a new authorization request (its state's digest, the user, the storage, the sealed
/// PKCE verifier) and sends the browser to Nextcloud with it.
async fn start_authorization(
    out: Outbound<'_>,
    public_url: &str,
    user_id: i64,
    target: &Authorizable,
    destination: String,
) -> anyhow::Result<EnsureConnection> {
    let storage_id = target.storage.id;
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
    let authorize_url = authorize_url(
        public_url,
        &target.host,
        &target.credentials.client_id,
        &state,
        challenge.as_str(),
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

/// oauth.md §4.3: the checks in order, then the exchange, the remote identity and the stored
/// token pair.
pub async fn callback(state: &AppState, request: Callback<'_>) -> anyhow::Result<CallbackOutcome> {
    let (out, public_url) = (Outbound::of(state), state.public_url.as_str());
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
    let now = now_millis();
    let sealed = seal(out.secret_box, issued, None, now);
    let credentials_id = attempt.credentials.id;
    out.db
        .query(move |conn| {
            OAuthClientToken::replace(
                conn,
                user_id,
                credentials_id,
                &sealed,
                origin_user_id.as_deref(),
                now,
            )
        })
        .await?;
    Ok(())
}
