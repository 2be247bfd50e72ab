//! Pairing by one code (Extension, issue 20), OpenProject's half: the instance's signing key,
//! created on first use and kept sealed, and the codes, whose nonces are stored as digests for
//! the exchange to use up.

use base64::{engine::general_purpose::STANDARD, Engine};
use service_kit::{
    crypto::{digest, random_alphanumeric, random_bytes, random_urlsafe, SecretBox},
    db::serialized_transaction,
};
use storage_protocol::pairing::{JwkSet, PairingCode, SigningError, SigningKey, CODE_TTL_SECS};

use crate::db::{pairing, Conn};

/// Creating the first key runs once across replicas ("PAIR").
const PAIRING_KEY_LOCK: i64 = 0x5041_4952;

#[derive(Debug, thiserror::Error)]
pub enum PairingError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    /// The sealed seed does not open: the service's secret key changed since it was made.
    #[error("the pairing key {0} cannot be opened with this secret key")]
    SealedKey(String),
    #[error(transparent)]
    Signing(#[from] SigningError),
}

/// A pairing code and when it stops working (unix ms).
#[derive(Debug)]
pub struct IssuedCode {
    pub code: PairingCode,
    pub expires_at: i64,
}

fn open_key(
    secret_box: &SecretBox,
    row: &pairing::PairingKeyRow,
) -> Result<SigningKey, PairingError> {
    let sealed = || PairingError::SealedKey(row.kid.clone());
    let seed = secret_box.open(&row.seed_sealed).map_err(|_| sealed())?;
    let seed: [u8; 32] = STANDARD
        .decode(seed)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(sealed)?;
    Ok(SigningKey::from_seed(&row.kid, &seed))
}

/// The key that signs: the oldest, or a new one when there is none yet.
fn signing_key(
    conn: &mut Conn,
    secret_box: &SecretBox,
    now: i64,
) -> Result<SigningKey, PairingError> {
    serialized_transaction(conn, PAIRING_KEY_LOCK, |conn| {
        if let Some(row) = pairing::keys(conn)?.first() {
            return open_key(secret_box, row);
        }
        let kid = format!("op-{}", random_alphanumeric(12).to_lowercase());
        let seed: [u8; 32] = random_bytes();
        pairing::insert_key(conn, &kid, &secret_box.seal(&STANDARD.encode(seed)), now)?;
        Ok(SigningKey::from_seed(&kid, &seed))
    })
}

/// A code pairing `storage_id` with the Nextcloud that redeems it, from OpenProject at
/// `issuer`, issued at `now` (unix ms).
pub fn issue_code(
    conn: &mut Conn,
    secret_box: &SecretBox,
    issuer: &str,
    storage_id: i64,
    now: i64,
) -> Result<IssuedCode, PairingError> {
    let key = signing_key(conn, secret_box, now)?;
    let nonce = random_urlsafe(32);
    let expires_at = now + CODE_TTL_SECS * 1000;
    pairing::insert_code(conn, &digest(&nonce), storage_id, now, expires_at)?;
    let code = PairingCode::issue(&key, issuer, storage_id, &nonce, now / 1000)?;
    Ok(IssuedCode { code, expires_at })
}

/// The public halves of the instance's keys (none before the first code).
pub fn public_keys(conn: &mut Conn, secret_box: &SecretBox) -> Result<JwkSet, PairingError> {
    let keys = pairing::keys(conn)?
        .iter()
        .map(|row| open_key(secret_box, row).map(|key| key.public_jwk()))
        .collect::<Result<_, _>>()?;
    Ok(JwkSet { keys })
}
