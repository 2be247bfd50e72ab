//! The engine's tables, defined once. A service lists these migrations under the versions its
//! history gave them, with `client_pk` referencing its own client table.

use service_kit::db::{Dialect, SharedMigration};

/// `oauth_codes` and `oauth_tokens` as first created, referencing `clients (id)`.
pub fn tables(dialect: Dialect, clients: &str) -> String {
    let ddl = match dialect {
        Dialect::Sqlite => include_str!("../migrations/tables.sqlite.sql"),
        Dialect::Postgres => include_str!("../migrations/tables.postgres.sql"),
    };
    ddl.replace("{clients}", clients)
}

pub fn drop_tables(_: Dialect) -> String {
    include_str!("../migrations/tables.down.sql").to_string()
}

/// A rotated pair keeps its sealed successor for the retry window (`Policy::retry_window_secs`).
pub const REFRESH_RETRY: SharedMigration = SharedMigration {
    name: "2026-12-03-000001_refresh_retry",
    up: |_| include_str!("../migrations/refresh_retry.sql").to_string(),
    down: |_| include_str!("../migrations/refresh_retry.down.sql").to_string(),
};

/// The index of pairs holding a sealed successor holds no other pair.
pub const SEALED_SUCCESSORS_INDEX: SharedMigration = SharedMigration {
    name: "2026-12-06-000001_sealed_successors_index",
    up: |_| include_str!("../migrations/sealed_successors_index.sql").to_string(),
    down: |_| include_str!("../migrations/sealed_successors_index.down.sql").to_string(),
};

/// Tokens found by the selector they carry, no unique index on their digests; the pairs issued
/// before are `legacy` (see the SQL). SQLite rebuilds the table, so it needs the client table's
/// name, `{clients}`, as [`tables`] does.
pub fn token_selectors(dialect: Dialect, clients: &str) -> String {
    let ddl = match dialect {
        Dialect::Sqlite => include_str!("../migrations/token_selectors.sqlite.sql"),
        Dialect::Postgres => include_str!("../migrations/token_selectors.postgres.sql"),
    };
    ddl.replace("{clients}", clients)
}

pub fn drop_token_selectors(_: Dialect) -> String {
    include_str!("../migrations/token_selectors.down.sql").to_string()
}
