//! Domain logic of the OpenProject side: synchronous functions over plain values and a
//! connection, unit-tested without HTTP. The async use cases that run them on the pool and call
//! Nextcloud are in [`crate::flows`].

pub mod authentication;
pub mod connections;
pub mod file_links;
pub mod files;
pub mod filters;
pub mod host;
pub mod oauth_server;
pub mod pairing;
pub mod permissions;
pub mod project_storages;
pub mod projects;
pub mod sessions;
pub mod storage_files;
pub mod storage_health;
pub mod storages;
pub mod uploads;
pub mod users;
pub mod work_packages;
