//! SQLite's group commit and its checkpoints (see [`GroupCommit`]).

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    sync::mpsc,
    time::{Duration, Instant},
};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};

use super::{AnyConnection, DbError, Pool};

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
pub(super) struct GroupCommit {
    jobs: mpsc::Sender<WriteJob>,
}

impl GroupCommit {
    /// The most pieces of work one transaction holds.
    const MAX_GROUP: usize = 32;
    const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
    const CHECKPOINT_AFTER: usize = 256;
    /// How long an idle truncation waits for readers to leave the log.
    const TRUNCATE_WAIT_MS: u32 = 50;

    pub(super) fn start(pool: Pool) -> std::io::Result<Self> {
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
    pub(super) async fn write<T, E, F>(&self, work: F) -> Result<T, E>
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

#[cfg(test)]
mod tests {
    use std::{fs, path::PathBuf, time::Duration};

    use diesel::{connection::SimpleConnection, Connection};

    use crate::db::{AnyConnection, DatabaseUrl, Db, DbError};

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

    #[tokio::test]
    async fn a_write_waits_for_another_connections_write_lock() {
        let (dir, db) = sqlite_db("locked");
        let (locked, lock_taken) = std::sync::mpsc::channel();
        let holder = {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut conn = db.get().unwrap();
                conn.batch_execute("BEGIN IMMEDIATE; INSERT INTO t VALUES ('first');")
                    .unwrap();
                locked.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(300));
                conn.batch_execute("COMMIT").unwrap();
            })
        };
        lock_taken.recv().unwrap();
        let written: Result<usize, DbError> = db
            .write(|conn| insert(conn, "second").map_err(DbError::from))
            .await;
        assert_eq!(written.unwrap(), 1);
        holder.join().unwrap();
        assert_eq!(values(&db), ["first", "second"]);
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
