//! What every handler can reach.

use service_kit::{
    auth::{CredentialCache, ThrottlePolicy},
    crypto::{CsrfSigner, SecretBox},
    db::Db,
};

use crate::{config::Settings, nextcloud::NextcloudClient};

pub struct AppState {
    pub db: Db,
    pub settings: Settings,
    /// Without trailing `/`.
    pub public_url: String,
    pub secret_box: SecretBox,
    pub csrf: CsrfSigner,
    pub credential_cache: CredentialCache,
    pub throttle: ThrottlePolicy,
    /// Outbound calls to the storages' Nextcloud hosts.
    pub nextcloud: NextcloudClient,
}

impl AppState {
    /// Cookies get `Secure` when browsers reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// `host[:port]` of the public URL.
    pub fn host_name(&self) -> String {
        url::Url::parse(&self.public_url)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_default()
    }
}

pub type State = actix_web::web::Data<AppState>;
