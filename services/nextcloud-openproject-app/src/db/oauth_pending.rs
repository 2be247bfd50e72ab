//! `oauth_pending_authorizations`: authorization requests waiting for the user's consent, keyed
//! by the SHA-256 digest of a random id. Rows die with their client or their user.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend, SelectColumns};

use super::schema::oauth_pending_authorizations as pending;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = pending)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct PendingRow {
    pub id_digest: String,
    pub client_pk: i64,
    pub uid: String,
    pub state: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = pending)]
pub struct NewPendingRow<'a> {
    pub id_digest: &'a str,
    pub client_pk: i64,
    pub uid: &'a str,
    pub state: &'a str,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
    pub created_at: i64,
    pub expires_at: i64,
}

pub fn insert(conn: &mut AnyConnection, row: &NewPendingRow<'_>) -> QueryResult<()> {
    diesel::insert_into(pending::table)
        .values(row)
        .execute_on(conn)
        .map(drop)
}

/// The request of `uid` with this id digest, unless it expired before `now`.
pub fn find_live(
    conn: &mut AnyConnection,
    id_digest: &str,
    uid: &str,
    now: i64,
) -> QueryResult<Option<PendingRow>> {
    pending::table
        .filter(pending::id_digest.eq(id_digest))
        .filter(pending::uid.eq(uid))
        .filter(pending::expires_at.gt(now))
        .select(PendingRow::columns())
        .first_on::<PendingRow>(conn)
        .optional()
}

/// Deletes one request; the rows deleted tell whether this caller consumed it.
pub fn delete(conn: &mut AnyConnection, id_digest: &str) -> QueryResult<usize> {
    diesel::delete(pending::table.find(id_digest)).execute_on(conn)
}

/// Removes requests that expired before `now`.
pub fn delete_expired(conn: &mut AnyConnection, now: i64) -> QueryResult<usize> {
    diesel::delete(pending::table.filter(pending::expires_at.le(now))).execute_on(conn)
}
