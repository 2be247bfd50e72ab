//! `users`: uid (as created), its lowercase form (uniqueness and lookups are case-insensitive),
//! display name, email, enabled flag and argon2 password hash.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend, SelectColumns};

use super::schema::users;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct UserRow {
    pub uid: String,
    pub uid_lower: String,
    pub display_name: String,
    pub email: Option<String>,
    pub enabled: bool,
    pub password_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Bytes the user's own files may take; `None` is unlimited.
    pub quota_bytes: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUserRow<'a> {
    pub uid: &'a str,
    pub uid_lower: String,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub enabled: bool,
    pub password_hash: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The user whose id matches `login` case-insensitively.
pub fn find(conn: &mut AnyConnection, login: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::uid_lower.eq(login.to_lowercase()))
        .select(UserRow::columns())
        .first_on::<UserRow>(conn)
        .optional()
}

pub fn insert(conn: &mut AnyConnection, row: &NewUserRow<'_>) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(row)
        .execute_on(conn)?;
    Ok(())
}

/// Replaces the password hash; returns the number of users changed (0 or 1).
pub fn set_password_hash(
    conn: &mut AnyConnection,
    uid: &str,
    password_hash: &str,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::uid.eq(uid)))
        .set((
            users::password_hash.eq(password_hash),
            users::updated_at.eq(now),
        ))
        .execute_on(conn)
}

pub fn set_enabled(
    conn: &mut AnyConnection,
    uid: &str,
    enabled: bool,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::uid.eq(uid)))
        .set((users::enabled.eq(enabled), users::updated_at.eq(now)))
        .execute_on(conn)
}

/// Sets the user's quota (`None`: unlimited); returns the number of users changed (0 or 1).
pub fn set_quota(
    conn: &mut AnyConnection,
    uid: &str,
    quota_bytes: Option<i64>,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::uid.eq(uid)))
        .set((
            users::quota_bytes.eq(quota_bytes),
            users::updated_at.eq(now),
        ))
        .execute_on(conn)
}

/// A user with a placeholder password, for unit tests of what users own.
#[cfg(test)]
pub(crate) fn insert_for_tests(conn: &mut AnyConnection, uid: &str) {
    insert(
        conn,
        &NewUserRow {
            uid,
            uid_lower: uid.to_lowercase(),
            display_name: uid,
            email: None,
            enabled: true,
            password_hash: "x",
            created_at: 0,
            updated_at: 0,
        },
    )
    .expect("test user");
}
