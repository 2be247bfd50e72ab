//! Statements on hot paths that diesel would otherwise parse on every run.
//!
//! diesel keeps a prepared statement per connection for most queries, but never for an `UPDATE`
//! (a changeset may leave fields out, so its SQL is not known from its type) nor for
//! `sql_query`. A token grant ran six `UPDATE`s: SQLite's parser was a sixth of its CPU. A
//! [`Fixed`] statement's SQL is a constant of its type, so diesel prepares it once per
//! connection and afterwards only binds and steps it.

use std::marker::PhantomData;

use diesel::{
    backend::Backend,
    query_builder::{AstPass, QueryFragment, QueryId},
    serialize::ToSql,
    sql_types::{BigInt, Nullable, Text},
    PgConnection, QueryResult, RunQueryDsl, SqliteConnection,
};

/// The SQL of a [`Fixed`] statement: the text around its parameters, one more piece than there
/// are parameters. Each statement is a type of its own, which is how diesel's cache knows it.
pub trait FixedSql: 'static {
    const PIECES: &'static [&'static str];
}

/// A parameter of a [`Fixed`] statement.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    BigInt(Option<i64>),
    Text(Option<&'a str>),
}

/// The statement `S` with its parameters, in the order of `S::PIECES`. Run it with
/// [`super::QueryOnBackend::execute_on`].
pub struct Fixed<'a, S> {
    params: Vec<Param<'a>>,
    statement: PhantomData<S>,
}

impl<'a, S: FixedSql> Fixed<'a, S> {
    /// Panics when the parameters do not fit the pieces: a bug in the statement's definition,
    /// caught by any test that runs it.
    pub fn new(params: Vec<Param<'a>>) -> Self {
        assert_eq!(
            params.len() + 1,
            S::PIECES.len(),
            "a fixed statement's parameters fit between its pieces"
        );
        Self {
            params,
            statement: PhantomData,
        }
    }
}

impl<S: FixedSql> QueryId for Fixed<'_, S> {
    type QueryId = S;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<S, DB> QueryFragment<DB> for Fixed<'_, S>
where
    S: FixedSql,
    DB: Backend,
    Option<i64>: ToSql<Nullable<BigInt>, DB>,
    for<'x> Option<&'x str>: ToSql<Nullable<Text>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut params = self.params.iter();
        for (index, piece) in S::PIECES.iter().enumerate() {
            if index > 0 {
                match params.next().expect("checked in `Fixed::new`") {
                    Param::BigInt(value) => out.push_bind_param::<Nullable<BigInt>, _>(value)?,
                    Param::Text(value) => out.push_bind_param::<Nullable<Text>, _>(value)?,
                }
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl<S> RunQueryDsl<SqliteConnection> for Fixed<'_, S> {}
impl<S> RunQueryDsl<PgConnection> for Fixed<'_, S> {}

#[cfg(test)]
mod tests {
    use diesel::{connection::SimpleConnection, Connection, SqliteConnection};

    use super::*;
    use crate::db::{AnyConnection, QueryOnBackend};

    struct Rename;
    impl FixedSql for Rename {
        const PIECES: &'static [&'static str] = &["UPDATE t SET name = ", " WHERE id = ", ""];
    }

    #[test]
    fn a_fixed_statement_binds_its_parameters_in_order() {
        let mut conn = AnyConnection::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        conn.batch_execute(
            "CREATE TABLE t (id BIGINT, name TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');",
        )
        .unwrap();
        for name in ["x", "y"] {
            let changed =
                Fixed::<Rename>::new(vec![Param::Text(Some(name)), Param::BigInt(Some(2))])
                    .execute_on(&mut conn)
                    .unwrap();
            assert_eq!(changed, 1);
        }
        let changed = Fixed::<Rename>::new(vec![Param::Text(None), Param::BigInt(Some(1))])
            .execute_on(&mut conn)
            .unwrap();
        assert_eq!(changed, 1);
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Nullable<Text>)]
            name: Option<String>,
        }
        let AnyConnection::Sqlite(sqlite) = &mut conn else {
            unreachable!()
        };
        let names: Vec<Option<String>> = diesel::sql_query("SELECT name FROM t ORDER BY id")
            .load::<Row>(sqlite)
            .unwrap()
            .into_iter()
            .map(|row| row.name)
            .collect();
        assert_eq!(names, [None, Some("y".to_string())]);
    }
}
