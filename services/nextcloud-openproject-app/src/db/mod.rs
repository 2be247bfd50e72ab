//! Tables and the queries on them. Every function takes the connection; multi-step writes own
//! their transaction.

pub mod app_passwords;
pub mod groups;
pub mod schema;
pub mod sessions;
pub mod users;

/// A migrated database on the test run's backend, for unit tests of queries and domain logic.
#[cfg(test)]
pub(crate) fn test_db() -> (service_kit::testing::TestDatabase, service_kit::db::Db) {
    let database = service_kit::testing::TestDatabase::create("ncoa_unit");
    let db = service_kit::db::Db::connect(&database.url).expect("connect");
    db.migrate(&database.url, &crate::startup::MIGRATIONS)
        .expect("migrate");
    (database, db)
}
