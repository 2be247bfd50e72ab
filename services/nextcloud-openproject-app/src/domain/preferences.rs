//! The integration app's user preferences (nextcloud-openproject-app.md §1): the user's
//! OpenProject connection (`token` and `refresh_token` sealed at rest), flow state and toggles.

use service_kit::{
    crypto::{OpenError, SecretBox},
    db::AnyConnection,
};
use storage_protocol::integration_app::APP_ID;

use crate::db::user_preferences;

/// Preferences stored sealed: the user's OpenProject tokens.
pub const SEALED_KEYS: [&str; 2] = ["token", "refresh_token"];

/// What "clearing a user's OpenProject connection" deletes.
pub const CONNECTION_KEYS: [&str; 6] = [
    "token",
    "refresh_token",
    "token_expires_at",
    "user_id",
    "user_name",
    "login",
];

#[derive(Debug, thiserror::Error)]
pub enum PreferenceError {
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Sealed(#[from] OpenError),
}

/// Stores a preference of `uid`, sealing the token keys.
pub fn set(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    uid: &str,
    key: &str,
    value: &str,
) -> diesel::QueryResult<()> {
    let stored = if SEALED_KEYS.contains(&key) {
        secret_box.seal(value)
    } else {
        value.to_string()
    };
    user_preferences::set(conn, uid, APP_ID, key, &stored)
}

/// A preference of `uid`, opened when sealed.
pub fn get(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    uid: &str,
    key: &str,
) -> Result<Option<String>, PreferenceError> {
    match user_preferences::get(conn, uid, APP_ID, key)? {
        Some(sealed) if SEALED_KEYS.contains(&key) => Ok(Some(secret_box.open(&sealed)?)),
        other => Ok(other),
    }
}

/// Whose connection to clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose<'a> {
    User(&'a str),
    Everyone,
}

/// Clears the OpenProject connection of one user or of everyone; returns the rows deleted.
/// Nothing is sent to OpenProject (no revocation call, README §2.4).
pub fn clear_openproject_connection(
    conn: &mut AnyConnection,
    whose: Whose<'_>,
) -> diesel::QueryResult<usize> {
    let uid = match whose {
        Whose::User(uid) => Some(uid),
        Whose::Everyone => None,
    };
    user_preferences::delete_keys(conn, uid, APP_ID, &CONNECTION_KEYS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::users::{create, NewUser, UserId};
    use service_kit::crypto::SecretKey;

    fn user(conn: &mut AnyConnection, uid: &str) {
        create(
            conn,
            &NewUser {
                uid: UserId::parse(uid).unwrap(),
                display_name: uid.into(),
                email: None,
                password_hash: "x".into(),
                groups: vec![],
            },
        )
        .unwrap();
    }

    #[test]
    fn tokens_are_sealed_and_connections_cleared() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let secret_box = SecretKey::generate().secret_box();
        for uid in ["ann", "ben"] {
            user(conn, uid);
            for key in CONNECTION_KEYS {
                set(conn, &secret_box, uid, key, &format!("{key}-{uid}")).unwrap();
            }
            set(conn, &secret_box, uid, "search_enabled", "1").unwrap();
        }
        let raw = user_preferences::get(conn, "ann", APP_ID, "token")
            .unwrap()
            .unwrap();
        assert!(!raw.contains("token-ann"));
        assert_eq!(
            get(conn, &secret_box, "ann", "token").unwrap().as_deref(),
            Some("token-ann")
        );
        assert_eq!(
            get(conn, &secret_box, "ann", "user_name")
                .unwrap()
                .as_deref(),
            Some("user_name-ann")
        );
        assert!(matches!(
            get(conn, &SecretKey::generate().secret_box(), "ann", "token"),
            Err(PreferenceError::Sealed(_))
        ));
        // Overwrites in place.
        set(conn, &secret_box, "ann", "login", "again").unwrap();
        assert_eq!(
            get(conn, &secret_box, "ann", "login").unwrap().as_deref(),
            Some("again")
        );

        assert_eq!(
            clear_openproject_connection(conn, Whose::User("ann")).unwrap(),
            6
        );
        assert_eq!(
            user_preferences::of_user(conn, "ann", APP_ID).unwrap(),
            [("search_enabled".to_string(), "1".to_string())]
        );
        assert_eq!(
            user_preferences::of_user(conn, "ben", APP_ID)
                .unwrap()
                .len(),
            7
        );
        assert_eq!(
            clear_openproject_connection(conn, Whose::Everyone).unwrap(),
            6
        );
        assert_eq!(
            user_preferences::of_user(conn, "ben", APP_ID)
                .unwrap()
                .len(),
            1
        );
    }
}
