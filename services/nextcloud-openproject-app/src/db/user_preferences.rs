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

/// Sets `key` to `value` for `uid`: update, else insert; an insert that lost a race to a
/// concurrent one becomes an update.
pub fn set(
    conn: &mut AnyConnection,
    uid: &str,
    app: &str,
    key: &str,
    value: &str,
) -> QueryResult<()> {
    let update = |conn: &mut AnyConnection| {
        diesel::update(user_preferences::table.find((uid, app, key)))
            .set(user_preferences::value.eq(value))
            .execute_on(conn)
    };
    if update(conn)? > 0 {
        return Ok(());
    }
    let inserted = diesel::insert_into(user_preferences::table)
        .values((
            user_preferences::uid.eq(uid),
            user_preferences::app.eq(app),
            user_preferences::config_key.eq(key),
            user_preferences::value.eq(value),
        ))
        .execute_on(conn);
    match inserted {
        Err(e) if service_kit::db::is_unique_violation(&e) => update(conn).map(drop),
        other => other.map(drop),
    }
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
