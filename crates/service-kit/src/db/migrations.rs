//! Embedded migrations, applied by one starting replica at a time.

use std::{
    fs::{File, OpenOptions},
    path::Path,
};

use diesel::{
    backend::Backend,
    connection::{BoxableConnection, SimpleConnection},
    migration::{Migration, MigrationMetadata, MigrationName, MigrationSource, MigrationVersion},
    pg::Pg,
    sqlite::Sqlite,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use super::{url::beside, AnyConnection, DatabaseUrl, Db};

/// The migrations of a service: its own folders, one per backend, and the migrations of the
/// shared crates whose tables it has.
/// (`embed_migrations!` yields constants that cannot be copied, hence the functions.)
#[derive(Clone, Copy)]
pub struct Migrations {
    pub sqlite: fn() -> EmbeddedMigrations,
    pub postgres: fn() -> EmbeddedMigrations,
    pub shared: &'static [SharedMigration],
}

/// The backend a shared migration writes its SQL for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Tables a shared crate owns (the throttle's, the OAuth engine's), defined once there. A
/// service lists the migration under the name its history gave it: when one of its own folders
/// has the same version, the shared SQL runs first, in the same transaction; otherwise the
/// shared migration stands alone.
#[derive(Clone, Copy)]
pub struct SharedMigration {
    /// `YYYY-MM-DD-NNNNNN_what`, like a migration folder.
    pub name: &'static str,
    pub up: fn(Dialect) -> String,
    pub down: fn(Dialect) -> String,
}

impl SharedMigration {
    /// Diesel's version of a folder name: the date and number, without dashes.
    fn version(&self) -> String {
        self.name
            .split('_')
            .next()
            .unwrap_or_default()
            .replace('-', "")
    }
}

/// A service's migrations for one backend: its folders with the shared migrations merged in.
struct ServiceMigrations {
    own: EmbeddedMigrations,
    shared: &'static [SharedMigration],
    dialect: Dialect,
}

impl<DB: Backend + 'static> MigrationSource<DB> for ServiceMigrations
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<DB>>>> {
        let mut own = MigrationSource::<DB>::migrations(&self.own)?;
        let mut merged: Vec<Box<dyn Migration<DB>>> = Vec::new();
        for shared in self.shared {
            let version = shared.version();
            let folder = own
                .iter()
                .position(|m| m.name().version() == MigrationVersion::from(version.as_str()))
                .map(|at| own.remove(at));
            merged.push(Box::new(Merged {
                shared: *shared,
                version,
                dialect: self.dialect,
                folder,
            }));
        }
        merged.extend(own);
        Ok(merged)
    }
}

/// A shared migration, with the service's own folder of the same version when it has one.
struct Merged<DB: Backend> {
    shared: SharedMigration,
    version: String,
    dialect: Dialect,
    folder: Option<Box<dyn Migration<DB>>>,
}

impl<DB: Backend> Migration<DB> for Merged<DB> {
    fn run(&self, conn: &mut dyn BoxableConnection<DB>) -> diesel::migration::Result<()> {
        conn.batch_execute(&(self.shared.up)(self.dialect))?;
        match &self.folder {
            Some(folder) => folder.run(conn),
            None => Ok(()),
        }
    }

    fn revert(&self, conn: &mut dyn BoxableConnection<DB>) -> diesel::migration::Result<()> {
        if let Some(folder) = &self.folder {
            folder.revert(conn)?;
        }
        conn.batch_execute(&(self.shared.down)(self.dialect))?;
        Ok(())
    }

    fn metadata(&self) -> &dyn MigrationMetadata {
        self
    }

    fn name(&self) -> &dyn MigrationName {
        self
    }
}

impl<DB: Backend> MigrationMetadata for Merged<DB> {}

impl<DB: Backend> MigrationName for Merged<DB> {
    fn version(&self) -> MigrationVersion<'_> {
        MigrationVersion::from(self.version.as_str())
    }
}

impl<DB: Backend> std::fmt::Display for Merged<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.shared.name)
    }
}

impl Migrations {
    fn sqlite(&self) -> ServiceMigrations {
        ServiceMigrations {
            own: (self.sqlite)(),
            shared: self.shared,
            dialect: Dialect::Sqlite,
        }
    }

    fn postgres(&self) -> ServiceMigrations {
        ServiceMigrations {
            own: (self.postgres)(),
            shared: self.shared,
            dialect: Dialect::Postgres,
        }
    }

    /// Whether `conn` lacks a migration (the readiness probe's question).
    pub fn pending(&self, conn: &mut AnyConnection) -> diesel::migration::Result<bool> {
        match conn {
            AnyConnection::Sqlite(c) => {
                MigrationHarness::<Sqlite>::has_pending_migration(c, self.sqlite())
            }
            AnyConnection::Postgresql(c) => {
                MigrationHarness::<Pg>::has_pending_migration(c, self.postgres())
            }
        }
    }
}

/// The calling crate's [`Migrations`]: its `migrations/sqlite` and `migrations/postgres`
/// folders, embedded at build time (the crate depends on `diesel_migrations`), and the
/// [`SharedMigration`]s given.
#[macro_export]
macro_rules! embedded_migrations {
    ($($shared:expr),* $(,)?) => {
        $crate::db::Migrations {
            shared: &[$($shared),*],
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
                let applied = run_pending(&mut conn, migrations);
                drop(lock);
                applied
            }
            DatabaseUrl::Postgres(_) => {
                const MIGRATION_LOCK: i64 = 0x6f70_6e63_6d69_6772; // "opncmigr"
                conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
                let applied = run_pending(&mut conn, migrations);
                conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
                applied
            }
        }
    }
}

fn run_pending(conn: &mut AnyConnection, migrations: &Migrations) -> anyhow::Result<usize> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c
            .run_pending_migrations(migrations.sqlite())
            .map(|v| v.len()),
        AnyConnection::Postgresql(c) => c
            .run_pending_migrations(migrations.postgres())
            .map(|v| v.len()),
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
