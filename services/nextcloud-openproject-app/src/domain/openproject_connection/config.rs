//! The rules of `PUT APP/config` (nextcloud-openproject-app.md §4): the body and what the
//! request did; and what the personal settings page shows. `flows::openproject_connection`
//! stores the preferences, connects and disconnects.

use serde_json::Value;
use service_kit::{crypto::SecretBox, db::AnyConnection};
use storage_protocol::integration_app::{messages, APP_ID};

use super::ConnectionError;
use crate::{
    db::user_preferences,
    domain::{
        preferences::{self, keys, PROTECTED_KEYS},
        setup,
    },
};

/// A validated `PUT APP/config` body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigChanges {
    /// `Some("")` disconnects; `Some(token)` connects with a personal access token.
    pub token: Option<String>,
    /// Other keys in request order; `None` deletes.
    pub values: Vec<(String, Option<String>)>,
}

/// Longest preference key accepted (Nextcloud's limit).
const MAX_KEY_LEN: usize = 64;

/// Parses `{"values": {…}}`: strings (trimmed), booleans as `"1"`/`"0"`, numbers as text,
/// `null` deletes; the connection and flow-state keys other than `token` and
/// `oauth_journey_starting_page` are ignored.
pub fn parse_config(body: &[u8]) -> Result<ConfigChanges, String> {
    let invalid = || messages::INVALID_SETTINGS.to_string();
    let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid());
    };
    let Some(Value::Object(values)) = body.remove("values") else {
        return Err(invalid());
    };
    let mut changes = ConfigChanges::default();
    for (key, value) in values {
        let unstorable = key.contains('\0') || service_kit::input::json_has_nul(&value);
        if key.is_empty() || key.len() > MAX_KEY_LEN || unstorable {
            return Err(invalid());
        }
        if key == keys::TOKEN {
            changes.token = match value {
                Value::String(token) => Some(token.trim().to_string()),
                Value::Null => None,
                _ => return Err(messages::invalid_value(&key)),
            };
            continue;
        }
        if PROTECTED_KEYS.contains(&key.as_str()) {
            continue;
        }
        let stored = match value {
            Value::Null => None,
            Value::Bool(b) => Some(if b { "1" } else { "0" }.to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.trim().to_string()),
            Value::Array(_) | Value::Object(_) => return Err(messages::invalid_value(&key)),
        };
        changes.values.push((key, stored));
    }
    Ok(changes)
}

/// What `PUT APP/config` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOutcome {
    /// No `token` key: 200 `{}`.
    Stored,
    /// `token` `""`: 200 `{"user_name": ""}`.
    Disconnected,
    /// A personal access token that works: 200 `{"user_name": "<First Last>"}`.
    Connected(String),
    /// A personal access token OpenProject refused: 401 `{"error": "<reason>"}`.
    Refused(String),
}

/// What the personal settings page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalState {
    pub connected: bool,
    pub user_name: Option<String>,
    pub admin_config_ok: bool,
    /// `oauth_connection_result` and its error message, shown once: both are deleted here.
    pub result: Option<String>,
    pub error_message: Option<String>,
}

/// Reads the page's state and clears the journey's outcome; run it in one write transaction.
pub fn personal_state(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    uid: &str,
) -> Result<PersonalState, ConnectionError> {
    let plain = |conn: &mut AnyConnection, key| user_preferences::get(conn, uid, APP_ID, key);
    let connected = plain(conn, keys::TOKEN)?.is_some_and(|t| !t.is_empty());
    let user_name = plain(conn, keys::USER_NAME)?.filter(|n| !n.is_empty());
    let result = preferences::take(conn, secret_box, uid, keys::OAUTH_CONNECTION_RESULT)?;
    let error_message =
        preferences::take(conn, secret_box, uid, keys::OAUTH_CONNECTION_ERROR_MESSAGE)?;
    Ok(PersonalState {
        connected,
        user_name,
        admin_config_ok: setup::check(conn, secret_box)?.config_status_without_project_folder,
        result,
        error_message,
    })
}

/// The outcome of a failed OAuth journey in a person's words: the stored message names OAuth
/// error codes (`Error getting OAuth access token. access_denied`), which mean nothing to users.
pub fn readable_connection_error(message: &str) -> String {
    let reason = message
        .strip_prefix("Error getting OAuth access token. ")
        .unwrap_or(message);
    match reason {
        "access_denied" | "no authorization code" => {
            "You cancelled the connection to OpenProject, so nothing changed. Connect again whenever you are ready.".into()
        }
        super::authorize::EXCHANGE_PRECONDITIONS_FAILED => {
            "The connection to OpenProject could not be completed: the attempt expired or was started in another window. Please connect again.".into()
        }
        "invalid_client" | "unauthorized_client" => {
            "OpenProject did not accept this Nextcloud's OAuth settings. Ask your administrator to check the OpenProject integration.".into()
        }
        _ => "The connection to OpenProject failed. Please try again; if it keeps failing, ask your administrator.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_journeys_are_told_in_plain_words() {
        let cancelled =
            readable_connection_error("Error getting OAuth access token. access_denied");
        assert!(
            cancelled.starts_with("You cancelled the connection"),
            "{cancelled}"
        );
        assert_eq!(
            readable_connection_error("Error getting OAuth access token. no authorization code"),
            cancelled
        );
        assert!(readable_connection_error("Error during OAuth exchanges").contains("expired"));
        assert!(
            readable_connection_error("Error getting OAuth access token. invalid_client")
                .contains("administrator")
        );
        let other = readable_connection_error("Error getting OAuth access token. invalid_grant");
        assert!(!other.contains("invalid_grant"), "{other}");
    }

    #[test]
    fn config_bodies() {
        let parsed = parse_config(
            br#"{"values": {"search_enabled": true, "navigation_enabled": false,
                "oauth_journey_starting_page": "{\"page\":\"settings\"}", "user_id": "9",
                "refresh_token": "x", "token": " ", "link_preview_enabled": null, "n": 3}}"#,
        )
        .unwrap();
        assert_eq!(parsed.token.as_deref(), Some(""));
        assert_eq!(
            parsed.values,
            vec![
                ("search_enabled".to_string(), Some("1".to_string())),
                ("navigation_enabled".to_string(), Some("0".to_string())),
                (
                    "oauth_journey_starting_page".to_string(),
                    Some(r#"{"page":"settings"}"#.to_string())
                ),
                ("link_preview_enabled".to_string(), None),
                ("n".to_string(), Some("3".to_string())),
            ]
        );
        assert_eq!(parse_config(b"{}").unwrap_err(), messages::INVALID_SETTINGS);
        assert_eq!(
            parse_config(br#"{"values": {"token": 5}}"#).unwrap_err(),
            "Invalid value for setting: token"
        );
        assert_eq!(
            parse_config(br#"{"values": {"a": [1]}}"#).unwrap_err(),
            "Invalid value for setting: a"
        );
        assert_eq!(
            parse_config(br#"{"values": {}}"#).unwrap(),
            ConfigChanges::default()
        );
    }
}
