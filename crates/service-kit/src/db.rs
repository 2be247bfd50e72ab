//! The database: SQLite (default, bundled) or PostgreSQL, chosen from the URL scheme at run time,
//! behind one diesel `MultiConnection`, an r2d2 pool and per-backend embedded migrations.

use std::{
    fmt,
    fs::{self, File, OpenOptions},
    io::Write,
    panic::{catch_unwind, AssertUnwindSafe},
    path::{Path, PathBuf},
    sync::{mpsc, Arc},
    time::{Duration, Instant},
};

use diesel::{
    connection::{AnsiTransactionManager, SimpleConnection, TransactionManager},
    r2d2::{self, CustomizeConnection, ManageConnection, PooledConnection, R2D2Connection},
    Connection, PgConnection, SqliteConnection,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use scheduled_thread_pool::ScheduledThreadPool;

use crate::crypto::SecretKey;

mod id_list;
mod on_backend;
pub use id_list::{id_in, IdIn, IntegerKey};
pub use on_backend::{QueryOnBackend, SelectColumns};

/// One connection type over both backends. Only column types both share are used (README of the
/// workspace: integers, text, booleans; instants as BIGINT unix milliseconds).
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Connector>;
pub type PooledConn = PooledConnection<Connector>;

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

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            // The URL may carry a password.
            Self::Postgres(_) => f.write_str("postgres://***"),
        }
    }
}

impl DatabaseUrl {
    /// `sqlite://PATH` (relative, or absolute as `sqlite:///var/lib/op.db`), `sqlite:PATH`, or
    /// `postgres://…` / `postgresql://…`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if rest.is_empty() {
                return Err("sqlite URL without a file path".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(rest)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        Err("expected sqlite://PATH or postgres://… "
            .trim_end()
            .to_string())
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// A row of `PRAGMA wal_checkpoint`: whether it was blocked, the frames in the log, and those
/// copied back.
#[derive(diesel::QueryableByName)]
struct CheckpointRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    #[allow(dead_code)]
    busy: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    #[allow(dead_code)]
    checkpointed: i32,
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

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database task was cancelled")]
    Cancelled,
    /// A group of writes that this one was part of could not be committed.
    #[error("database: {0}")]
    Group(String),
}

/// The pool plus which backend it talks to.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    sqlite: bool,
    /// SQLite: where [`Db::write`] work is queued.
    writer: Option<GroupCommit>,
}

/// [`Db::write`] work as the writer thread runs it: the work itself, which returns how to deliver
/// its result once the outcome of the commit is known.
type WriteJob = Box<dyn FnOnce(&mut AnyConnection) -> Delivery + Send>;
type Delivery = Box<dyn FnOnce(Result<(), DbError>) + Send>;

/// SQLite's group commit: one thread runs the [`Db::write`] work, and the work queued while it
/// was busy runs together in one transaction, each piece in a savepoint of its own where it opens
/// a transaction. SQLite admits one writer at a time and a commit costs a log write per page it
/// changed; grants queued on a lock cost a commit and two thread switches each, grouped they
/// share one. Nobody is answered before the commit that holds their writes: a group that fails
/// to commit fails every piece in it.
///
/// The same thread copies the write-ahead log back into the database (a passive checkpoint,
/// which waits for nobody) once a second and after every [`GroupCommit::CHECKPOINT_AFTER`]
/// groups, after answering. After a second without writes it truncates the log to nothing
/// (waiting at most [`GroupCommit::TRUNCATE_WAIT_MS`] for readers), so a burst leaves no log
/// behind; under load the log is kept near `journal_size_limit` by restarts. Automatic checkpoints are off: they ran inside the commit that
/// crossed the threshold. And under a steady stream of commits a checkpoint from another thread
/// never catches up with the log, which then only grows (330 MB in a few seconds of token
/// grants), every commit writing to new pages of the file; checkpointed between this thread's
/// own commits, the log is restarted from its beginning by the next one.
///
/// The thread ends when the last `Db` clone is dropped.
#[derive(Clone)]
struct GroupCommit {
    jobs: mpsc::Sender<WriteJob>,
}

impl GroupCommit {
    /// The most pieces of work one transaction holds.
    const MAX_GROUP: usize = 32;
    const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
    const CHECKPOINT_AFTER: usize = 256;
    /// How long an idle truncation waits for readers to leave the log.
    const TRUNCATE_WAIT_MS: u32 = 50;

