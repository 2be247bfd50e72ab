//! `app_config`: key/value settings per app (Nextcloud's appconfig). Values are plain strings;
//! callers seal secrets before storing them.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend};

use super::schema::app_config;

pub fn get(conn: &mut AnyConnection, app: &str, key: &str) -> QueryResult<Option<String>> {
    app_config::table
        .find((app, key))
        .select(app_config::value)
        .first_on(conn)
        .optional()
}

/// Every key of `app` with its value.
pub fn all(conn: &mut AnyConnection, app: &str) -> QueryResult<Vec<(String, String)>> {
    app_config::table
        .filter(app_config::app.eq(app))
        .select((app_config::config_key, app_config::value))
        .load_on(conn)
}

/// Sets `key` to `value`. Update, then insert when nothing was updated (no `ON CONFLICT`
/// through the connection enum); callers that race on one key run in a serialized transaction.
pub fn set(conn: &mut AnyConnection, app: &str, key: &str, value: &str) -> QueryResult<()> {
    let updated = diesel::update(app_config::table.find((app, key)))
        .set(app_config::value.eq(value))
        .execute_on(conn)?;
    if updated == 0 {
        diesel::insert_into(app_config::table)
            .values((
                app_config::app.eq(app),
                app_config::config_key.eq(key),
                app_config::value.eq(value),
            ))
            .execute_on(conn)?;
    }
    Ok(())
}

pub fn delete(conn: &mut AnyConnection, app: &str, key: &str) -> QueryResult<usize> {
    diesel::delete(app_config::table.find((app, key))).execute_on(conn)
}
