//! One integration-test binary: the real server on port 0 with a fresh database per test
//! (SQLite, or PostgreSQL with `TEST_DATABASE=postgres`), driven over HTTP.

mod api_tokens;
mod errors;
mod fake_nextcloud;
mod file_links;
mod helpers;
mod oauth_clients;
mod oauth_server;
mod pages;
mod pairing;
mod projects;
mod real_clients;
mod root;
mod storages;
mod uploads;
mod users;
