//! What every handler shares.

use std::ops::Deref;

use peer_link::delivery::Courier;
use service_kit::application::CoreState;

use crate::{
    config::Settings,
    domain::{files::store::ContentStore, openproject_api::ResourceCache},
    flows::openproject_connection::OpenProject,
};

pub struct AppState {
    pub core: CoreState,
    /// File contents in the data directory.
    pub files: ContentStore,
    /// OpenProject statuses and types (§6), per replica.
    pub openproject_cache: ResourceCache,
    pub settings: Settings,
    /// Outbound requests to OpenProject: timeouts, no redirects.
    pub http: reqwest::Client,
    /// Delivers the messages to a paired OpenProject (Extension); woken after a request queued
    /// one.
    pub courier: Courier,
}

impl Deref for AppState {
    type Target = CoreState;

    fn deref(&self) -> &CoreState {
        &self.core
    }
}

impl AppState {
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
