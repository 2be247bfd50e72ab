//! What every handler shares.

use service_kit::{
    auth::{CredentialCache, ThrottlePolicy},
    crypto::{CsrfSigner, SecretBox},
    db::Db,
};

use crate::{
    config::Settings,
    domain::{
        files::store::ContentStore, openproject_api::ResourceCache,
        openproject_connection::OpenProject,
    },
};

pub struct AppState {
    pub db: Db,
    /// File contents in the data directory.
    pub files: ContentStore,
    /// OpenProject statuses and types (§6), per replica.
    pub openproject_cache: ResourceCache,
    pub settings: Settings,
    /// Without trailing `/`.
    pub public_url: String,
    /// Encryption at rest of secrets this service must read back.
    pub secret_box: SecretBox,
    pub csrf: CsrfSigner,
    pub credentials: CredentialCache,
    pub throttle: ThrottlePolicy,
    /// Outbound requests to OpenProject: timeouts, no redirects.
    pub http: reqwest::Client,
}

impl AppState {
    /// Cookies carry `Secure` when browsers reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// What calls to OpenProject on a user's behalf need.
    pub fn openproject(&self) -> OpenProject<'_> {
        OpenProject {
            db: &self.db,
            secret_box: &self.secret_box,
            http: &self.http,
            public_url: &self.public_url,
        }
    }
}
