//! Domain logic: plain functions over values and a connection, unit-tested without HTTP.

pub mod app_passwords;
pub mod authentication;
pub mod provisioning;
pub mod sessions;
pub mod users;
