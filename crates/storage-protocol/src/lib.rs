//! The wire between OpenProject, Nextcloud and their clients: every request and response body
//! both services exchange, the error bodies of both sides, and the message strings of the contract
//! (`shared/spec/`). Types and pure functions, no database; the optional `client` feature adds
//! typed HTTP clients of both sides' APIs built on these types (`client`).
//!
//! Golden JSON for every message lives in `proto-fixtures/`; the `fixtures` module (feature
//! `fixtures`, which the services and system tests enable for their tests) finds it.

#[cfg(feature = "client")]
pub mod client;
pub mod dav;
pub mod file_links;
pub mod files;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod hal;
pub mod integration_app;
pub mod lenient;
pub mod multistatus;
pub mod nextcloud;
pub mod oauth;
pub mod ocs;
pub mod openproject;
pub mod openproject_api;
pub mod pairing;
pub mod projects;
pub mod proppatch;
pub mod storages;
pub mod work_packages;
pub mod xml;
