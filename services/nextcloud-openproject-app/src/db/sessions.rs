//! `sessions`: browser sessions, keyed by the SHA-256 digest of the cookie value.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend};

use super::schema::sessions;

pub fn insert(
    conn: &mut AnyConnection,
    id_digest: &str,
    uid: &str,
    now: i64,
    expires_at: i64,
) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_digest.eq(id_digest),
            sessions::uid.eq(uid),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute_on(conn)?;
    Ok(())
}

/// The uid and expiry of a session that has not expired at `now`.
pub fn find_live(
    conn: &mut AnyConnection,
    id_digest: &str,
    now: i64,
) -> QueryResult<Option<(String, i64)>> {
    sessions::table
        .filter(sessions::id_digest.eq(id_digest))
        .filter(sessions::expires_at.gt(now))
        .select((sessions::uid, sessions::expires_at))
        .first_on(conn)
        .optional()
}

pub fn delete(conn: &mut AnyConnection, id_digest: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::id_digest.eq(id_digest))).execute_on(conn)
}

/// Removes sessions that expired before `now`.
pub fn delete_expired(conn: &mut AnyConnection, now: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute_on(conn)
}