    fn start(pool: Pool) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<WriteJob>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let (mut groups, mut checkpointed) = (0, Instant::now());
                // Whether the log may hold frames since the last truncation.
                let mut log_used = true;
                loop {
                    match queue.recv_timeout(Self::CHECKPOINT_EVERY) {
                        Ok(first) => {
                            let mut group = vec![first];
                            group.extend(queue.try_iter().take(Self::MAX_GROUP - 1));
                            Self::run(&pool, group);
                            groups += 1;
                            log_used = true;
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            // Writes outside the group commit also use the log.
                            let log_holds_frames = || {
                                Self::frames_after_checkpoint(&pool, "PASSIVE")
                                    .is_none_or(|frames| frames > 0)
                            };
                            if log_used || log_holds_frames() {
                                log_used =
                                    Self::frames_after_checkpoint(&pool, "TRUNCATE") != Some(0);
                                (groups, checkpointed) = (0, Instant::now());
                            }
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                    if groups >= Self::CHECKPOINT_AFTER
                        || checkpointed.elapsed() >= Self::CHECKPOINT_EVERY
                    {
                        Self::checkpoint(&pool);
                        (groups, checkpointed) = (0, Instant::now());
                    }
                }
            })?;
        Ok(Self { jobs })
    }

    fn checkpoint(pool: &Pool) {
        let checkpointed = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
            conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")
                .map_err(|e| e.to_string())
        });
        if let Err(error) = checkpointed {
            tracing::warn!(%error, "checkpointing the SQLite log failed");
        }
    }

    /// Runs `PRAGMA wal_checkpoint(<mode>)`, waiting at most [`Self::TRUNCATE_WAIT_MS`] for
    /// readers, and returns the frames left in the log (`None` when it could not run). A
    /// checkpoint blocked by readers reports it in its row, not as an error.
    fn frames_after_checkpoint(pool: &Pool, mode: &str) -> Option<i32> {
        use diesel::RunQueryDsl;
        let mut conn = pool.get().ok()?;
        let AnyConnection::Sqlite(sqlite) = &mut *conn else {
            return None;
        };
        sqlite
            .batch_execute(&format!(
                "PRAGMA busy_timeout = {};",
                Self::TRUNCATE_WAIT_MS
            ))
            .ok()?;
        let rows = diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})"))
            .load::<CheckpointRow>(sqlite);
        let _ = sqlite.batch_execute("PRAGMA busy_timeout = 5000;");
        Some(rows.ok()?.first()?.log)
    }

    fn run(pool: &Pool, group: Vec<WriteJob>) {
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(error) => return Self::fail(group, &error.to_string()),
        };
        let conn: &mut AnyConnection = &mut conn;
        // Only started for SQLite; the other arm keeps a misuse from panicking the thread.
        let begun = match conn {
            AnyConnection::Sqlite(sqlite) => {
                AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
                    .map_err(|error| error.to_string())
            }
            AnyConnection::Postgresql(_) => Err("group commit is for SQLite".to_string()),
        };
        if let Err(error) = begun {
            return Self::fail(group, &error);
        }
        let mut deliveries = Vec::with_capacity(group.len());
        for job in group {
            match catch_unwind(AssertUnwindSafe(|| job(conn))) {
                Ok(delivery) => deliveries.push(delivery),
                Err(_) => {
                    // A bug: its answer was dropped with it, the work after it is dropped
                    // unanswered (both callers see `Cancelled`), what ran before is undone. The
                    // transaction stays open in diesel's books, so the pool discards the
                    // connection.
                    let _ = conn.batch_execute("ROLLBACK");
                    let outcome = "a write in the same transaction failed; nothing was written";
                    for delivery in deliveries {
                        delivery(Err(DbError::Group(outcome.into())));
                    }
                    return;
                }
            }
        }
        let committed = <AnyConnection as TransactionManager<AnyConnection>>::commit_transaction(
            conn,
        )
        .map_err(|error| {
            let _ =
                <AnyConnection as TransactionManager<AnyConnection>>::rollback_transaction(conn);
            error.to_string()
        });
        for delivery in deliveries {
            delivery(committed.clone().map_err(DbError::Group));
        }
    }

    /// A group that could not start: its work never runs, and dropping it drops the answers, so
    /// each caller sees [`DbError::Cancelled`]; the cause is logged here.
    fn fail(group: Vec<WriteJob>, why: &str) {
        tracing::error!(error = why, "a group of database writes could not start");
        drop(group);
    }

    /// Queues `work`; its result arrives once the group it runs in has committed.
    async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let span = tracing::Span::current();
        let job: WriteJob = Box::new(move |conn| {
            let result = span.in_scope(|| work(conn));
            Box::new(move |committed: Result<(), DbError>| {
                let _ = answer.send(committed.map_err(E::from).and(result));
            })
        });
        self.jobs
            .send(job)
            .map_err(|_| E::from(DbError::Cancelled))?;
        answered.await.map_err(|_| E::from(DbError::Cancelled))?
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").field("sqlite", &self.sqlite).finish()
    }
}

