//! Pairing by one code (Extension, issue 20), OpenProject's half: the instance's signing key,
//! created on first use and kept sealed; the codes, whose nonces are stored as digests; and the
//! exchange that uses a code up.

use peer_link::{
    inbox,
    keys::{self, KeyError},
    outbox,
};
use service_kit::crypto::{digest, random_urlsafe, SecretBox};
use storage_protocol::{
    pairing::{
        Jwk, JwkSet, PairingCode, PairingExchange, PairingExchangeAnswer, PeerEvent, PeerMessage,
        Refusal, SigningError, CODE_TTL_SECS, NEXTCLOUD_MESSAGES_PATH,
    },
    storages::{normalize_host, OAuthClientCredentialsWrite},
};

use super::storages::{self, IssuedApplication, StorageError};
use crate::db::{
    oauth_client_credentials::OAuthClientCredentials,
    pairing::{self, NewCode, PeerRow},
    storages::Storage,
    Conn,
};

/// OpenProject's key ids: `op-<random>`.
pub const KID_PREFIX: &str = "op";

#[derive(Debug, thiserror::Error)]
pub enum PairingError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// The code does not authenticate the exchange.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The code is for a storage at another host than the Nextcloud that redeems it.
    #[error("the pairing code is for the storage at {storage_host}")]
    OtherHost { storage_host: String },
    /// Nextcloud's values break a rule of the manual path's step 4.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A message about a storage that is not paired (or whose Nextcloud reset the integration).
    #[error("the storage is not paired with Nextcloud")]
    NotPaired,
    /// A message OpenProject never receives (one of its own events).
    #[error("a {0} message is not for OpenProject")]
    NotForOpenProject(&'static str),
}

/// The outbox's and inbox's name for the Nextcloud paired with `storage_id`.
pub fn peer_name(storage_id: i64) -> String {
    format!("storage:{storage_id}")
}

/// A pairing code and when it stops working (unix ms).
#[derive(Debug)]
pub struct IssuedCode {
    pub code: PairingCode,
    pub expires_at: i64,
}

/// A code pairing `storage_id` with the Nextcloud that redeems it, from OpenProject at
/// `issuer`, issued by the admin `admin_id` at `now` (unix ms).
pub fn issue_code(
    conn: &mut Conn,
    secret_box: &SecretBox,
    issuer: &str,
    (storage_id, admin_id): (i64, i64),
    now: i64,
) -> Result<IssuedCode, PairingError> {
    let key = keys::signing_key(conn, secret_box, KID_PREFIX, now)?;
    let nonce = random_urlsafe(32);
    let expires_at = now + CODE_TTL_SECS * 1000;
    let code = NewCode {
        nonce_digest: &digest(&nonce),
        storage_id,
        issued_by: admin_id,
    };
    pairing::insert_code(conn, &code, now, expires_at)?;
    let code = PairingCode::issue(&key, issuer, storage_id, &nonce, now / 1000)?;
    Ok(IssuedCode { code, expires_at })
}

/// The public halves of the instance's keys (none before the first code).
pub fn public_keys(conn: &mut Conn, secret_box: &SecretBox) -> Result<JwkSet, PairingError> {
    Ok(keys::public_keys(conn, secret_box)?)
}

/// Nextcloud's half of the exchange, at `now` (unix ms): the code must verify against this
/// instance's keys as issued by `issuer` and be unused; then, in one transaction, the code is
/// used up, Nextcloud's OAuth values are stored as step 4 would store them, a new OAuth
/// application replaces the storage's (step 2's values, answered once) and Nextcloud's key is
/// kept for its later messages.
pub fn exchange(
    conn: &mut Conn,
    secret_box: &SecretBox,
    issuer: &str,
    request: &PairingExchange,
    now: i64,
) -> Result<PairingExchangeAnswer, PairingError> {
    let keys = public_keys(conn, secret_box)?;
    let claims = PairingCode(request.code.clone()).verify(&keys, issuer, now / 1000)?;
    let public_key = serde_json::to_string(&request.nextcloud_key)
        .map_err(|_| PairingError::Refused(Refusal::Malformed))?;
    service_kit::db::write_transaction(conn, |conn| {
        let issued_by = pairing::consume_code(conn, &digest(&claims.jti), claims.storage_id, now)?
            .ok_or(Refusal::Used)?;
        let storage = Storage::find(conn, claims.storage_id)?.ok_or(Refusal::Used)?;
        let storage_host = storage.host.clone().unwrap_or_default();
        if normalize_host(&request.nextcloud_url).as_deref() != Some(storage_host.as_str()) {
            return Err(PairingError::OtherHost { storage_host });
        }
        let values = OAuthClientCredentialsWrite::new(&request.client_id, &request.client_secret);
        storages::set_client_credentials(conn, secret_box, storage.id, &values, now)?;
        // Owned by the admin who issued the code; if they are gone, by the storage's creator.
        let owner = issued_by.or(storage.creator_id);
        let issued = storages::replace_application(conn, &storage, owner, now)?;
        pairing::upsert_peer(conn, storage.id, &request.nextcloud_url, &public_key, now)?;
        // Messages still waiting were for the Nextcloud paired before.
        outbox::discard(conn, &peer_name(storage.id))?;
        Ok(PairingExchangeAnswer {
            storage_id: storage.id,
            client_id: issued.application.client_id.clone(),
            client_secret: issued.client_secret.expose().to_string(),
        })
    })
}

