//! Personal API tokens (Extension): one per user, stored as a SHA-256 digest.

use diesel::prelude::*;
use service_kit::db::{QueryOnBackend, SelectColumns};

use super::{schema::api_tokens, users::User, Conn};
use crate::db::schema::users;

/// Replaces the user's token in one statement: concurrent replacements end with one of them,
/// never with a duplicate-key failure.
pub fn replace(conn: &mut Conn, user_id: i64, token_digest: &str, now: i64) -> QueryResult<()> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(user_id),
            api_tokens::token_digest.eq(token_digest),
            api_tokens::created_at.eq(now),
        ))
        .on_conflict(api_tokens::user_id)
        .do_update()
        .set((
            api_tokens::token_digest.eq(token_digest),
            api_tokens::created_at.eq(now),
        ))
        .execute_on(conn)
        .map(drop)
}

pub fn delete(conn: &mut Conn, user_id: i64) -> QueryResult<usize> {
    diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(user_id))).execute_on(conn)
}

/// The owner of the token with this digest.
pub fn find_user(conn: &mut Conn, token_digest: &str) -> QueryResult<Option<User>> {
    api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_digest.eq(token_digest))
        .select(User::columns())
        .first_on::<User>(conn)
        .optional()
}
