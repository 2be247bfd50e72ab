//! `openproject_token_refreshes`: per-user leases that let one caller at a time refresh the
//! user's OpenProject token, on any replica. Each statement is a single conditional write.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend};

use super::schema::openproject_token_refreshes as leases;

/// Claims the lease of `uid` until `until` when nobody holds it at `now`; true when claimed.
pub fn claim(conn: &mut AnyConnection, uid: &str, now: i64, until: i64) -> QueryResult<bool> {
    let taken_over = diesel::update(
        leases::table
            .filter(leases::uid.eq(uid))
            .filter(leases::locked_until.le(now)),
    )
    .set(leases::locked_until.eq(until))
    .execute_on(conn)?;
    if taken_over > 0 {
        return Ok(true);
    }
    // A live lease exists (or another caller inserted it first) when nothing is inserted; a
    // conflict must not abort the caller's transaction on PostgreSQL.
    let inserted = diesel::insert_into(leases::table)
        .values((leases::uid.eq(uid), leases::locked_until.eq(until)))
        .on_conflict_do_nothing()
        .execute_on(conn)?;
    Ok(inserted == 1)
}

/// Releases the lease of `uid` if it is still the one claimed until `until`.
pub fn release(conn: &mut AnyConnection, uid: &str, until: i64) -> QueryResult<()> {
    diesel::delete(
        leases::table
            .filter(leases::uid.eq(uid))
            .filter(leases::locked_until.eq(until)),
    )
    .execute_on(conn)
    .map(drop)
}

/// Whether someone holds the lease of `uid` at `now`.
pub fn is_held(conn: &mut AnyConnection, uid: &str, now: i64) -> QueryResult<bool> {
    let held: i64 = leases::table
        .filter(leases::uid.eq(uid))
        .filter(leases::locked_until.gt(now))
        .count()
        .get_result_on(conn)?;
    Ok(held > 0)
}
