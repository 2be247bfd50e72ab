//! The rules of `GET APP/op-oauth-url` and `GET APP/oauth-redirect`
//! (nextcloud-openproject-app.md §4): the new state and verifier, what the redirect must find
//! stored, and where the browser goes on; `flows::openproject_connection` runs the exchange.

use serde::Deserialize;
use serde_json::Value;
use service_kit::{
    crypto::{self, constant_time_eq, SecretBox},
    db::AnyConnection,
};
use storage_protocol::oauth::openproject as op_oauth;

use super::{ConnectionError, DASHBOARD_PATH, FILES_PATH, PERSONAL_SETTINGS_PATH};
use crate::domain::{
    preferences::{self, keys, PreferenceError},
    settings::AdminSettings,
    setup,
};

/// The OAuth error message when the redirect's preconditions fail (§4 step 1).
pub const EXCHANGE_PRECONDITIONS_FAILED: &str = "Error during OAuth exchanges";

/// `GET APP/op-oauth-url`: a new state (32 lowercase hex characters) and PKCE verifier (128
/// base64url characters from 96 random bytes) stored for the user, and OpenProject's authorize
/// URL carrying the state and the S256 challenge.
pub fn start_authorization(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    redirect_uri: &str,
    uid: &str,
) -> Result<String, ConnectionError> {
    if !setup::check(conn, secret_box)?.config_status_without_project_folder {
        return Err(ConnectionError::AdminConfigNotValid);
    }
    let settings = AdminSettings::load(conn, secret_box)?;
    let state = crypto::random_hex(16);
    let verifier = crypto::random_urlsafe(96);
    service_kit::db::write_transaction(conn, |conn| {
        preferences::set(conn, secret_box, uid, keys::OAUTH_STATE, &state)?;
        preferences::set(conn, secret_box, uid, keys::CODE_VERIFIER, &verifier)
    })?;
    Ok(op_oauth::authorize_url(
        &settings.openproject_instance_url,
        &settings.openproject_client_id,
        redirect_uri,
        &state,
        &oauth_provider::s256_challenge(&verifier),
    ))
}

/// The query of `GET APP/oauth-redirect`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RedirectParams {
    pub code: Option<String>,
    pub state: Option<String>,
    /// OpenProject's `error` when the user denied or the request was refused.
    pub error: Option<String>,
}

/// What the redirect found stored, read and cleared in one step.
pub struct FlowState {
    pub starting_page: Option<String>,
    pub state: Option<String>,
    pub verifier: Option<String>,
    pub settings: AdminSettings,
}

impl FlowState {
    /// Whether the code may be exchanged: the client is configured and the state is the one
    /// stored; then the verifier to send, when it is well-formed.
    pub fn exchangeable_verifier(&self, given_state: Option<&str>) -> Option<String> {
        let settings = &self.settings;
        let state_matches = match (self.state.as_deref(), given_state) {
            (Some(stored), Some(given)) => !stored.is_empty() && constant_time_eq(stored, given),
            _ => false,
        };
        let preconditions = !settings.openproject_client_id.is_empty()
            && settings.openproject_client_secret.expose().len() >= 10
            && state_matches;
        self.verifier
            .clone()
            .filter(|v| is_valid_verifier(v))
            .filter(|_| preconditions)
    }
}

/// Reads and clears the journey's state and verifier. Run it in the user's serialized
/// transaction ([`super::connection_lock`]): of two redirects carrying the same state, only one finds
/// it.
pub fn take_flow_state(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    uid: &str,
) -> Result<FlowState, ConnectionError> {
    let starting_page = preferences::get(conn, secret_box, uid, keys::OAUTH_JOURNEY_STARTING_PAGE)?;
    let state = preferences::take(conn, secret_box, uid, keys::OAUTH_STATE)?;
    // A verifier sealed with another key is as good as none.
    let verifier =
        preferences::take(conn, secret_box, uid, keys::CODE_VERIFIER).or_else(|e| match e {
            PreferenceError::Sealed(_) => Ok(None),
            other => Err(other),
        })?;
    Ok(FlowState {
        starting_page,
        state,
        verifier,
        settings: AdminSettings::load(conn, secret_box)?,
    })
}

/// The redirect's `error` parameter as a reason, when it looks like an OAuth error code.
pub fn denial_reason(error: Option<&str>) -> String {
    match error {
        Some(code)
            if !code.is_empty()
                && code.len() <= 64
                && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            code.to_string()
        }
        _ => "no authorization code".to_string(),
    }
}

/// `^[A-Za-z0-9\-._~]{43,128}$`
fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Where the journey started (`oauth_journey_starting_page`, a JSON object with `page`).
pub fn starting_page_location(stored: Option<&str>) -> String {
    let page: Value = stored
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    match page.get("page").and_then(Value::as_str) {
        Some("dashboard") => DASHBOARD_PATH.to_string(),
        Some("settings") => PERSONAL_SETTINGS_PATH.to_string(),
        Some("files") => {
            let file = page.get("file");
            let text = |key: &str| {
                file.and_then(|f| f.get(key))
                    .or_else(|| page.get(key))
                    .and_then(Value::as_str)
            };
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            if let Some(dir) = text("dir") {
                query.append_pair("dir", dir);
            }
            if let Some(name) = text("name").or_else(|| text("scrollto")) {
                query.append_pair("scrollto", name);
            }
            let query = query.finish();
            if query.is_empty() {
                FILES_PATH.to_string()
            } else {
                format!("{FILES_PATH}?{query}")
            }
        }
        _ => FILES_PATH.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_pages() {
        assert_eq!(starting_page_location(None), FILES_PATH);
        assert_eq!(
            starting_page_location(Some(r#"{"page":"settings"}"#)),
            PERSONAL_SETTINGS_PATH
        );
        assert_eq!(
            starting_page_location(Some(r#"{"page":"dashboard"}"#)),
            DASHBOARD_PATH
        );
        assert_eq!(
            starting_page_location(Some(
                r#"{"page":"files","file":{"dir":"/a b","name":"x.pdf"}}"#
            )),
            "/index.php/apps/files/?dir=%2Fa+b&scrollto=x.pdf"
        );
        assert_eq!(starting_page_location(Some("nonsense")), FILES_PATH);
        assert_eq!(
            starting_page_location(Some(r#"{"page":"spreed"}"#)),
            FILES_PATH
        );
    }

    #[test]
    fn verifiers_and_denials() {
        assert!(is_valid_verifier(&crypto::random_urlsafe(96)));
        assert_eq!(crypto::random_urlsafe(96).len(), 128);
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(!is_valid_verifier(&format!("{}=", "a".repeat(43))));
        assert_eq!(denial_reason(Some("access_denied")), "access_denied");
        assert_eq!(denial_reason(Some("<b>")), "no authorization code");
        assert_eq!(denial_reason(None), "no authorization code");
    }
}
