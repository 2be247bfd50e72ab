//! Embedded migrations, applied by one starting replica at a time.

use std::{
    fs::{File, OpenOptions},
    path::Path,
};

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use super::{url::beside, AnyConnection, DatabaseUrl, Db};

/// The embedded migrations of a service, one set per backend.
/// (`embed_migrations!` yields constants that cannot be copied, hence the functions.)
#[derive(Clone, Copy)]
pub struct Migrations {
    pub sqlite: fn() -> EmbeddedMigrations,
    pub postgres: fn() -> EmbeddedMigrations,
}

/// The calling crate's [`Migrations`]: its `migrations/sqlite` and `migrations/postgres`
/// folders, embedded at build time (the crate depends on `diesel_migrations`).
#[macro_export]
macro_rules! embedded_migrations {
    () => {
        $crate::db::Migrations {
            sqlite: || {
                const SQLITE: diesel_migrations::EmbeddedMigrations =
                    diesel_migrations::embed_migrations!("migrations/sqlite");
                SQLITE
            },
            postgres: || {
                const POSTGRES: diesel_migrations::EmbeddedMigrations =
                    diesel_migrations::embed_migrations!("migrations/postgres");
                POSTGRES
            },
        }
    };
}

impl Db {
    /// Applies pending migrations while holding a lock that other starting replicas wait on:
    /// a PostgreSQL advisory lock, or an exclusive lock on a file beside the SQLite database.
    pub fn migrate(&self, url: &DatabaseUrl, migrations: &Migrations) -> anyhow::Result<usize> {
        let mut conn = self.get()?;
        match url {
            DatabaseUrl::Sqlite(path) => {
                let lock = lock_file_beside(path)?;
                let applied = run_pending(&mut conn, (migrations.sqlite)());
                drop(lock);
                applied
            }
            DatabaseUrl::Postgres(_) => {
                const MIGRATION_LOCK: i64 = 0x6f70_6e63_6d69_6772; // "opncmigr"
                conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
                let applied = run_pending(&mut conn, (migrations.postgres)());
                conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
                applied
            }
        }
    }
}

fn run_pending(conn: &mut AnyConnection, migrations: EmbeddedMigrations) -> anyhow::Result<usize> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(migrations).map(|v| v.len()),
        AnyConnection::Postgresql(c) => c.run_pending_migrations(migrations).map(|v| v.len()),
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

fn lock_file_beside(db_path: &Path) -> anyhow::Result<File> {
    let lock_path = beside(db_path, ".migrate.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)?;
    file.lock()?;
    Ok(file)
}
