//! What two paired services keep about each other (Extension, issue 20), the same on both
//! sides: the instance's signing key ([`keys`]), a durable outbox of signed messages to the peer
//! ([`outbox`]), the worker that delivers it ([`delivery`]), and the ids of the peer's messages
//! already applied ([`inbox`]).
//!
//! A change that the peer must hear about enqueues its message in the change's own transaction;
//! every replica runs a [`delivery::Courier`], which sends each message once at a time, in order
//! per peer, retrying until the peer answers; the receiver applies each message id once.
//!
//! Each service lists [`MIGRATION`] among its migrations; the tables are defined once, here.

pub mod delivery;
pub mod inbox;
pub mod keys;
pub mod outbox;
mod schema;

use service_kit::db::{Dialect, SharedMigration};

/// How long housekeeping keeps sent (delivered or refused) messages: the last one is what the
/// status lines show.
pub const KEEP_SENT_MS: i64 = 30 * 24 * 3600 * 1000;
/// How long housekeeping keeps the ids of applied messages: longer than a message's timestamp
/// is accepted ([`storage_protocol::pairing::MESSAGE_MAX_SKEW_SECS`]), after which a replay is
/// refused anyway.
pub const KEEP_RECEIVED_MS: i64 = 24 * 3600 * 1000;

/// `pairing_keys`, `peer_outbox` and `peer_inbox`.
pub const MIGRATION: SharedMigration = SharedMigration {
    name: "2026-12-04-000001_pairing",
    up: tables,
    down: |_| include_str!("../migrations/pairing.down.sql").to_string(),
};

/// The tables in `dialect`: only the outbox's auto-increment key differs.
fn tables(dialect: Dialect) -> String {
    let id = match dialect {
        Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    include_str!("../migrations/pairing.sql").replace("{id}", id)
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use service_kit::{
        db::{Db, Dialect},
        testing::TestDatabase,
    };

    /// A database (SQLite, or PostgreSQL with `TEST_DATABASE=postgres`) with this crate's tables.
    pub fn test_db() -> (TestDatabase, Db) {
        let database = TestDatabase::create("peer_link");
        let db = Db::connect(&database.url).expect("connects");
        let dialect = if db.is_sqlite() {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        };
        db.get()
            .unwrap()
            .batch_execute(&(super::MIGRATION.up)(dialect))
            .expect("tables");
        (database, db)
    }
}
