//! A Nextcloud user's connection to OpenProject, with Nextcloud as the OAuth client
//! (oauth.md §5, nextcloud-openproject-app.md §4): the authorize URL stored with its state,
//! the code exchange at the redirect ([`authorize`]), the stored tokens and the lazy
//! single-flight refresh behind [`openproject_access_token`] ([`tokens`]), `PUT /config` with
//! personal access tokens and disconnecting ([`config`]), and what the personal settings page
//! shows. The rules they apply are in `domain::openproject_connection`; the calls to
//! OpenProject's OAuth endpoints in [`crate::peer`].
//!
//! Tokens are sealed at rest (user preferences), the verifier too; nothing secret is logged.

pub mod authorize;
pub mod config;
pub mod tokens;

use service_kit::{
    crypto::SecretBox,
    db::{write_transaction, Db},
};
use storage_protocol::storages::nextcloud_urls;

use crate::{
    domain::{
        openproject_api::ConnectionHealth,
        openproject_connection::{self as rules, config::PersonalState},
    },
    error::ApiError,
    state::AppState,
};

use super::{openproject_api::connection_health, run};

pub use authorize::finish_authorization;
pub use config::update_config;
pub use tokens::{openproject_access_token, AccessTokenError};

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

/// `GET APP/op-oauth-url`: a new state and verifier stored for the user, and OpenProject's
/// authorize URL carrying them.
pub async fn start_authorization(state: &AppState, uid: String) -> Result<String, ApiError> {
    let secret_box = state.secret_box.clone();
    let redirect_uri = state.openproject().redirect_uri();
    run(state, move |conn| {
        rules::start_authorization(conn, &secret_box, &redirect_uri, &uid)
    })
    .await
}

/// The personal settings page's state (the journey's outcome is shown once, so it is
/// cleared), and for a connected user the connection as OpenProject sees it now.
pub async fn personal_settings(
    state: &AppState,
    uid: &str,
) -> Result<(PersonalState, Option<ConnectionHealth>), ApiError> {
    let (secret_box, owner) = (state.secret_box.clone(), uid.to_string());
    let shown = run(state, move |conn| {
        write_transaction(conn, |conn| {
            rules::personal_state(conn, &secret_box, &owner)
        })
    })
    .await?;
    let health = if shown.connected {
        Some(connection_health(state, uid).await?)
    } else {
        None
    };
    Ok((shown, health))
}
