//! `dead_properties`: the properties clients set with PROPPATCH (Nextcloud's `oc_properties`),
//! per user and node. Rows die with their node and their user (foreign keys).

use diesel::prelude::*;
use service_kit::db::{id_in, AnyConnection, QueryOnBackend, SelectColumns};

use super::schema::dead_properties;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = dead_properties)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DeadPropertyRow {
    pub node_id: i64,
    pub namespace: String,
    pub name: String,
    /// XML content that declares its own namespaces.
    pub value: String,
}

/// `uid`'s properties of the nodes among `node_ids`, by node, then namespace and name.
pub fn of_nodes(
    conn: &mut AnyConnection,
    uid: &str,
    node_ids: &[i64],
) -> QueryResult<Vec<DeadPropertyRow>> {
    dead_properties::table
        .filter(dead_properties::uid.eq(uid))
        .filter(id_in(dead_properties::node_id, node_ids))
        .order((
            dead_properties::node_id.asc(),
            dead_properties::namespace.asc(),
            dead_properties::name.asc(),
        ))
        .select(DeadPropertyRow::columns())
        .load_on::<DeadPropertyRow>(conn)
}

/// Sets a property in one statement, replacing its value when it exists.
pub fn set(conn: &mut AnyConnection, uid: &str, row: &DeadPropertyRow) -> QueryResult<()> {
    diesel::insert_into(dead_properties::table)
        .values((
            dead_properties::node_id.eq(row.node_id),
            dead_properties::uid.eq(uid),
            dead_properties::namespace.eq(&row.namespace),
            dead_properties::name.eq(&row.name),
            dead_properties::value.eq(&row.value),
        ))
        .on_conflict((
            dead_properties::node_id,
            dead_properties::uid,
            dead_properties::namespace,
            dead_properties::name,
        ))
        .do_update()
        .set(dead_properties::value.eq(&row.value))
        .execute_on(conn)
        .map(drop)
}

/// Removes a property; removing one that is not there is no error (RFC 4918 §14.23).
pub fn remove(
    conn: &mut AnyConnection,
    node_id: i64,
    uid: &str,
    namespace: &str,
    name: &str,
) -> QueryResult<usize> {
    diesel::delete(
        dead_properties::table
            .filter(dead_properties::node_id.eq(node_id))
            .filter(dead_properties::uid.eq(uid))
            .filter(dead_properties::namespace.eq(namespace))
            .filter(dead_properties::name.eq(name)),
    )
    .execute_on(conn)
}
