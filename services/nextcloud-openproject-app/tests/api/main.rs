//! One integration test binary: the real server on port 0 with a fresh database per test
//! (`TEST_DATABASE=postgres` for PostgreSQL).

mod authentication;
mod capabilities;
mod check_config;
mod cloud_user;
mod errors;
mod helpers;
mod pages;
mod provisioning;
mod status;
