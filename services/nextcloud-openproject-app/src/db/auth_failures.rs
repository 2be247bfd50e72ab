//! `auth_failures`: failed logins per client address within a sliding window.

use diesel::prelude::*;
use service_kit::db::{is_unique_violation, AnyConnection};

use super::schema::auth_failures;

/// Failures of `address` in the window that is current at `now`.
pub fn current(
    conn: &mut AnyConnection,
    address: &str,
    now: i64,
    window_millis: i64,
) -> QueryResult<i64> {
    let row: Option<(i64, i64)> = auth_failures::table
        .filter(auth_failures::client_address.eq(address))
        .select((auth_failures::failures, auth_failures::window_started_at))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((failures, started)) if now - started < window_millis => failures,
        _ => 0,
    })
}

/// Counts one failure of `address`: a new window starts when the last one has passed.
/// Each step is one conditional statement, so concurrent replicas never lose a count.
pub fn record(
    conn: &mut AnyConnection,
    address: &str,
    now: i64,
    window_millis: i64,
) -> QueryResult<()> {
    let in_window = diesel::update(
        auth_failures::table
            .filter(auth_failures::client_address.eq(address))
            .filter(auth_failures::window_started_at.gt(now - window_millis)),
    )
    .set(auth_failures::failures.eq(auth_failures::failures + 1))
    .execute(conn)?;
    if in_window == 1 {
        return Ok(());
    }
    let restarted =
        diesel::update(auth_failures::table.filter(auth_failures::client_address.eq(address)))
            .set((
                auth_failures::failures.eq(1),
                auth_failures::window_started_at.eq(now),
            ))
            .execute(conn)?;
    if restarted == 1 {
        return Ok(());
    }
    let inserted = diesel::insert_into(auth_failures::table)
        .values((
            auth_failures::client_address.eq(address),
            auth_failures::failures.eq(1),
            auth_failures::window_started_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        // Another replica inserted the row first: count on it.
        Err(e) if is_unique_violation(&e) => {
            diesel::update(auth_failures::table.filter(auth_failures::client_address.eq(address)))
                .set(auth_failures::failures.eq(auth_failures::failures + 1))
                .execute(conn)
                .map(drop)
        }
        other => other.map(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_count_within_the_window_and_restart_after_it() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        assert_eq!(current(conn, "10.0.0.1", 1_000, 100).unwrap(), 0);
        record(conn, "10.0.0.1", 1_000, 100).unwrap();
        record(conn, "10.0.0.1", 1_050, 100).unwrap();
        assert_eq!(current(conn, "10.0.0.1", 1_060, 100).unwrap(), 2);
        assert_eq!(current(conn, "10.0.0.2", 1_060, 100).unwrap(), 0);
        // The window has passed: the count is over, and the next failure starts a new one.
        assert_eq!(current(conn, "10.0.0.1", 1_100, 100).unwrap(), 0);
        record(conn, "10.0.0.1", 1_200, 100).unwrap();
        assert_eq!(current(conn, "10.0.0.1", 1_210, 100).unwrap(), 1);
    }
}
