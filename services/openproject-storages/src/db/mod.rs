//! Rows and queries of the OpenProject side. Functions take the connection; multi-step writes
//! own their transaction.

pub mod api_tokens;
pub mod file_links;
pub mod oauth_applications;
pub mod oauth_client_credentials;
pub mod oauth_client_states;
pub mod oauth_client_tokens;
pub mod pairing;
pub mod projects;
pub mod schema;
pub mod sessions;
pub mod storages;
pub mod users;
pub mod work_packages;

pub use service_kit::db::{id_in, AnyConnection as Conn};

/// This service's migrations, one folder per backend.
pub const MIGRATIONS: service_kit::db::Migrations = service_kit::embedded_migrations!(
    service_kit::db::SharedMigration {
        name: "2026-11-27-000003_oauth_server",
        up: |dialect| oauth_provider::migrations::tables(dialect, "oauth_applications"),
        down: oauth_provider::migrations::drop_tables,
    },
    service_kit::throttle::MIGRATION,
    oauth_provider::migrations::REFRESH_RETRY,
    peer_link::MIGRATION,
    service_kit::db::SharedMigration {
        name: "2026-12-05-000001_token_selectors",
        up: |dialect| oauth_provider::migrations::token_selectors(dialect, "oauth_applications"),
        down: oauth_provider::migrations::drop_token_selectors,
    },
    oauth_provider::migrations::SEALED_SUCCESSORS_INDEX,
);
