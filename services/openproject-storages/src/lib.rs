//! openproject-storages: the OpenProject side of the OpenProject ⇄ Nextcloud file storage
//! integration (contract: `shared/spec/openproject-storages.md`).

pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod extract;
pub mod housekeeping;
pub mod nextcloud;
pub mod representers;
pub mod routes;
pub mod startup;
pub mod state;
