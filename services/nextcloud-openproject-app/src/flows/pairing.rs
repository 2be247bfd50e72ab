//! Pairing with OpenProject by one code (Extension, issue 20), and OpenProject's signed messages
//! afterwards.
//!
//! The admin pastes the code; Nextcloud shows the OpenProject URL it names ([`inspect`]) and goes
//! on only once the admin confirms it ([`pair`]): the URL passes the host checks, the code's
//! signature verifies against that URL's JWKS, it is unexpired and its nonce unused here. Then
//! one exchange: Nextcloud's new OAuth client and public key for OpenProject's client.

use service_kit::{
    crypto::SecretString,
    http_client::Destinations,
    outbound::{self, DestinationError},
    time::iso8601_millis,
};
use storage_protocol::{
    client::{ClientError, PeerApi},
    hal::HalError,
    pairing::{
        messages, NextcloudPairing, PairWithOpenProject, PairedWithOpenProject, PairingCode,
        PairingCodeFound, PairingExchange, PeerMessage, Refusal,
    },
};

use crate::{
    domain::{
        oauth_clients::NewCredentials,
        op_instance::parse_candidate,
        pairing::{self, Pairing, Peer, KID_PREFIX, PEER},
    },
    error::ApiError,
    state::AppState,
};

use super::run;

/// What the pasted code says, at `now` (unix ms): the OpenProject it names (which must pass the
/// host checks) and its storage. Nothing is trusted yet.
pub async fn inspect(
    state: &AppState,
    code: PairingCode,
    now: i64,
) -> Result<PairingCodeFound, ApiError> {
    let claims = code.unverified_claims().map_err(refused)?;
    if claims.exp <= now / 1000 {
        return Err(refused(Refusal::Expired));
    }
    let openproject_url = callable_openproject(state, &claims.iss).await?;
    Ok(PairingCodeFound {
        openproject_url,
        storage_id: claims.storage_id,
        expires_at: iso8601_millis(claims.exp * 1000),
    })
}

/// Pairs with the OpenProject the admin confirmed, at `now` (unix ms).
pub async fn pair(
    state: &AppState,
    request: PairWithOpenProject,
    now: i64,
) -> Result<PairedWithOpenProject, ApiError> {
    let code = PairingCode(request.code.trim().to_string());
    let claimed = code.claimed_issuer().map_err(refused)?;
    let confirmed = request.openproject_url.trim().trim_end_matches('/');
    if claimed != confirmed {
        return Err(ApiError::BadRequest(messages::not_confirmed(
            &claimed, confirmed,
        )));
    }
    let openproject_url = callable_openproject(state, &claimed).await?;
    let openproject = PeerApi::new(state.http.clone(), &openproject_url);
    let keys = openproject
        .public_keys()
        .await
        .map_err(|error| unreachable(&openproject_url, &error))?;
    let claims = code.verify(&keys, &claimed, now / 1000).map_err(refused)?;

    let (secret_box, jti) = (state.secret_box.clone(), claims.jti.clone());
    let signing_key = run(state, move |conn| {
        if pairing::code_used(conn, &jti)? {
            return Err(refused(Refusal::Used));
        }
        peer_link::keys::signing_key(conn, &secret_box, KID_PREFIX, now)
            .map_err(|error| ApiError::Unexpected(error.into()))
    })
    .await?;

    let nextcloud_client = NewCredentials::generate();
    let exchange = PairingExchange {
        code: code.0.clone(),
        nextcloud_url: state.public_url.clone(),
        client_id: nextcloud_client.client_id.clone(),
        client_secret: nextcloud_client.secret.expose().to_string(),
        nextcloud_key: signing_key.public_jwk(),
    };
    let answer = openproject
        .exchange(&exchange)
        .await
        .map_err(|error| exchange_failed(&openproject_url, error))?;

    let storage_id = answer.storage_id;
    let completed = Pairing {
        peer: Peer {
            openproject_url: openproject_url.clone(),
            storage_id,
            keys,
            paired_at: now,
        },
        jti: claims.jti,
        nextcloud_client,
        openproject_client_id: answer.client_id,
        openproject_client_secret: SecretString::new(answer.client_secret),
    };
    let secret_box = state.secret_box.clone();
    run(state, move |conn| {
        pairing::complete(conn, &secret_box, completed, now)
    })
    .await?;
    tracing::info!(
        target: "audit",
        openproject = %openproject_url,
        storage = storage_id,
        "paired with OpenProject"
    );
    Ok(PairedWithOpenProject {
        status: true,
        openproject_url,
        storage_id,
    })
}

