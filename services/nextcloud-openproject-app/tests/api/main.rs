//! One integration test binary: the real server on port 0 with a fresh database per test
//! (`TEST_DATABASE=postgres` for PostgreSQL).

mod admin_config;
mod authentication;
mod capabilities;
mod check_config;
mod cloud_user;
mod dav_clients;
mod dav_properties;
mod direct;
mod direct_upload;
mod errors;
mod fake_openproject;
mod fileinfo;
mod files_pages;
mod helpers;
mod is_valid_op_instance;
mod oauth_server;
mod openproject_api;
mod openproject_connection;
mod pages;
mod provisioning;
mod setup;
mod status;
mod ui_pages;
mod webdav;