/// The embedded migrations of a service, one set per backend.
/// (`embed_migrations!` yields constants that cannot be copied, hence the functions.)
#[derive(Clone, Copy)]
pub struct Migrations {
    pub sqlite: fn() -> EmbeddedMigrations,
    pub postgres: fn() -> EmbeddedMigrations,
}

impl Db {
    /// Opens the pool (creating the SQLite file's folder when needed).
    pub fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        let (max_size, min_idle) = match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    fs::create_dir_all(parent)?;
                }
                enable_wal(path)?;
                // Connections to a local file open in microseconds: keep one while idle (each
                // holds the parsed schema and a page cache) and open more under load.
                (8, 1)
            }
            DatabaseUrl::Postgres(_) => (16, 4),
        };
        let pool = r2d2::Pool::builder()
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
            .map_err(|e| anyhow::anyhow!("cannot connect to the database {url:?}: {e}"))?;
        let writer = match url {
            DatabaseUrl::Sqlite(_) => Some(GroupCommit::start(pool.clone())?),
            DatabaseUrl::Postgres(_) => None,
        };
        Ok(Self {
            pool,
            sqlite: url.is_sqlite(),
            writer,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// The pool's connections now: (open, of which idle).
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// A pooled connection for synchronous code (start-up, tests, `spawn_blocking` bodies).
    pub fn get(&self) -> Result<PooledConn, DbError> {
        Ok(self.pool.get()?)
    }

    /// Runs `work` with a pooled connection on a blocking thread.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get().map_err(DbError::from)?;
            work(&mut conn)
        })
        .await
        .map_err(|_| E::from(DbError::Cancelled))?
    }

    /// [`Db::run`] for hot work that writes (token grants). On SQLite it joins the group commit
    /// ([`GroupCommit`]): it runs inside a transaction shared with the writes queued beside it,
    /// so a `transaction` it opens is a savepoint, and statements outside one are undone only if
    /// the shared commit fails. On PostgreSQL it is [`Db::run`].
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write(work).await,
            None => self.run(work).await,
        }
    }

    /// [`Db::run`] for work that fails only with a database error.
    pub async fn query<T, F>(&self, work: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut AnyConnection) -> diesel::QueryResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| work(conn).map_err(DbError::from))
            .await
    }

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

/// Switches the SQLite file to WAL on one connection before the pool opens several at once
/// (which would otherwise race for the lock the switch needs). busy_timeout comes first.
fn enable_wal(path: &Path) -> anyhow::Result<()> {
    use diesel::Connection;
    let mut conn = SqliteConnection::establish(&path.display().to_string())
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")?;
    Ok(())
}

fn run_pending(conn: &mut AnyConnection, migrations: EmbeddedMigrations) -> anyhow::Result<usize> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(migrations).map(|v| v.len()),
        AnyConnection::Postgresql(c) => c.run_pending_migrations(migrations).map(|v| v.len()),
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

