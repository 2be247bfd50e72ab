//! Pairing by one code (Extension, issue 20): issuing a code for a storage, the public keys that
//! verify it, the exchange, the pairing's state, and Nextcloud's signed messages afterwards.

use peer_link::outbox::ExchangeState;
use service_kit::time::iso8601_millis;
use storage_protocol::hal::{ErrorId, HalError};
use storage_protocol::pairing::{
    JwkSet, PairingExchange, PairingExchangeAnswer, PeerMessage, Refusal, StoragePairing,
};

use crate::{
    domain::{
        pairing::{self as domain, IssuedCode, PairingError},
        storage_health::PairingInput,
    },
    error::ApiError,
    state::AppState,
};

/// A new code for `storage_id`, issued by the admin `admin_id` at `now` (unix ms).
pub async fn issue_code(
    state: &AppState,
    storage_id: i64,
    admin_id: i64,
    now: i64,
) -> Result<IssuedCode, ApiError> {
    let secret_box = state.secret_box.clone();
    let issuer = state.public_url.clone();
    state
        .db
        .run(move |conn| {
            domain::issue_code(conn, &secret_box, &issuer, (storage_id, admin_id), now)
                .map_err(ApiError::from)
        })
        .await
}

/// Nextcloud's half of the exchange, at `now` (unix ms).
pub async fn exchange(
    state: &AppState,
    request: PairingExchange,
    now: i64,
) -> Result<PairingExchangeAnswer, ApiError> {
    let secret_box = state.secret_box.clone();
    let issuer = state.public_url.clone();
    state
        .db
        .run(move |conn| {
            domain::exchange(conn, &secret_box, &issuer, &request, now).map_err(ApiError::from)
        })
        .await
}

/// With which Nextcloud the storage is paired, and the last message sent there.
pub async fn status(state: &AppState, storage_id: i64) -> Result<StoragePairing, ApiError> {
    let policy = state.courier.policy();
    let (peer, exchange) = state
        .db
        .query(move |conn| {
            let peer = crate::db::pairing::find_peer(conn, storage_id)?;
            let exchange =
                peer_link::outbox::last_exchange(conn, &domain::peer_name(storage_id), &policy)?;
            Ok((peer, exchange))
        })
        .await?;
    Ok(StoragePairing {
        type_: "StoragePairing".into(),
        paired: peer.as_ref().is_some_and(|p| p.reset_at.is_none()),
        nextcloud_url: peer.as_ref().map(|p| p.nextcloud_url.clone()),
        paired_at: peer.as_ref().map(|p| iso8601_millis(p.paired_at)),
        reset_at: peer.as_ref().and_then(|p| p.reset_at).map(iso8601_millis),
        last_exchange: exchange.map(Into::into),
    })
}

/// A signed message from the Nextcloud paired with `storage_id`, at `now` (unix ms): applied
/// once, whatever number of times it arrives.
pub async fn receive(
    state: &AppState,
    storage_id: i64,
    signed: String,
    now: i64,
) -> Result<(), ApiError> {
    let peer = state
        .db
        .query(move |conn| domain::paired_peer(conn, storage_id))
        .await?
        .ok_or(PairingError::NotPaired)?;
    let message = domain::peer_keys(&peer)
        .and_then(|keys| PeerMessage::verify(&signed, &keys, &peer.nextcloud_url, now / 1000))
        .map_err(|refusal: Refusal| {
            let reason = refusal.of_message();
            tracing::warn!(storage = storage_id, %reason, "message from Nextcloud refused");
            ApiError::hal(HalError::new(ErrorId::Unauthenticated, reason))
        })?;
    let (secret_box, id, event) = (
        state.secret_box.clone(),
        message.jti.clone(),
        message.event.type_name(),
    );
    let applied = state
        .db
        .run(move |conn| {
            domain::apply(conn, &secret_box, storage_id, &message, now).map_err(ApiError::from)
        })
        .await?;
    tracing::info!(
        target: "audit",
        storage = storage_id,
        message = %id,
        event,
        applied,
        "message from Nextcloud"
    );
    Ok(())
}

pub async fn public_keys(state: &AppState) -> Result<JwkSet, ApiError> {
    let secret_box = state.secret_box.clone();
    state
        .db
        .run(move |conn| domain::public_keys(conn, &secret_box).map_err(ApiError::from))
        .await
}

/// What the health report's `pairing` group looks at, when the storage was paired.
pub async fn health(state: &AppState, storage_id: i64) -> Result<Option<PairingInput>, ApiError> {
    let status = status(state, storage_id).await?;
    if status.nextcloud_url.is_none() {
        return Ok(None);
    }
    Ok(Some(PairingInput {
        reset_at: status.reset_at,
        stuck: status
            .last_exchange
            .filter(|exchange| exchange.state == ExchangeState::Stuck.as_str())
            .map(|exchange| {
                (
                    exchange.event,
                    exchange.attempts,
                    exchange.last_error.unwrap_or_default(),
                )
            }),
    }))
}
