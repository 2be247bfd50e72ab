//! `oauth_clients`: the clients of this authorization server, secrets stored as digests only.
//! Later tables of codes and tokens reference `oauth_clients(id) ON DELETE CASCADE`, so deleting
//! a client here ends everything it issued in the same statement.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend, SelectColumns};

use super::schema::oauth_clients;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = oauth_clients)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct OAuthClientRow {
    pub id: i64,
    pub name: String,
    pub client_identifier: String,
    pub secret_digest: String,
    pub redirect_uri: String,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = oauth_clients)]
pub struct NewOAuthClientRow<'a> {
    pub name: &'a str,
    pub client_identifier: &'a str,
    pub secret_digest: &'a str,
    pub redirect_uri: &'a str,
    pub created_at: i64,
}

/// Inserts a client and returns its id.
pub fn insert(conn: &mut AnyConnection, row: &NewOAuthClientRow<'_>) -> QueryResult<i64> {
    diesel::insert_into(oauth_clients::table)
        .values(row)
        .returning(oauth_clients::id)
        .get_result_on(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<OAuthClientRow>> {
    oauth_clients::table
        .find(id)
        .select(OAuthClientRow::columns())
        .first_on::<OAuthClientRow>(conn)
        .optional()
}

/// The client with this public `client_id`.
pub fn find_by_identifier(
    conn: &mut AnyConnection,
    client_identifier: &str,
) -> QueryResult<Option<OAuthClientRow>> {
    oauth_clients::table
        .filter(oauth_clients::client_identifier.eq(client_identifier))
        .select(OAuthClientRow::columns())
        .first_on::<OAuthClientRow>(conn)
        .optional()
}

/// Every client, oldest first.
pub fn all(conn: &mut AnyConnection) -> QueryResult<Vec<OAuthClientRow>> {
    oauth_clients::table
        .select(OAuthClientRow::columns())
        .order(oauth_clients::id.asc())
        .load_on::<OAuthClientRow>(conn)
}

pub fn set_redirect_uri(conn: &mut AnyConnection, id: i64, uri: &str) -> QueryResult<usize> {
    diesel::update(oauth_clients::table.find(id))
        .set(oauth_clients::redirect_uri.eq(uri))
        .execute_on(conn)
}

/// Replaces the stored digest of the client's secret (the upgrade to a keyed digest).
pub fn set_secret_digest(conn: &mut AnyConnection, id: i64, digest: &str) -> QueryResult<usize> {
    diesel::update(oauth_clients::table.find(id))
        .set(oauth_clients::secret_digest.eq(digest))
        .execute_on(conn)
}

/// Deletes every client (and, through the foreign keys, everything they issued).
pub fn delete_all(conn: &mut AnyConnection) -> QueryResult<usize> {
    diesel::delete(oauth_clients::table).execute_on(conn)
}
