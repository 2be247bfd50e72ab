//! Domain logic: plain functions over values and a connection, unit-tested without HTTP.

pub mod admin_overview;
pub mod app_passwords;
pub mod apps;
pub mod authentication;
pub mod files;
pub mod oauth_clients;
pub mod oauth_server;
pub mod op_instance;
pub mod openproject_api;
pub mod openproject_connection;
pub mod pairing;
pub mod preferences;
pub mod provisioning;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod setup;
pub mod team_folder;
pub mod user_view;
pub mod users;
