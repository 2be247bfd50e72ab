//! App passwords: 72 random characters, shown once, stored as a SHA-256 digest.

use service_kit::{crypto, db::AnyConnection, time::now_millis};

use crate::db::app_passwords;

pub const APP_PASSWORD_LEN: usize = 72;

/// Creates an app password named `name` for `uid` and returns it (the only time it exists in
/// plain text).
pub fn create(conn: &mut AnyConnection, uid: &str, name: &str) -> diesel::QueryResult<String> {
    let password = crypto::random_alphanumeric(APP_PASSWORD_LEN);
    app_passwords::insert(conn, uid, name, &crypto::digest(&password), now_millis())?;
    Ok(password)
}