/// The storage's Nextcloud, while it is paired (not reset).
pub fn paired_peer(conn: &mut Conn, storage_id: i64) -> diesel::QueryResult<Option<PeerRow>> {
    Ok(pairing::find_peer(conn, storage_id)?.filter(|peer| peer.reset_at.is_none()))
}

/// The key the paired Nextcloud signs its messages with, as a set to verify them against.
pub fn peer_keys(peer: &PeerRow) -> Result<JwkSet, Refusal> {
    let key: Jwk = serde_json::from_str(&peer.public_key).map_err(|_| Refusal::Malformed)?;
    Ok(JwkSet { keys: vec![key] })
}

/// Queues `event` for the storage's Nextcloud when it is paired. Run in the transaction of the
/// change it tells.
fn send(
    conn: &mut Conn,
    secret_box: &SecretBox,
    storage_id: i64,
    event: &PeerEvent,
    now: i64,
) -> diesel::QueryResult<()> {
    let Some(peer) = paired_peer(conn, storage_id)? else {
        return Ok(());
    };
    let destination = outbox::Destination {
        peer: peer_name(storage_id),
        peer_url: peer.nextcloud_url,
        path: NEXTCLOUD_MESSAGES_PATH.to_string(),
    };
    outbox::enqueue(conn, secret_box, &destination, event, now).map(drop)
}

/// "Replace OpenProject OAuth values": a new application, whose values a paired Nextcloud is
/// sent in the same transaction.
pub fn replace_application(
    conn: &mut Conn,
    secret_box: &SecretBox,
    storage: &Storage,
    owner_id: i64,
    now: i64,
) -> Result<IssuedApplication, StorageError> {
    service_kit::db::write_transaction(conn, |conn| {
        let issued = storages::replace_application(conn, storage, Some(owner_id), now)?;
        let event = PeerEvent::OAuthValuesReplaced {
            client_id: issued.application.client_id.clone(),
            client_secret: issued.client_secret.expose().to_string(),
        };
        send(conn, secret_box, storage.id, &event, now)?;
        Ok(issued)
    })
}

/// Deletes the storage; a paired Nextcloud is told, and resets its integration.
pub fn delete_storage(
    conn: &mut Conn,
    secret_box: &SecretBox,
    storage_id: i64,
    now: i64,
) -> Result<(), StorageError> {
    service_kit::db::write_transaction(conn, |conn| {
        send(
            conn,
            secret_box,
            storage_id,
            &PeerEvent::StorageDeleted,
            now,
        )?;
        storages::delete(conn, storage_id)
    })
}

/// Applies a verified message from the storage's Nextcloud once: `false` when its id was
/// applied before. Nextcloud's new OAuth values are stored as step 4 stores them (users connect
/// again); a reset there leaves the storage without Nextcloud's values, marked as reset.
pub fn apply(
    conn: &mut Conn,
    secret_box: &SecretBox,
    storage_id: i64,
    message: &PeerMessage,
    now: i64,
) -> Result<bool, PairingError> {
    service_kit::db::write_transaction(conn, |conn| {
        if paired_peer(conn, storage_id)?.is_none() {
            return Err(PairingError::NotPaired);
        }
        let peer = peer_name(storage_id);
        if !inbox::accept(conn, &peer, &message.jti, now)? {
            return Ok(false);
        }
        match &message.event {
            PeerEvent::OAuthValuesReplaced {
                client_id,
                client_secret,
            } => {
                let values = OAuthClientCredentialsWrite::new(client_id, client_secret);
                storages::set_client_credentials(conn, secret_box, storage_id, &values, now)?;
            }
            PeerEvent::IntegrationReset => {
                OAuthClientCredentials::delete_for_storage(conn, storage_id)?;
                pairing::mark_reset(conn, storage_id, now)?;
                outbox::discard(conn, &peer)?;
            }
            event @ PeerEvent::StorageDeleted => {
                return Err(PairingError::NotForOpenProject(event.type_name()));
            }
        }
        Ok(true)
    })
}
