//! `user_preferences`: key/value settings per user and app (Nextcloud's preferences). Values are
//! plain strings; callers seal secrets before storing them. Rows die with their user.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend};

use super::schema::user_preferences;

pub fn get(
    conn: &mut AnyConnection,
    uid: &str,
    app: &str,
    key: &str,
) -> QueryResult<Option<String>> {
    user_preferences::table
        .find((uid, app, key))
        .select(user_preferences::value)
        .first_on(conn)
        .optional()
}

/// The values of those of `keys` that `uid` has under `app`, read in one statement so that
/// values written together are read together.
pub fn some_of_user(
    conn: &mut AnyConnection,
    uid: &str,
    app: &str,
    keys: &[&str],
) -> QueryResult<Vec<(String, String)>> {
    user_preferences::table
        .filter(user_preferences::uid.eq(uid))
        .filter(user_preferences::app.eq(app))
        .filter(user_preferences::config_key.eq_any(keys))
        .select((user_preferences::config_key, user_preferences::value))
        .load_on(conn)
}

/// Every key of `uid` under `app` with its value, sorted by key.
pub fn of_user(
    conn: &mut AnyConnection,
    uid: &str,
    app: &str,
) -> QueryResult<Vec<(String, String)>> {
    user_preferences::table
        .filter(user_preferences::uid.eq(uid))
        .filter(user_preferences::app.eq(app))
        .select((user_preferences::config_key, user_preferences::value))
        .order(user_preferences::config_key.asc())
        .load_on(conn)
}

/// Sets `key` to `value` for `uid` in one statement, so concurrent writers of the same key
/// neither fail nor abort the caller's transaction.
pub fn set(
    conn: &mut AnyConnection,
    uid: &str,
    app: &str,
    key: &str,
    value: &str,
) -> QueryResult<()> {
    diesel::insert_into(user_preferences::table)
        .values((
            user_preferences::uid.eq(uid),
            user_preferences::app.eq(app),
            user_preferences::config_key.eq(key),
            user_preferences::value.eq(value),
        ))
        .on_conflict((
            user_preferences::uid,
            user_preferences::app,
            user_preferences::config_key,
        ))
        .do_update()
        .set(user_preferences::value.eq(value))
        .execute_on(conn)
        .map(drop)
}

/// Deletes `keys` under `app` for one user, or for every user when `uid` is `None`.
pub fn delete_keys(
    conn: &mut AnyConnection,
    uid: Option<&str>,
    app: &str,
    keys: &[&str],
) -> QueryResult<usize> {
    let rows = user_preferences::table
        .filter(user_preferences::app.eq(app))
        .filter(user_preferences::config_key.eq_any(keys));
    match uid {
        Some(uid) => diesel::delete(rows.filter(user_preferences::uid.eq(uid))).execute_on(conn),
        None => diesel::delete(rows).execute_on(conn),
    }
}
