//! The instance's Ed25519 signing key: created on first use (once across replicas), its seed
//! sealed at rest with the service's secret box. It signs pairing codes and peer messages; its
//! public half is what the instance publishes at `/.well-known/jwks.json`.

use base64::{engine::general_purpose::STANDARD, Engine};
use diesel::prelude::*;
use service_kit::{
    crypto::{random_alphanumeric, random_bytes, SecretBox},
    db::{serialized_transaction, AnyConnection, QueryOnBackend},
};
use storage_protocol::pairing::{JwkSet, SigningKey};

use crate::schema::pairing_keys;

/// Creating the first key runs once across replicas ("PAIR").
const KEY_LOCK: i64 = 0x5041_4952;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    /// The sealed seed does not open: the service's secret key changed since it was made.
    #[error("the pairing key {0} cannot be opened with this secret key")]
    Sealed(String),
}

#[derive(Debug, Clone, Queryable)]
struct KeyRow {
    kid: String,
    seed_sealed: String,
}

fn rows(conn: &mut AnyConnection) -> QueryResult<Vec<KeyRow>> {
    pairing_keys::table
        .select((pairing_keys::kid, pairing_keys::seed_sealed))
        .order((pairing_keys::created_at, pairing_keys::kid))
        .load_on(conn)
}

fn open(secret_box: &SecretBox, row: &KeyRow) -> Result<SigningKey, KeyError> {
    let sealed = || KeyError::Sealed(row.kid.clone());
    let seed = secret_box.open(&row.seed_sealed).map_err(|_| sealed())?;
    let seed: [u8; 32] = STANDARD
        .decode(seed)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(sealed)?;
    Ok(SigningKey::from_seed(&row.kid, &seed))
}

/// The key that signs: the oldest, or a new one named `<kid_prefix>-<random>` when there is
/// none yet, created at `now` (unix ms).
pub fn signing_key(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    kid_prefix: &str,
    now: i64,
) -> Result<SigningKey, KeyError> {
    serialized_transaction(conn, KEY_LOCK, |conn| {
        if let Some(row) = rows(conn)?.first() {
            return open(secret_box, row);
        }
        let kid = format!("{kid_prefix}-{}", random_alphanumeric(12).to_lowercase());
        let seed: [u8; 32] = random_bytes();
        diesel::insert_into(pairing_keys::table)
            .values((
                pairing_keys::kid.eq(&kid),
                pairing_keys::seed_sealed.eq(secret_box.seal(&STANDARD.encode(seed))),
                pairing_keys::created_at.eq(now),
            ))
            .execute_on(conn)?;
        Ok(SigningKey::from_seed(&kid, &seed))
    })
}

/// The public halves of the instance's keys (none before the first is needed).
pub fn public_keys(conn: &mut AnyConnection, secret_box: &SecretBox) -> Result<JwkSet, KeyError> {
    let keys = rows(conn)?
        .iter()
        .map(|row| open(secret_box, row).map(|key| key.public_jwk()))
        .collect::<Result<_, _>>()?;
    Ok(JwkSet { keys })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::test_db;
    use service_kit::crypto::SecretKey;

    #[test]
    fn the_first_key_is_made_once_and_published() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        let secret_box = SecretKey::generate().secret_box();
        assert!(public_keys(conn, &secret_box).unwrap().keys.is_empty());
        let first = signing_key(conn, &secret_box, "op", 1).unwrap();
        assert!(first.kid().starts_with("op-"));
        let again = signing_key(conn, &secret_box, "op", 2).unwrap();
        assert_eq!(again.kid(), first.kid());
        assert_eq!(again.public_jwk(), first.public_jwk());
        assert_eq!(
            public_keys(conn, &secret_box).unwrap().keys,
            vec![first.public_jwk()]
        );
        let stored: Vec<String> = pairing_keys::table
            .select(pairing_keys::seed_sealed)
            .load_on(conn)
            .unwrap();
        assert!(
            stored[0].starts_with("v1.") && STANDARD.decode(&stored[0]).is_err(),
            "the seed is stored sealed with the secret box"
        );
        // Another secret key cannot open the seed, and says which key it could not open.
        let other = SecretKey::generate().secret_box();
        assert!(matches!(
            signing_key(conn, &other, "op", 3),
            Err(KeyError::Sealed(kid)) if kid == first.kid()
        ));
    }
}
