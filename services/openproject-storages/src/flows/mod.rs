//! The use cases of the OpenProject side, one async function per operation, grouped by area like
//! the routes. A use case owns its database hops (`state.db`), its transactions and its calls to
//! Nextcloud; it calls the synchronous rules in [`crate::domain`], and handlers only extract,
//! authorize, call a use case and map its result to the response.
//!
//! Errors: a use case that can fail with an API error returns [`ApiError`](crate::error::ApiError),
//! the one error type of the service; domain errors reach it through their `From` conversions in
//! `error.rs`, so `?` is the only mapping a use case does. A use case whose outcome is not an API
//! error returns the domain's value and its caller decides: authentication's
//! [`AuthError`](crate::domain::authentication::AuthError), a user-bound call's
//! [`UserBound`](crate::domain::connections::UserBound), a live `authorizationState` or health
//! report, the OAuth server's authorize outcome, and the browser redirects of connecting to
//! Nextcloud (`anyhow` for what is unexpected there).
//!
//! Where a representation needs rows of its own (work packages, notifications, memberships), the
//! use case reads them in the same trip to the database and returns the wire shape.

pub mod api_tokens;
pub mod authentication;
pub mod connections;
pub mod enumerations;
pub mod file_links;
pub mod files;
pub mod memberships;
pub mod notifications;
pub mod oauth_resources;
pub mod oauth_server;
pub mod pairing;
pub mod project_storages;
pub mod projects;
pub mod screens;
pub mod sessions;
pub mod storage_files;
pub mod storage_health;
pub mod storages;
pub mod users;
pub mod work_packages;
