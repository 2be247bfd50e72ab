//! openproject-storages: the OpenProject side of the OpenProject ⇄ Nextcloud file storage
//! integration (contract: `shared/spec/openproject-storages.md`).

pub mod auth;
pub mod body;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod flows;
pub mod housekeeping;
pub mod peer;
pub mod representers;
pub mod routes;
pub mod startup;
pub mod state;
