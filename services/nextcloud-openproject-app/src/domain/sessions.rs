//! Browser sessions: the cookie carries 32 random bytes (43 url-safe characters); the database
//! keeps only their digest.

use service_kit::{auth::NewSession, crypto, db::AnyConnection};

use crate::db::sessions;

/// Sessions end this long after login.
pub const SESSION_LIFETIME_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// A new session for `uid` from `now` (unix ms): the cookie value and its expiry (unix ms).
pub fn start(conn: &mut AnyConnection, uid: &str, now: i64) -> diesel::QueryResult<(String, i64)> {
    let session = NewSession::starting(now, SESSION_LIFETIME_MILLIS);
    sessions::delete_expired(conn, session.created_at)?;
    sessions::insert(conn, uid, &session)?;
    Ok((session.cookie_value, session.expires_at))
}

/// The uid and expiry of the session with this cookie value, when live at `now` (unix ms).
pub fn resolve(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> diesel::QueryResult<Option<(String, i64)>> {
    sessions::find_live(conn, &crypto::digest(id), now)
}

pub fn end(conn: &mut AnyConnection, id: &str) -> diesel::QueryResult<()> {
    sessions::delete(conn, &crypto::digest(id)).map(drop)
}
