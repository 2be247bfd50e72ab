//! The Nextcloud side of the OpenProject ⇄ Nextcloud file storages (contract:
//! `nextcloud-openproject-app.md`): a minimal Nextcloud host with the `integration_openproject`
//! app.
//!
//! `routes` holds the route table and thin handlers, `flows` the use cases (their database hops
//! and calls to OpenProject), `domain` the synchronous rules, `db` the tables and queries,
//! `error` the one error type and its rendering per route family.

pub mod auth;
pub mod body;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod flows;
pub mod housekeeping;
pub mod peer;
pub mod routes;
pub mod startup;
pub mod state;
