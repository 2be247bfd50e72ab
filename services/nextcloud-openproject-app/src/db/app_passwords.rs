//! `app_passwords`: named per user, stored as the SHA-256 digest of the password only.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend};

use super::schema::{app_passwords, users};

/// Inserts an app password and returns its id.
pub fn insert(
    conn: &mut AnyConnection,
    uid: &str,
    name: &str,
    token_digest: &str,
    now: i64,
) -> QueryResult<i64> {
    diesel::insert_into(app_passwords::table)
        .values((
            app_passwords::uid.eq(uid),
            app_passwords::name.eq(name),
            app_passwords::token_digest.eq(token_digest),
            app_passwords::created_at.eq(now),
        ))
        .returning(app_passwords::id)
        .get_result_on(conn)
}

/// The uid owning the app password with this digest, when its owner's id matches `login`
/// case-insensitively.
pub fn owner(
    conn: &mut AnyConnection,
    login: &str,
    token_digest: &str,
) -> QueryResult<Option<String>> {
    app_passwords::table
        .inner_join(users::table)
        .filter(app_passwords::token_digest.eq(token_digest))
        .filter(users::uid_lower.eq(login.to_lowercase()))
        .select(users::uid)
        .first_on(conn)
        .optional()
}

/// Deletes the app passwords of `uid` named `name`; returns how many there were.
pub fn delete_named(conn: &mut AnyConnection, uid: &str, name: &str) -> QueryResult<usize> {
    diesel::delete(
        app_passwords::table
            .filter(app_passwords::uid.eq(uid))
            .filter(app_passwords::name.eq(name)),
    )
    .execute_on(conn)
}

pub fn exists_named(conn: &mut AnyConnection, uid: &str, name: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        app_passwords::table
            .filter(app_passwords::uid.eq(uid))
            .filter(app_passwords::name.eq(name)),
    ))
    .get_result_on(conn)
}
