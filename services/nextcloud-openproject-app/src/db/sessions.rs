//! `sessions`: browser sessions, keyed by the SHA-256 digest of the cookie value.

use diesel::prelude::*;
use service_kit::{
    auth::NewSession,
    db::{AnyConnection, QueryOnBackend},
};

use super::schema::sessions;

pub fn insert(conn: &mut AnyConnection, uid: &str, session: &NewSession) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_digest.eq(&session.id_digest),
            sessions::uid.eq(uid),
            sessions::created_at.eq(session.created_at),
            sessions::expires_at.eq(session.expires_at),
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