/// With which OpenProject this instance is paired, and the last message it sent there.
pub async fn status(state: &AppState) -> Result<NextcloudPairing, ApiError> {
    let policy = state.courier.policy();
    let (peer, exchange) = run(state, move |conn| {
        let peer = pairing::peer(conn)?;
        let exchange = peer_link::outbox::last_exchange(conn, PEER, &policy)?;
        Ok::<_, diesel::result::Error>((peer, exchange))
    })
    .await?;
    Ok(NextcloudPairing {
        paired: peer.is_some(),
        openproject_url: peer.as_ref().map(|p| p.openproject_url.clone()),
        storage_id: peer.as_ref().map(|p| p.storage_id),
        paired_at: peer.as_ref().map(|p| iso8601_millis(p.paired_at)),
        last_exchange: exchange.map(Into::into),
    })
}

/// A signed message from the paired OpenProject, at `now` (unix ms): applied once, whatever
/// number of times it arrives. A message signed with a key Nextcloud has not seen makes it
/// fetch OpenProject's keys again, once.
pub async fn receive(state: &AppState, signed: String, now: i64) -> Result<(), ApiError> {
    let peer = run(state, pairing::peer)
        .await?
        .ok_or_else(|| ApiError::Missing(messages::NOT_PAIRED.into()))?;
    let verify = |keys| PeerMessage::verify(&signed, keys, &peer.openproject_url, now / 1000);
    let message = match verify(&peer.keys) {
        Err(Refusal::UnknownKey(_)) => {
            let keys = PeerApi::new(state.http.clone(), &peer.openproject_url)
                .public_keys()
                .await
                .map_err(|_| message_refused(Refusal::UnknownKey(peer.openproject_url.clone())))?;
            let message = verify(&keys).map_err(message_refused)?;
            run(state, move |conn| pairing::update_keys(conn, &keys)).await?;
            message
        }
        verified => verified.map_err(message_refused)?,
    };
    let (secret_box, id, event) = (
        state.secret_box.clone(),
        message.jti.clone(),
        message.event.type_name(),
    );
    let applied = run(state, move |conn| {
        pairing::apply(conn, &secret_box, &message, now)
    })
    .await?;
    tracing::info!(
        target: "audit",
        message = %id,
        event,
        applied,
        "message from OpenProject"
    );
    Ok(())
}

/// `url` without a trailing `/`, when it is an OpenProject URL this instance may call.
async fn callable_openproject(state: &AppState, url: &str) -> Result<String, ApiError> {
    let Some(parsed) = parse_candidate(url) else {
        return Err(ApiError::BadRequest(messages::not_an_openproject_url(url)));
    };
    let url = url.trim().trim_end_matches('/').to_string();
    if Destinations::allowing_local(state.settings.allow_local_remote_servers)
        == Destinations::PublicOnly
    {
        match outbound::check_destination(&parsed).await {
            Ok(()) => {}
            Err(DestinationError::NonPublic(_)) => {
                return Err(ApiError::BadRequest(messages::local_address(&url)))
            }
            Err(error) => {
                return Err(ApiError::BadRequest(messages::unreachable(
                    &url,
                    &error.to_string(),
                )))
            }
        }
    }
    Ok(url)
}

fn refused(refusal: Refusal) -> ApiError {
    ApiError::BadRequest(refusal.to_string())
}

/// A message that does not authenticate: refused and logged.
fn message_refused(refusal: Refusal) -> ApiError {
    let reason = refusal.of_message();
    tracing::warn!(%reason, "message from OpenProject refused");
    ApiError::Unauthorized(reason)
}

fn unreachable(url: &str, error: &ClientError) -> ApiError {
    ApiError::BadRequest(messages::unreachable(url, &error.to_string()))
}

/// OpenProject's own words when it refused the exchange.
fn exchange_failed(url: &str, error: ClientError) -> ApiError {
    match &error {
        ClientError::Status { status, body } if status.is_client_error() => {
            let said = serde_json::from_str::<HalError>(body)
                .map(|e| e.message.to_string())
                .unwrap_or_else(|_| status.to_string());
            ApiError::BadRequest(messages::refused_by_openproject(&said))
        }
        _ => unreachable(url, &error),
    }
}
