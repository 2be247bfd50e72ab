//! Runs diesel queries on the backend's own connection behind an [`AnyConnection`].
//!
//! diesel's `MultiConnection` wraps every query in a type that writes the whole statement's SQL
//! on each pass over it: once to ask whether it may be cached and once more while binding its
//! parameters, even when the prepared statement is already cached. That was a sixth of the CPU
//! of a `filesinfo` request. A diesel query is generic over the backend, so matching on the
//! connection and running it on the `SqliteConnection` or `PgConnection` inside does the same
//! work without the wrapper. The services call these methods in place of `RunQueryDsl`'s, and
//! select rows with [`SelectColumns::columns`] in place of `as_select()`, whose result is tied
//! to one backend.

use diesel::{
    query_dsl::{
        methods::{ExecuteDsl, LimitDsl, LoadQuery},
        RunQueryDsl,
    },
    sqlite::Sqlite,
    PgConnection, QueryResult, Selectable, SqliteConnection,
};

use super::AnyConnection;

/// `$run` with `$inner` bound to the connection inside `$conn`, compiled once per backend.
macro_rules! on_backend {
    ($conn:expr, $inner:ident => $run:expr) => {
        match $conn {
            AnyConnection::Sqlite($inner) => $run,
            AnyConnection::Postgresql($inner) => $run,
        }
    };
}

/// `RunQueryDsl`'s methods, taking an [`AnyConnection`] and running on the connection inside.
pub trait QueryOnBackend:
    RunQueryDsl<SqliteConnection> + RunQueryDsl<PgConnection> + Sized
{
    fn load_on<'query, U>(self, conn: &mut AnyConnection) -> QueryResult<Vec<U>>
    where
        Self: LoadQuery<'query, SqliteConnection, U> + LoadQuery<'query, PgConnection, U>,
    {
        on_backend!(conn, conn => RunQueryDsl::load(self, conn))
    }

    fn get_result_on<'query, U>(self, conn: &mut AnyConnection) -> QueryResult<U>
    where
        Self: LoadQuery<'query, SqliteConnection, U> + LoadQuery<'query, PgConnection, U>,
    {
        on_backend!(conn, conn => RunQueryDsl::get_result(self, conn))
    }

    fn first_on<'query, U>(self, conn: &mut AnyConnection) -> QueryResult<U>
    where
        Self: LimitDsl,
        diesel::dsl::Limit<Self>:
            LoadQuery<'query, SqliteConnection, U> + LoadQuery<'query, PgConnection, U>,
    {
        on_backend!(conn, conn => RunQueryDsl::first(self, conn))
    }

    fn execute_on(self, conn: &mut AnyConnection) -> QueryResult<usize>
    where
        Self: ExecuteDsl<SqliteConnection> + ExecuteDsl<PgConnection>,
    {
        on_backend!(conn, conn => RunQueryDsl::execute(self, conn))
    }
}

impl<T: RunQueryDsl<SqliteConnection> + RunQueryDsl<PgConnection>> QueryOnBackend for T {}

/// The columns a `#[derive(Queryable, Selectable)]` row reads, as an expression that runs on
/// either backend: the derived selection is the same column tuple for every backend, and the
/// row is built from it by its `Queryable` implementation, field by field in the same order.
pub trait SelectColumns: Selectable<Sqlite> {
    fn columns() -> <Self as Selectable<Sqlite>>::SelectExpression {
        Self::construct_selection()
    }
}

impl<T: Selectable<Sqlite>> SelectColumns for T {}
