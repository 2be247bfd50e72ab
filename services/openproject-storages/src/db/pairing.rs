//! Pairing by one code (Extension): the codes' nonces and the paired Nextclouds.

use diesel::prelude::*;
use service_kit::db::QueryOnBackend;

use super::{
    schema::{pairing_codes, pairing_peers},
    Conn,
};

/// A code's nonce, issued by the admin `issued_by` for `storage_id`.
pub struct NewCode<'a> {
    pub nonce_digest: &'a str,
    pub storage_id: i64,
    pub issued_by: i64,
}

pub fn insert_code(conn: &mut Conn, code: &NewCode, now: i64, expires_at: i64) -> QueryResult<()> {
    diesel::insert_into(pairing_codes::table)
        .values((
            pairing_codes::nonce_digest.eq(code.nonce_digest),
            pairing_codes::storage_id.eq(code.storage_id),
            pairing_codes::issued_by.eq(code.issued_by),
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

/// Uses up the unexpired, unused code of `storage_id` with this nonce: `Some(issuer)` when this
/// call used it (the issuing admin, if they still exist), `None` when it was used, expired or
/// never issued. One conditional write, so two redemptions cannot both succeed.
pub fn consume_code(
    conn: &mut Conn,
    nonce_digest: &str,
    storage_id: i64,
    now: i64,
) -> QueryResult<Option<Option<i64>>> {
    let unused = pairing_codes::table
        .filter(pairing_codes::nonce_digest.eq(nonce_digest))
        .filter(pairing_codes::storage_id.eq(storage_id))
        .filter(pairing_codes::consumed_at.is_null())
        .filter(pairing_codes::expires_at.gt(now));
    let issued_by = unused
        .select(pairing_codes::issued_by)
        .first_on::<Option<i64>>(conn)
        .optional()?;
    let Some(issued_by) = issued_by else {
        return Ok(None);
    };
    let used = diesel::update(unused)
        .set(pairing_codes::consumed_at.eq(now))
        .execute_on(conn)?;
    Ok((used == 1).then_some(issued_by))
}

/// Records (or replaces) the Nextcloud paired with `storage_id`.
pub fn upsert_peer(
    conn: &mut Conn,
    storage_id: i64,
    nextcloud_url: &str,
    public_key: &str,
    now: i64,
) -> QueryResult<()> {
    diesel::insert_into(pairing_peers::table)
        .values((
            pairing_peers::storage_id.eq(storage_id),
            pairing_peers::nextcloud_url.eq(nextcloud_url),
            pairing_peers::public_key.eq(public_key),
            pairing_peers::paired_at.eq(now),
        ))
        .on_conflict(pairing_peers::storage_id)
        .do_update()
        .set((
            pairing_peers::nextcloud_url.eq(nextcloud_url),
            pairing_peers::public_key.eq(public_key),
            pairing_peers::paired_at.eq(now),
            pairing_peers::reset_at.eq(None::<i64>),
        ))
        .execute_on(conn)
        .map(drop)
}

/// The Nextcloud a storage is paired with.
#[derive(Debug, Clone, Queryable)]
pub struct PeerRow {
    pub storage_id: i64,
    pub nextcloud_url: String,
    /// Its public key, a JWK.
    pub public_key: String,
    pub paired_at: i64,
    /// When it reset the integration (no message goes to it since).
    pub reset_at: Option<i64>,
}

pub fn find_peer(conn: &mut Conn, storage_id: i64) -> QueryResult<Option<PeerRow>> {
    pairing_peers::table
        .find(storage_id)
        .first_on(conn)
        .optional()
}

/// Nextcloud reset the integration at `now`.
pub fn mark_reset(conn: &mut Conn, storage_id: i64, now: i64) -> QueryResult<()> {
    diesel::update(pairing_peers::table.find(storage_id))
        .set(pairing_peers::reset_at.eq(now))
        .execute_on(conn)
        .map(drop)
}
