//! What every handler can reach: the state both services share, and the Nextcloud client.

use std::ops::Deref;

use peer_link::delivery::Courier;
use service_kit::application::CoreState;

use crate::{config::Settings, peer::NextcloudClient};

pub struct AppState {
    pub core: CoreState,
    pub settings: Settings,
    /// Outbound calls to the storages' Nextcloud hosts.
    pub nextcloud: NextcloudClient,
    /// Delivers the messages to paired Nextclouds (Extension); woken after a request queued one.
    pub courier: Courier,
}

impl Deref for AppState {
    type Target = CoreState;

    fn deref(&self) -> &CoreState {
        &self.core
    }
}

impl AppState {
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
