//! The connection pool: how connections to either backend are opened and set up.

use std::{path::Path, sync::Arc, time::Duration};

use diesel::{
    connection::SimpleConnection,
    r2d2::{self, CustomizeConnection, ManageConnection, R2D2Connection},
    Connection, PgConnection, SqliteConnection,
};
use scheduled_thread_pool::ScheduledThreadPool;

use super::{AnyConnection, DatabaseUrl, Pool};

/// Opens the pool's connections with the backend the URL names. (diesel's `ConnectionManager`
/// for a `MultiConnection` tries each backend in turn: every SQLite connection first went
/// through libpq, which touched OpenSSL; a pool thread doing so while the process exited crashed
/// on OpenSSL's freed locks.)
#[derive(Debug)]
pub struct Connector {
    url: DatabaseUrl,
}

/// A PostgreSQL connection. OpenSSL (which libpq uses) is initialized first without its exit
/// handler: that handler frees OpenSSL's locks while other threads may still be opening
/// connections (a pool's helper thread), which crashed processes as they exited.
pub fn establish_postgres(url: &str) -> diesel::ConnectionResult<PgConnection> {
    openssl_sys::init();
    PgConnection::establish(url)
}

impl ManageConnection for Connector {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                SqliteConnection::establish(&path.display().to_string()).map(AnyConnection::Sqlite)
            }
            DatabaseUrl::Postgres(url) => establish_postgres(url).map(AnyConnection::Postgresql),
        }
        .map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Puts SQLite in multi-thread mode: no mutex around each call on a connection. The pool hands
/// a connection to one thread at a time, which is all that mode asks; in the default
/// (serialized) mode every column read locked and unlocked a mutex, a tenth of the CPU of a
/// 20-file `filesinfo`. Call it first thing in `main`, before any thread runs: SQLite's
/// configuration may only change while nothing else uses SQLite, and not at all once a
/// connection was opened (then it is refused and the default mode stays, which is slower, not
/// wrong).
pub fn configure_sqlite() {
    // SAFETY: called once, at the start of `main`, before any other thread exists and before
    // any SQLite connection is opened, as `sqlite3_config` requires.
    let code = unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD) };
    if code != libsqlite3_sys::SQLITE_OK {
        eprintln!("SQLite stays in serialized mode (sqlite3_config returned {code})");
    }
}

/// Per-connection set-up: SQLite pragmas must be set on every pooled connection.
#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<AnyConnection, r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        if let AnyConnection::Sqlite(conn) = conn {
            // WAL is a property of the file, set once in `Db::connect`; these are per connection.
            // No automatic checkpoints: left on, the commit that crosses the threshold copies
            // the log into the database and syncs it, and while readers pin older frames every
            // following commit retries (a tenth of a token request's time under load). The
            // pool's writer thread does it instead ([`GroupCommit`]).
            // The log file shrinks back to at most `journal_size_limit` whenever a writer
            // restarts it from the beginning.
            conn.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0; \
                 PRAGMA journal_size_limit = 67108864;",
            )
            .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Opens the pool for `url` (creating the SQLite file's folder and switching it to WAL first).
pub(super) fn open(url: &DatabaseUrl) -> anyhow::Result<Pool> {
    let (max_size, min_idle) = match url {
        DatabaseUrl::Sqlite(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            enable_wal(path)?;
            // Connections to a local file open in microseconds: keep one while idle (each
            // holds the parsed schema and a page cache) and open more under load.
            (8, 1)
        }
        DatabaseUrl::Postgres(_) => (16, 4),
    };
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(min_idle))
        // A server may drop a PostgreSQL connection, so each checkout is pinged first; a
        // connection to a local SQLite file cannot go stale, and the ping was a parsed
        // statement on every request.
        .test_on_check_out(!url.is_sqlite())
        // Opening and reaping connections is rare work: one thread, not r2d2's default three.
        .thread_pool(Arc::new(
            ScheduledThreadPool::builder()
                .num_threads(1)
                .thread_name_pattern("db-pool")
                .build(),
        ))
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(ConnectionSetup))
        .build(Connector { url: url.clone() })
        .map_err(|e| anyhow::anyhow!("cannot connect to the database {url:?}: {e}"))
}

/// Switches the SQLite file to WAL on one connection before the pool opens several at once
/// (which would otherwise race for the lock the switch needs). busy_timeout comes first.
fn enable_wal(path: &Path) -> anyhow::Result<()> {
    let mut conn = SqliteConnection::establish(&path.display().to_string())
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")?;
    Ok(())
}
