//! `column IN (ids)` as one statement, prepared once, whatever the number of ids.
//!
//! diesel writes `eq_any` on SQLite as one placeholder per id, so it writes and prepares the
//! statement anew on every call (a tenth of a 20-file `filesinfo`'s CPU), and a list longer
//! than SQLite's limit on placeholders fails. Here the ids travel as one text parameter, a JSON
//! array that each backend unpacks itself, and the statement is cached like any other.

use diesel::{
    expression::{is_aggregate, AppearsOnTable, Expression, ValidGrouping},
    pg::Pg,
    query_builder::{AstPass, QueryFragment, QueryId},
    sql_types::{BigInt, Bool, Nullable, Text},
    sqlite::Sqlite,
    QueryResult, SelectableExpression,
};

/// `column IN (ids)`: true for the rows whose `column` is one of `ids` (none for no ids).
pub fn id_in<C>(column: C, ids: &[i64]) -> IdIn<C>
where
    C: Expression,
    C::SqlType: IntegerKey,
{
    IdIn {
        column,
        ids: serde_json::to_string(ids).expect("a list of integers serializes"),
    }
}

/// The column types [`id_in`] compares with integers.
pub trait IntegerKey {}
impl IntegerKey for BigInt {}
impl IntegerKey for Nullable<BigInt> {}

/// See [`id_in`].
#[derive(Debug, Clone, QueryId)]
pub struct IdIn<C> {
    column: C,
    /// The ids as a JSON array.
    ids: String,
}

impl<C: Expression> Expression for IdIn<C> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, QS: ?Sized> AppearsOnTable<QS> for IdIn<C> {}

impl<C: SelectableExpression<QS>, QS: ?Sized> SelectableExpression<QS> for IdIn<C> {}

impl<C: ValidGrouping<()>> ValidGrouping<()> for IdIn<C> {
    type IsAggregate = is_aggregate::Never;
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for IdIn<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.ids)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for IdIn<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        // `= ANY(array)` rather than `IN (subquery)`: the planner reads it as an index condition
        // instead of a join with a set of unknown size.
        out.push_sql(" = ANY(ARRAY(SELECT CAST(jsonb_array_elements_text(CAST(");
        out.push_bind_param::<Text, _>(&self.ids)?;
        out.push_sql(" AS JSONB)) AS BIGINT)))");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use diesel::{
        connection::{InstrumentationEvent, SimpleConnection},
        prelude::*,
    };

    use super::id_in;
    use crate::{
        db::{AnyConnection, Db, QueryOnBackend},
        testing::TestDatabase,
    };

    diesel::table! {
        numbers (id) {
            id -> BigInt,
            parent -> Nullable<BigInt>,
            name -> Text,
        }
    }

    fn named(conn: &mut AnyConnection, ids: &[i64]) -> Vec<String> {
        numbers::table
            .filter(id_in(numbers::id, ids))
            .order(numbers::id)
            .select(numbers::name)
            .load_on(conn)
            .unwrap()
    }

    #[test]
    fn the_listed_rows_with_one_statement_prepared_once_on_either_backend() {
        let database = TestDatabase::create("id_in");
        let db = Db::connect(&database.url).unwrap();
        let conn = &mut *db.get().unwrap();
        conn.batch_execute(
            "CREATE TABLE numbers (id BIGINT PRIMARY KEY, parent BIGINT, name TEXT NOT NULL);
             INSERT INTO numbers VALUES (1, NULL, 'one'), (2, 1, 'two'), (3, 1, 'three')",
        )
        .unwrap();
        let prepared = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = prepared.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::CacheQuery { sql, .. } = event {
                log.lock().unwrap().push(sql.to_string());
            }
        });

        assert_eq!(named(conn, &[3, 1, 3, 99]), ["one", "three"]);
        assert_eq!(named(conn, &[2]), ["two"]);
        assert!(named(conn, &[]).is_empty());
        let many: Vec<i64> = (0..40_000).collect();
        assert_eq!(named(conn, &many), ["one", "two", "three"]);
        assert_eq!(prepared.lock().unwrap().len(), 1, "{prepared:?}");

        let children: Vec<i64> = numbers::table
            .filter(id_in(numbers::parent, &[1]))
            .order(numbers::id)
            .select(numbers::id)
            .load_on(conn)
            .unwrap();
        assert_eq!(children, [2, 3]);
    }
}
