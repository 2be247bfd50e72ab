//! The integration app's user preferences (nextcloud-openproject-app.md §1): the user's
//! OpenProject connection (`token` and `refresh_token` sealed at rest), flow state and toggles.

use service_kit::{
    crypto::{OpenError, SecretBox},
    db::AnyConnection,
};
use storage_protocol::integration_app::APP_ID;

use crate::db::user_preferences;

/// The preference keys this service acts on (§1).
pub mod keys {
    pub const TOKEN: &str = "token";
    pub const REFRESH_TOKEN: &str = "refresh_token";
    pub const TOKEN_EXPIRES_AT: &str = "token_expires_at";
    pub const USER_ID: &str = "user_id";
    pub const USER_NAME: &str = "user_name";
    pub const LOGIN: &str = "login";
    pub const OAUTH_STATE: &str = "oauth_state";
    pub const CODE_VERIFIER: &str = "code_verifier";
    pub const OAUTH_JOURNEY_STARTING_PAGE: &str = "oauth_journey_starting_page";
    pub const OAUTH_CONNECTION_RESULT: &str = "oauth_connection_result";
    pub const OAUTH_CONNECTION_ERROR_MESSAGE: &str = "oauth_connection_error_message";
}

/// Preferences stored sealed: the user's OpenProject tokens and the PKCE verifier.
pub const SEALED_KEYS: [&str; 3] = [keys::TOKEN, keys::REFRESH_TOKEN, keys::CODE_VERIFIER];

/// What "clearing a user's OpenProject connection" deletes.
pub const CONNECTION_KEYS: [&str; 6] = [
    keys::TOKEN,
    keys::REFRESH_TOKEN,
    keys::TOKEN_EXPIRES_AT,
    keys::USER_ID,
    keys::USER_NAME,
    keys::LOGIN,
];

/// Keys `PUT /config` never writes (hardening, §4): the connection and the flow state, except
/// `token` (handled on its own) and `oauth_journey_starting_page`.
pub const PROTECTED_KEYS: [&str; 9] = [
    keys::REFRESH_TOKEN,
    keys::TOKEN_EXPIRES_AT,
    keys::USER_ID,
    keys::USER_NAME,
    keys::LOGIN,
    keys::OAUTH_STATE,
    keys::CODE_VERIFIER,
    keys::OAUTH_CONNECTION_RESULT,
    keys::OAUTH_CONNECTION_ERROR_MESSAGE,
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

/// Several preferences of `uid` as one consistent read (a writer's transaction is seen whole or
/// not at all); a value sealed with another key reads as absent.
pub fn get_consistent(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    uid: &str,
    keys: &[&str],
) -> Result<std::collections::HashMap<String, String>, PreferenceError> {
    let mut values = std::collections::HashMap::new();
    for (key, value) in user_preferences::some_of_user(conn, uid, APP_ID, keys)? {
        let value = if SEALED_KEYS.contains(&key.as_str()) {
            match secret_box.open(&value) {
                Ok(opened) => opened,
                Err(_) => continue,
            }
        } else {
            value
        };
        values.insert(key, value);
    }
    Ok(values)
}

/// Deletes one preference of `uid`.
pub fn delete(conn: &mut AnyConnection, uid: &str, key: &str) -> diesel::QueryResult<usize> {
    user_preferences::delete_keys(conn, Some(uid), APP_ID, &[key])
}

/// Reads and deletes a preference (values shown once).
pub fn take(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    uid: &str,
    key: &str,
) -> Result<Option<String>, PreferenceError> {
    let value = get(conn, secret_box, uid, key)?;
    delete(conn, uid, key)?;
    Ok(value)
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
