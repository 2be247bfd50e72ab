//! What both services need that is not protocol: configuration loading, telemetry, the database,
//! cryptography, authentication plumbing, the outbound HTTP client and the server scaffolding.
//!
//! Nothing here knows about OpenProject or Nextcloud; the wire lives in `storage-protocol`.

pub mod allocator;
pub mod application;
pub mod auth;
pub mod cli;
pub mod client_address;
pub mod config;
pub mod crypto;
pub mod db;
pub mod housekeeping;
pub mod http_client;
pub mod input;
pub mod operations;
pub mod outbound;
pub mod secret_key_file;
pub mod server;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod throttle;
pub mod time;
pub mod web;
