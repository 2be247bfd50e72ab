//! Tables and the queries on them. Every function takes the connection; multi-step writes own
//! their transaction.

pub mod app_config;
pub mod app_passwords;
pub mod dead_properties;
pub mod direct_downloads;
pub mod direct_uploads;
pub mod file_nodes;
pub mod groups;
pub mod oauth_clients;
pub mod oauth_pending;
pub mod schema;
pub mod sessions;
pub mod team_folders;
pub mod token_refreshes;
pub mod uploads;
pub mod user_preferences;
pub mod users;

pub use service_kit::db::serialized_transaction;

/// This service's migrations, one folder per backend.
pub const MIGRATIONS: service_kit::db::Migrations = service_kit::embedded_migrations!(
    service_kit::db::SharedMigration {
        name: "2026-11-27-000003_oauth_server",
        up: |dialect| oauth_provider::migrations::tables(dialect, "oauth_clients"),
        down: oauth_provider::migrations::drop_tables,
    },
    service_kit::throttle::MIGRATION,
    oauth_provider::migrations::REFRESH_RETRY,
    peer_link::MIGRATION,
    service_kit::db::SharedMigration {
        name: "2026-12-05-000001_token_selectors",
        up: |dialect| oauth_provider::migrations::token_selectors(dialect, "oauth_clients"),
        down: oauth_provider::migrations::drop_token_selectors,
    },
    oauth_provider::migrations::SEALED_SUCCESSORS_INDEX,
);

/// A migrated database on the test run's backend, for unit tests of queries and domain logic.
#[cfg(test)]
pub(crate) fn test_db() -> (service_kit::testing::TestDatabase, service_kit::db::Db) {
    let database = service_kit::testing::TestDatabase::create("ncoa_unit");
    let db = service_kit::db::Db::connect(&database.url).expect("connect");
    db.migrate(&database.url, &MIGRATIONS).expect("migrate");
    (database, db)
}

#[cfg(test)]
mod tests {
    use diesel::Connection;

    use super::*;

    const LOCK: i64 = 42;

    #[test]
    fn serialized_transactions_commit_roll_back_and_nest() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        serialized_transaction(conn, LOCK, |conn| {
            app_config::set(conn, "app", "a", "1")?;
            // A nested transaction is a savepoint; its failure does not end the outer one.
            let nested: Result<(), diesel::result::Error> = conn.transaction(|conn| {
                app_config::set(conn, "app", "b", "1")?;
                Err(diesel::result::Error::RollbackTransaction)
            });
            assert!(nested.is_err());
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
        assert_eq!(
            app_config::get(conn, "app", "a").unwrap().as_deref(),
            Some("1")
        );
        assert_eq!(app_config::get(conn, "app", "b").unwrap(), None);

        let failed: Result<(), diesel::result::Error> =
            serialized_transaction(conn, LOCK, |conn| {
                app_config::set(conn, "app", "a", "2")?;
                Err(diesel::result::Error::NotFound)
            });
        assert!(failed.is_err());
        assert_eq!(
            app_config::get(conn, "app", "a").unwrap().as_deref(),
            Some("1")
        );
        // The connection is usable for the next transaction.
        serialized_transaction(conn, LOCK, |conn| app_config::set(conn, "app", "a", "3")).unwrap();
        assert_eq!(
            app_config::get(conn, "app", "a").unwrap().as_deref(),
            Some("3")
        );
    }

    #[test]
    fn serialized_transactions_do_not_lose_concurrent_read_then_writes() {
        let (_database, db) = test_db();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        let conn = &mut db.get().unwrap();
                        serialized_transaction(conn, LOCK, |conn| {
                            let n: i64 = app_config::get(conn, "app", "n")?
                                .and_then(|v| v.parse().ok())
                                .unwrap_or(0);
                            app_config::set(conn, "app", "n", &(n + 1).to_string())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let conn = &mut db.get().unwrap();
        assert_eq!(
            app_config::get(conn, "app", "n").unwrap().as_deref(),
            Some("40")
        );
    }
}
