//! Failed-login throttling per client address, kept in the database so every replica sees the
//! same counts. Each service's migrations create the table:
//!
//! ```sql
//! CREATE TABLE auth_failures (client_address TEXT PRIMARY KEY NOT NULL,
//!                             failures BIGINT NOT NULL, window_started_at BIGINT NOT NULL);
//! ```

use crate::db::QueryOnBackend;
use diesel::prelude::*;

use crate::{
    auth::{ThrottleDecision, ThrottlePolicy},
    db::AnyConnection,
};

diesel::table! {
    auth_failures (client_address) {
        client_address -> Text,
        failures -> BigInt,
        window_started_at -> BigInt,
    }
}

/// Failures of `address` inside the policy window.
pub fn failures(
    conn: &mut AnyConnection,
    policy: &ThrottlePolicy,
    address: &str,
    now: i64,
) -> QueryResult<i64> {
    let row: Option<(i64, i64)> = auth_failures::table
        .find(address)
        .select((auth_failures::failures, auth_failures::window_started_at))
        .first_on(conn)
        .optional()?;
    Ok(match row {
        Some((count, started)) if now - started < policy.window_millis => count,
        _ => 0,
    })
}

/// What to do with an attempt from `address` now.
pub fn decide(
    conn: &mut AnyConnection,
    policy: &ThrottlePolicy,
    address: &str,
    now: i64,
) -> QueryResult<ThrottleDecision> {
    Ok(policy.decide(failures(conn, policy, address, now)?))
}

/// What to do with an attempt that counts against every one of `keys` (say, the client address
/// and the client id): refused when any key is over the limit, else the longest delay owed.
pub fn decide_all(
    conn: &mut AnyConnection,
    policy: &ThrottlePolicy,
    keys: &[String],
    now: i64,
) -> QueryResult<ThrottleDecision> {
    let mut longest: Option<std::time::Duration> = None;
    for key in keys {
        match decide(conn, policy, key, now)? {
            ThrottleDecision::Refuse => return Ok(ThrottleDecision::Refuse),
            ThrottleDecision::Delay(d) => longest = Some(longest.map_or(d, |l| l.max(d))),
            ThrottleDecision::Allow => {}
        }
    }
    Ok(longest.map_or(ThrottleDecision::Allow, ThrottleDecision::Delay))
}

/// Counts one failure: restarts the window when it has passed.
pub fn record_failure(
    conn: &mut AnyConnection,
    policy: &ThrottlePolicy,
    address: &str,
    now: i64,
) -> QueryResult<()> {
    let window_start = now - policy.window_millis;
    // One conditional statement each, so concurrent failures are all counted.
    let bumped = diesel::update(
        auth_failures::table
            .filter(auth_failures::client_address.eq(address))
            .filter(auth_failures::window_started_at.gt(window_start)),
    )
    .set(auth_failures::failures.eq(auth_failures::failures + 1))
    .execute_on(conn)?;
    if bumped > 0 {
        return Ok(());
    }
    let restarted =
        diesel::update(auth_failures::table.filter(auth_failures::client_address.eq(address)))
            .set((
                auth_failures::failures.eq(1),
                auth_failures::window_started_at.eq(now),
            ))
            .execute_on(conn)?;
    if restarted > 0 {
        return Ok(());
    }
    let inserted = diesel::insert_into(auth_failures::table)
        .values((
            auth_failures::client_address.eq(address),
            auth_failures::failures.eq(1),
            auth_failures::window_started_at.eq(now),
        ))
        .execute_on(conn);
    match inserted {
        // Another replica inserted the row first: count on it.
        Err(e) if crate::db::is_unique_violation(&e) => {
            diesel::update(auth_failures::table.filter(auth_failures::client_address.eq(address)))
                .set(auth_failures::failures.eq(auth_failures::failures + 1))
                .execute_on(conn)
                .map(drop)
        }
        other => other.map(drop),
    }
}

/// A successful login clears the address's record.
pub fn clear(conn: &mut AnyConnection, address: &str) -> QueryResult<()> {
    diesel::delete(auth_failures::table.find(address)).execute_on(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use diesel::{connection::SimpleConnection, Connection, SqliteConnection};

    use super::*;

    #[test]
    fn failures_count_within_the_window_and_restart_after_it() {
        let mut conn = AnyConnection::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        if let AnyConnection::Sqlite(c) = &mut conn {
            c.batch_execute(
                "CREATE TABLE auth_failures (client_address TEXT PRIMARY KEY NOT NULL, \
                 failures BIGINT NOT NULL, window_started_at BIGINT NOT NULL)",
            )
            .unwrap();
        }
        let policy = ThrottlePolicy {
            free_failures: 1,
            max_failures: 2,
            window_millis: 100,
        };
        let conn = &mut conn;
        assert_eq!(failures(conn, &policy, "10.0.0.1", 1_000).unwrap(), 0);
        record_failure(conn, &policy, "10.0.0.1", 1_000).unwrap();
        record_failure(conn, &policy, "10.0.0.1", 1_050).unwrap();
        assert_eq!(failures(conn, &policy, "10.0.0.1", 1_060).unwrap(), 2);
        assert_eq!(
            decide(conn, &policy, "10.0.0.1", 1_060).unwrap(),
            ThrottleDecision::Refuse
        );
        assert_eq!(failures(conn, &policy, "10.0.0.2", 1_060).unwrap(), 0);
        // The window has passed: the count is over, and the next failure starts a new one.
        assert_eq!(failures(conn, &policy, "10.0.0.1", 1_100).unwrap(), 0);
        record_failure(conn, &policy, "10.0.0.1", 1_200).unwrap();
        assert_eq!(failures(conn, &policy, "10.0.0.1", 1_210).unwrap(), 1);
        clear(conn, "10.0.0.1").unwrap();
        assert_eq!(failures(conn, &policy, "10.0.0.1", 1_210).unwrap(), 0);
    }
}
