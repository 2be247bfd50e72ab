//! The database: SQLite (default, bundled) or PostgreSQL, chosen from the URL scheme at run time,
//! behind one diesel `MultiConnection`, an r2d2 pool and per-backend embedded migrations.

use std::fmt;

use diesel::{
    r2d2::{self, PooledConnection},
    PgConnection, SqliteConnection,
};

mod fixed;
mod group_commit;
mod id_list;
mod migrations;
mod on_backend;
mod pool;
mod transactions;
mod url;

pub use fixed::{Fixed, FixedSql, Param};
use group_commit::GroupCommit;
pub use id_list::{id_in, IdIn, IntegerKey};
pub use migrations::{Dialect, Migrations, SharedMigration};
pub use on_backend::{QueryOnBackend, SelectColumns};
pub use pool::{configure_sqlite, establish_postgres, Connector};
pub use transactions::{is_unique_violation, serialized_transaction, write_transaction};
pub(crate) use url::beside;
pub use url::DatabaseUrl;

/// One connection type over both backends. Only column types both share are used (README of the
/// workspace: integers, text, booleans; instants as BIGINT unix milliseconds).
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Connector>;
pub type PooledConn = PooledConnection<Connector>;

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

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").field("sqlite", &self.sqlite).finish()
    }
}

impl Db {
    /// Opens the pool (creating the SQLite file's folder when needed).
    pub fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        let pool = pool::open(url)?;
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

    /// [`Db::run`] for brief work that only reads. On SQLite it runs on the calling thread when
    /// the pool has an idle connection, in one read transaction: a reader of a WAL database
    /// never waits for the writer, and the hop to a blocking thread and back (two thread
    /// switches and two wake-ups) cost more than a short read; and one snapshot for all its
    /// statements takes one lock on the log's index instead of one per statement (two `fcntl`
    /// calls each). Without an idle connection, and on PostgreSQL (where a query is a round
    /// trip), it is [`Db::run`]. Nothing `work` writes is rolled back on error: it must not write.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        if !self.sqlite {
            return self.run(work).await;
        }
        match self.pool.try_get() {
            Some(mut conn) => in_read_transaction(&mut conn, work),
            None => self.run(move |conn| in_read_transaction(conn, work)).await,
        }
    }

    /// [`Db::read`] for work that fails only with a database error.
    pub async fn read_query<T, F>(&self, work: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut AnyConnection) -> diesel::QueryResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.read(move |conn| work(conn).map_err(DbError::from))
            .await
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
}

/// Runs `work` in a read transaction (SQLite's deferred `BEGIN`: the snapshot is taken by the
/// first statement).
fn in_read_transaction<T, E, F>(conn: &mut AnyConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<DbError>,
{
    use diesel::Connection;
    let mut outcome = None;
    let transaction = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        outcome = Some(work(conn));
        Ok(())
    });
    match (outcome, transaction) {
        (Some(outcome), _) => outcome,
        (None, Err(error)) => Err(E::from(DbError::Query(error))),
        (None, Ok(())) => Err(E::from(DbError::Cancelled)),
    }
}

#[cfg(test)]
mod tests {
    use diesel::{connection::SimpleConnection, sql_query, sql_types::BigInt, RunQueryDsl};

    use super::*;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn count(conn: &mut AnyConnection) -> Result<i64, DbError> {
        let AnyConnection::Sqlite(sqlite) = conn else {
            unreachable!("a SQLite test")
        };
        Ok(sql_query("SELECT count(*) AS n FROM t")
            .get_result::<Count>(sqlite)?
            .n)
    }

    #[tokio::test]
    async fn a_read_sees_one_snapshot_throughout() {
        let dir = std::env::temp_dir().join(format!("kit-read-{}", uuid::Uuid::new_v4()));
        let db = Db::connect(&DatabaseUrl::Sqlite(dir.join("x.db"))).unwrap();
        db.get()
            .unwrap()
            .batch_execute("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        let writer = db.clone();
        let (before, after) = db
            .read(move |conn| {
                let before = count(conn)?;
                // Committed by another connection between the read's two statements.
                writer.get()?.batch_execute("INSERT INTO t VALUES (2)")?;
                Ok::<_, DbError>((before, count(conn)?))
            })
            .await
            .unwrap();
        assert_eq!((before, after), (1, 1));
        let now = db.read(count).await.unwrap();
        assert_eq!(now, 2);
        drop(db);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
