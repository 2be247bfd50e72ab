//! Transactions that read then write, on either backend.

use diesel::{
    connection::{AnsiTransactionManager, SimpleConnection, TransactionManager},
    Connection,
};

use super::AnyConnection;

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
