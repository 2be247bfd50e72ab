//! Browser sessions: the cookie carries 32 random bytes (43 url-safe characters); the database
//! keeps only their digest.

use service_kit::{auth::NewSession, crypto, db::AnyConnection};

use crate::db::{sessions, users::User};

/// Sessions end this long after login.
pub const SESSION_LIFETIME_MILLIS: i64 = 8 * 60 * 60 * 1000;

/// A new session for the user: the cookie value.
pub fn start(conn: &mut AnyConnection, user_id: i64, now: i64) -> diesel::QueryResult<String> {
    let session = NewSession::starting(now, SESSION_LIFETIME_MILLIS);
    sessions::delete_expired(conn, session.created_at)?;
    sessions::insert(conn, user_id, &session)?;
    Ok(session.cookie_value)
}

/// The user of the live session with this cookie value.
pub fn resolve(conn: &mut AnyConnection, id: &str, now: i64) -> diesel::QueryResult<Option<User>> {
    sessions::find_live_user(conn, &crypto::digest(id), now)
}

pub fn end(conn: &mut AnyConnection, id: &str) -> diesel::QueryResult<()> {
    sessions::delete(conn, &crypto::digest(id)).map(drop)
}
