//! The rules of a Nextcloud user's connection to OpenProject, with Nextcloud as the OAuth
//! client (oauth.md §5, nextcloud-openproject-app.md §4): the authorize URL with state and PKCE
//! and what the redirect must find ([`authorize`]), and the `PUT /config` body and the personal
//! settings page's state ([`config`]). The code exchange, the token refresh and connecting or
//! disconnecting run in `flows::openproject_connection`.
//!
//! Tokens are sealed at rest (user preferences), the verifier too; nothing secret is logged.

pub mod authorize;
pub mod config;

use service_kit::crypto;

pub use authorize::{start_authorization, RedirectParams};
pub use config::{
    parse_config, personal_state, readable_connection_error, ConfigChanges, ConfigOutcome,
};

use super::preferences::PreferenceError;

/// The token getter and its context, where the API tests reach them to drive the refresh.
pub use crate::flows::openproject_connection::{
    openproject_access_token, AccessTokenError, OpenProject,
};

/// `oauth_connection_result` values.
pub const RESULT_SUCCESS: &str = "success";
pub const RESULT_ERROR: &str = "error";

/// Where each starting page of the OAuth journey is.
pub const DASHBOARD_PATH: &str = "/index.php/apps/dashboard/";
pub const PERSONAL_SETTINGS_PATH: &str = "/index.php/settings/user/openproject";
pub const FILES_PATH: &str = "/index.php/apps/files/";

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The admin configuration is incomplete (§3.4).
    #[error("the OpenProject admin configuration is not valid")]
    AdminConfigNotValid,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Preference(#[from] PreferenceError),
}

/// Serializes writes to one user's connection (a per-user PostgreSQL advisory lock; SQLite
/// serializes every writer anyway).
pub(crate) fn connection_lock(uid: &str) -> i64 {
    let digest = crypto::digest(&format!("openproject-connection:{uid}"));
    i64::from_str_radix(&digest[..15], 16).unwrap_or(0)
}
