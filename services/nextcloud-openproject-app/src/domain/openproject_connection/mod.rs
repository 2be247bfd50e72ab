//! A Nextcloud user's connection to OpenProject, with Nextcloud as the OAuth client
//! (oauth.md §5, nextcloud-openproject-app.md §4): the authorize URL with state and PKCE and the
//! code exchange at the redirect ([`authorize`]), the calls to OpenProject's OAuth endpoints
//! ([`crate::peer`]), the stored tokens and the lazy single-flight refresh behind
//! [`openproject_access_token`] ([`tokens`]), and `PUT /config` with personal access tokens and
//! disconnecting ([`config`]).
//!
//! Tokens are sealed at rest (user preferences), the verifier too; nothing secret is logged.

pub mod authorize;
pub mod config;
pub mod tokens;

use service_kit::{
    crypto::{self, SecretBox},
    db::Db,
};
use storage_protocol::storages::nextcloud_urls;

pub use authorize::{finish_authorization, start_authorization, RedirectParams};
pub use config::{
    parse_config, personal_state, readable_connection_error, update_config, ConfigChanges,
    ConfigOutcome,
};
pub use tokens::{openproject_access_token, AccessTokenError};

/// `oauth_connection_result` values.
pub const RESULT_SUCCESS: &str = "success";
pub const RESULT_ERROR: &str = "error";

/// Where each starting page of the OAuth journey is.
pub const DASHBOARD_PATH: &str = "/index.php/apps/dashboard/";
pub const PERSONAL_SETTINGS_PATH: &str = "/index.php/settings/user/openproject";
pub const FILES_PATH: &str = "/index.php/apps/files/";

/// What talking to OpenProject for a user needs.
#[derive(Clone, Copy)]
pub struct OpenProject<'a> {
    pub db: &'a Db,
    pub secret_box: &'a SecretBox,
    /// Built by `service_kit::http_client`: timeouts, no redirects.
    pub http: &'a reqwest::Client,
    /// `NCOA_PUBLIC_URL`, without trailing `/`.
    pub public_url: &'a str,
}

impl OpenProject<'_> {
    /// `<NCOA_PUBLIC_URL>/index.php/apps/integration_openproject/oauth-redirect`.
    pub fn redirect_uri(&self) -> String {
        nextcloud_urls::oauth_redirect_uri(&format!("{}/", self.public_url))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The admin configuration is incomplete (§3.4).
    #[error("the OpenProject admin configuration is not valid")]
    AdminConfigNotValid,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Serializes writes to one user's connection (a per-user PostgreSQL advisory lock; SQLite
/// serializes every writer anyway).
pub(crate) fn connection_lock(uid: &str) -> i64 {
    let digest = crypto::digest(&format!("openproject-connection:{uid}"));
    i64::from_str_radix(&digest[..15], 16).unwrap_or(0)
}