fn lock_file_beside(db_path: &Path) -> anyhow::Result<File> {
    let lock_path = with_suffix(db_path, ".migrate.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)?;
    file.lock()?;
    Ok(file)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// The secret key: the configured one, or with SQLite one generated at first start and kept
/// beside the database file (`<db>.key`, mode 0600). PostgreSQL deployments must configure it,
/// since replicas share it.
pub fn resolve_secret_key(
    configured: Option<SecretKey>,
    url: &DatabaseUrl,
    variable: &str,
) -> Result<SecretKey, crate::config::ConfigError> {
    if let Some(key) = configured {
        return Ok(key);
    }
    let error = |message: String| crate::config::ConfigError {
        variable: variable.to_string(),
        message,
    };
    match url {
        DatabaseUrl::Postgres(_) => Err(error(
            "required with PostgreSQL (every replica needs the same key): set it to `openssl rand -base64 32`"
                .into(),
        )),
        DatabaseUrl::Sqlite(path) => {
            let key_path = with_suffix(path, ".key");
            if let Ok(existing) = fs::read_to_string(&key_path) {
                return SecretKey::from_base64(&existing)
                    .map_err(|m| error(format!("{}: {m}", key_path.display())));
            }
            if let Some(parent) = key_path.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent).map_err(|e| error(format!("{}: {e}", parent.display())))?;
            }
            let key = SecretKey::generate();
            write_private(&key_path, &key.to_base64())
                .map_err(|e| error(format!("cannot write {}: {e}", key_path.display())))?;
            Ok(key)
        }
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}

/// Runs `work` in a transaction that no other transaction naming the same `lock` interleaves
/// with, for read-then-write work that must not act on a stale read. SQLite: as
/// [`write_transaction`], which already excludes every other writer. PostgreSQL: a
/// transaction-scoped advisory lock `lock`, since READ COMMITTED alone lets two transactions
/// read the same state and both write.
pub fn serialized_transaction<T, E, F>(conn: &mut AnyConnection, lock: i64, work: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    write_transaction(conn, |conn| {
        if let AnyConnection::Postgresql(pg) = conn {
            pg.batch_execute(&format!("SELECT pg_advisory_xact_lock({lock})"))?;
        }
        work(conn)
    })
}

/// Runs `work`, which reads and then writes, in one transaction. SQLite: `BEGIN IMMEDIATE`
/// takes the write lock up front; a deferred transaction that reads first fails with "database
/// is locked" when it cannot upgrade to writing (SQLite does not wait there, to avoid a
/// deadlock). Inside a transaction already, a savepoint. PostgreSQL: a plain transaction.
pub fn write_transaction<T, E, F>(conn: &mut AnyConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let AnyConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(work);
    };
    let enclosed = AnsiTransactionManager::transaction_manager_status_mut(sqlite)
        .transaction_depth()?
        .is_some();
    if enclosed {
        // Inside a transaction already (a group commit's, which began IMMEDIATE): a savepoint,
        // and the enclosing transaction holds the lock.
        return conn.transaction(work);
    }
    // Through the inner connection's manager, whose state the enum's manager delegates to:
    // nested `transaction` calls inside `work` become savepoints as usual.
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    match work(conn) {
        Ok(value) => {
            <AnyConnection as TransactionManager<AnyConnection>>::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            <AnyConnection as TransactionManager<AnyConnection>>::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

/// True when `error` is a unique-constraint violation (two replicas racing on the same insert).
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/op.db").unwrap(),
            DatabaseUrl::Sqlite("data/op.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/op.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/op.db".into())
        );
        assert!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap() != DatabaseUrl::Sqlite("x".into())
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn debug_hides_postgres_credentials() {
        let url = DatabaseUrl::parse("postgres://user:pw@host/db").unwrap();
        assert_eq!(format!("{url:?}"), "postgres://***");
    }

    #[test]
    fn secret_key_is_generated_once_beside_the_sqlite_file() {
        let dir = std::env::temp_dir().join(format!("kit-key-{}", uuid::Uuid::new_v4()));
        let url = DatabaseUrl::Sqlite(dir.join("x.db"));
        let first = resolve_secret_key(None, &url, "OPS_SECRET_KEY").unwrap();
        let second = resolve_secret_key(None, &url, "OPS_SECRET_KEY").unwrap();
        assert_eq!(first.to_base64(), second.to_base64());
        let pg = DatabaseUrl::parse("postgres://h/db").unwrap();
        let err = resolve_secret_key(None, &pg, "OPS_SECRET_KEY").unwrap_err();
        assert_eq!(err.variable, "OPS_SECRET_KEY");
        fs::remove_dir_all(dir).unwrap();
    }

    fn sqlite_db(label: &str) -> (PathBuf, Db) {
        let dir = std::env::temp_dir().join(format!("kit-{label}-{}", uuid::Uuid::new_v4()));
        let db = Db::connect(&DatabaseUrl::Sqlite(dir.join("x.db"))).unwrap();
        db.get()
            .unwrap()
            .batch_execute("CREATE TABLE t (v TEXT NOT NULL UNIQUE)")
            .unwrap();
        (dir, db)
    }

    fn values(db: &Db) -> Vec<String> {
        use diesel::{sql_query, sql_types::Text, QueryableByName, RunQueryDsl};
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            v: String,
        }
        let rows: Vec<Row> = sql_query("SELECT v FROM t ORDER BY v")
            .load(&mut *db.get().unwrap())
            .unwrap();
        rows.into_iter().map(|r| r.v).collect()
    }

    fn insert(conn: &mut AnyConnection, v: &str) -> diesel::QueryResult<usize> {
        conn.batch_execute(&format!("INSERT INTO t VALUES ('{v}')"))
            .map(|()| 1)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn grouped_writes_each_get_their_own_result_after_the_commit() {
        let (dir, db) = sqlite_db("group");
        let writes = (0..64).map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(move |conn| {
                    // Every third write fails inside a transaction of its own (a savepoint in
                    // the group): only its own insert is undone.
                    conn.transaction(|conn| {
                        insert(conn, &format!("{i:02}"))?;
                        if i % 3 == 0 {
                            return Err(DbError::Cancelled);
                        }
                        Ok(i)
                    })
                })
                .await
            })
        });
        let results: Vec<Result<i32, DbError>> = futures_join(writes).await;
        for (i, result) in results.iter().enumerate() {
            match result {
                Ok(value) => assert_eq!(*value as usize, i),
                Err(_) => assert_eq!(i % 3, 0, "write {i} failed"),
            }
        }
        let expected: Vec<String> = (0..64)
            .filter(|i| i % 3 != 0)
            .map(|i| format!("{i:02}"))
            .collect();
        assert_eq!(values(&db), expected);
        drop(db);
        fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_write_that_panics_undoes_its_group_and_the_writer_goes_on() {
        let (dir, db) = sqlite_db("panic");
        let panicked: Result<(), DbError> = db
            .write(|conn| {
                insert(conn, "lost")?;
                panic!("a bug in a write");
            })
            .await;
        assert!(matches!(panicked, Err(DbError::Cancelled)), "{panicked:?}");
        let written: Result<usize, DbError> = db
            .write(|conn| insert(conn, "kept").map_err(DbError::from))
            .await;
        assert_eq!(written.unwrap(), 1);
        assert_eq!(values(&db), ["kept"]);
        drop(db);
        fs::remove_dir_all(dir).unwrap();
    }

    async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
        let mut out = Vec::new();
        for handle in handles {
            out.push(handle.await.unwrap());
        }
        out
    }

    #[test]
    fn the_sqlite_log_is_checkpointed_in_the_background_not_by_commits() {
        let dir = std::env::temp_dir().join(format!("kit-wal-{}", uuid::Uuid::new_v4()));
        let path = dir.join("x.db");
        let db = Db::connect(&DatabaseUrl::Sqlite(path.clone())).unwrap();
        let mut conn = db.get().unwrap();
        conn.batch_execute("CREATE TABLE t (v TEXT NOT NULL)")
            .unwrap();
        let size = || fs::metadata(&path).unwrap().len();
        let before = size();
        // Far past the default automatic threshold (1000 pages): commits alone copy nothing.
        for _ in 0..40 {
            conn.batch_execute(&format!("INSERT INTO t VALUES ('{}')", "x".repeat(200_000)))
                .unwrap();
        }
        assert_eq!(size(), before, "a commit checkpointed");
        drop(conn);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while size() < 8_000_000 {
            assert!(std::time::Instant::now() < deadline, "no checkpoint ran");
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(db);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_idle_database_leaves_no_log_behind() {
        let dir = std::env::temp_dir().join(format!("kit-wal-{}", uuid::Uuid::new_v4()));
        let path = dir.join("x.db");
        let db = Db::connect(&DatabaseUrl::Sqlite(path.clone())).unwrap();
        let mut conn = db.get().unwrap();
        conn.batch_execute("CREATE TABLE t (v TEXT NOT NULL)")
            .unwrap();
        for _ in 0..20 {
            conn.batch_execute(&format!("INSERT INTO t VALUES ('{}')", "x".repeat(200_000)))
                .unwrap();
        }
        drop(conn);
        let log = path.with_extension("db-wal");
        let log_size = || fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        assert!(log_size() > 4_000_000, "the writes went to the log");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while log_size() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the log kept {} bytes while idle",
                log_size()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(db);
        fs::remove_dir_all(dir).unwrap();
    }
}
