//! Browser sessions: the cookie holds a random id, the table only its digest.

use diesel::prelude::*;
use service_kit::{
    auth::NewSession,
    db::{QueryOnBackend, SelectColumns},
};

use super::{schema::sessions, users::User, Conn};
use crate::db::schema::users;

pub fn insert(conn: &mut Conn, user_id: i64, session: &NewSession) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_digest.eq(&session.id_digest),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(session.created_at),
            sessions::expires_at.eq(session.expires_at),
        ))
        .execute_on(conn)?;
    Ok(())
}

/// The user of an unexpired session.
pub fn find_live_user(conn: &mut Conn, id_digest: &str, now: i64) -> QueryResult<Option<User>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id_digest.eq(id_digest))
        .filter(sessions::expires_at.gt(now))
        .select(User::columns())
        .first_on::<User>(conn)
        .optional()
}

pub fn delete(conn: &mut Conn, id_digest: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.find(id_digest)).execute_on(conn)
}

/// Ends every session of a user (locking, password change by an admin).
pub fn delete_for_user(conn: &mut Conn, user_id: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute_on(conn)
}

pub fn delete_expired(conn: &mut Conn, now: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute_on(conn)
}
