//! `direct_downloads`: tokens of direct download links, by digest.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend};

use super::schema::direct_downloads;

pub fn insert(
    conn: &mut AnyConnection,
    token_digest: &str,
    uid: &str,
    file_id: i64,
    expires_at: i64,
) -> QueryResult<()> {
    diesel::insert_into(direct_downloads::table)
        .values((
            direct_downloads::token_digest.eq(token_digest),
            direct_downloads::uid.eq(uid),
            direct_downloads::file_id.eq(file_id),
            direct_downloads::expires_at.eq(expires_at),
        ))
        .execute_on(conn)
        .map(|_| ())
}

/// The user and file of a token that has not expired at `now`.
pub fn find_valid(
    conn: &mut AnyConnection,
    token_digest: &str,
    now: i64,
) -> QueryResult<Option<(String, i64)>> {
    direct_downloads::table
        .filter(direct_downloads::token_digest.eq(token_digest))
        .filter(direct_downloads::expires_at.gt(now))
        .select((direct_downloads::uid, direct_downloads::file_id))
        .first_on(conn)
        .optional()
}

/// Deletes the tokens expired at `now`.
pub fn purge_expired(conn: &mut AnyConnection, now: i64) -> QueryResult<usize> {
    diesel::delete(direct_downloads::table.filter(direct_downloads::expires_at.le(now)))
        .execute_on(conn)
}
