//! Pairing by one code (Extension): the instance's signing keys and the codes' nonces.

use diesel::prelude::*;
use service_kit::db::QueryOnBackend;

use super::{
    schema::{pairing_codes, pairing_keys},
    Conn,
};

#[derive(Debug, Clone, Queryable)]
pub struct PairingKeyRow {
    pub kid: String,
    pub seed_sealed: String,
    pub created_at: i64,
}

/// Every signing key, oldest first (the first is the one that signs).
pub fn keys(conn: &mut Conn) -> QueryResult<Vec<PairingKeyRow>> {
    pairing_keys::table
        .order((pairing_keys::created_at, pairing_keys::kid))
        .load_on(conn)
}

pub fn insert_key(conn: &mut Conn, kid: &str, seed_sealed: &str, now: i64) -> QueryResult<()> {
    diesel::insert_into(pairing_keys::table)
        .values((
            pairing_keys::kid.eq(kid),
            pairing_keys::seed_sealed.eq(seed_sealed),
            pairing_keys::created_at.eq(now),
        ))
        .execute_on(conn)
        .map(drop)
}

pub fn insert_code(
    conn: &mut Conn,
    nonce_digest: &str,
    storage_id: i64,
    now: i64,
    expires_at: i64,
) -> QueryResult<()> {
    diesel::insert_into(pairing_codes::table)
        .values((
            pairing_codes::nonce_digest.eq(nonce_digest),
            pairing_codes::storage_id.eq(storage_id),
            pairing_codes::created_at.eq(now),
            pairing_codes::expires_at.eq(expires_at),
        ))
        .execute_on(conn)
        .map(drop)
}

/// Codes past their expiry (unix ms), used or not.
pub fn delete_expired_codes(conn: &mut Conn, now: i64) -> QueryResult<usize> {
    diesel::delete(pairing_codes::table.filter(pairing_codes::expires_at.le(now))).execute_on(conn)
}
