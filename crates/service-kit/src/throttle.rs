//! Throttling of failed logins and failed OAuth client authentication, kept in the database so
//! every replica sees the same counts.
//!
//! The rule both services follow: **failures others caused never refuse a correct credential.**
//!
//! - *Logins* (passwords, app passwords, API keys) are counted under two keys: the pair
//!   (client address, account) and the account. Before a password is checked, the pair's own
//!   failures may delay or refuse it; the account's failures (from anywhere) count only once
//!   this address has itself failed for this account. So failures of other accounts from the
//!   same address, or of this account from other addresses, never stop a client that has not
//!   failed; a distributed guesser gets one free guess per address. A success clears the pair.
//! - *OAuth client authentication* (token, revoke, introspect), and OpenProject's API keys, are
//!   checked first: a correct client secret or key always passes. Failures are counted per client address, and the failing
//!   requests themselves are delayed and then refused (429). Client secrets are long random
//!   values, so no throttle is needed to protect them, only to slow down the noise.
//!
//! Keys are SHA-256 digests of a domain-separated tuple ([`ThrottleKey`]): every row has the
//! same size whatever a request sent. Rows whose window has passed are deleted when the next
//! failure is recorded. Each service's migrations create the table:
//!
//! ```sql
//! CREATE TABLE throttle_failures (
//!     key_digest TEXT PRIMARY KEY NOT NULL CHECK (length(key_digest) = 64),
//!     failures BIGINT NOT NULL, window_started_at BIGINT NOT NULL);
//! CREATE INDEX throttle_failures_window ON throttle_failures (window_started_at);
//! ```

use std::fmt::Write as _;

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::{
    auth::{ThrottleDecision, ThrottlePolicy},
    db::{AnyConnection, QueryOnBackend},
};

/// The table, defined once for both services: counts under digests, replacing the first
/// version's `auth_failures`, which held raw addresses and client ids.
pub const MIGRATION: crate::db::SharedMigration = crate::db::SharedMigration {
    name: "2026-12-01-000001_throttle_keys",
    up: |_| include_str!("../migrations/throttle_keys.sql").to_string(),
    down: |_| include_str!("../migrations/throttle_keys.down.sql").to_string(),
};

diesel::table! {
    throttle_failures (key_digest) {
        key_digest -> Text,
        failures -> BigInt,
        window_started_at -> BigInt,
    }
}

/// What failures are counted under: a fixed-size digest (64 hex digits) of what it names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThrottleKey(String);

impl ThrottleKey {
    /// Failed logins of `account` (case-insensitive) from `address`.
    pub fn login_pair(address: &str, account: &str) -> Self {
        Self::digest("login-pair", &[address, &account.trim().to_lowercase()])
    }

    /// Failed logins of `account` (case-insensitive) from any address.
    pub fn login_account(account: &str) -> Self {
        Self::digest("login-account", &[&account.trim().to_lowercase()])
    }

    /// Failed OAuth client authentication from `address`.
    pub fn client_authentication(address: &str) -> Self {
        Self::digest("client-authentication", &[address])
    }

    /// Failed API-key logins from `address` (API keys name no account).
    pub fn api_key(address: &str) -> Self {
        Self::digest("api-key", &[address])
    }

    /// SHA-256 over a version tag, the kind and each part, every one length-prefixed, so no two
    /// different tuples share a digest input.
    fn digest(kind: &str, parts: &[&str]) -> Self {
        let mut hasher = Sha256::new();
        for field in std::iter::once("throttle-v1")
            .chain(std::iter::once(kind))
            .chain(parts.iter().copied())
        {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        let mut hex = String::with_capacity(64);
        for byte in hasher.finalize() {
            let _ = write!(hex, "{byte:02x}");
        }
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The pure rule for a login: the pair's own failures decide; the account's failures join in
/// only when this address has failed for this account too. The stricter answer wins.
pub fn login_decision(
    policy: &ThrottlePolicy,
    pair_failures: i64,
    account_failures: i64,
) -> ThrottleDecision {
    let pair = policy.decide(pair_failures);
    if pair_failures == 0 {
        return pair;
    }
    stricter(pair, policy.decide(account_failures))
}

fn stricter(a: ThrottleDecision, b: ThrottleDecision) -> ThrottleDecision {
    match (a, b) {
        (ThrottleDecision::Refuse, _) | (_, ThrottleDecision::Refuse) => ThrottleDecision::Refuse,
        (ThrottleDecision::Delay(x), ThrottleDecision::Delay(y)) => {
            ThrottleDecision::Delay(x.max(y))
        }
        (ThrottleDecision::Delay(d), _) | (_, ThrottleDecision::Delay(d)) => {
            ThrottleDecision::Delay(d)
        }
        _ => ThrottleDecision::Allow,
    }
}

/// One login attempt: who from where, and what the throttle says before the password is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCheck {
    pair: ThrottleKey,
    account: ThrottleKey,
    /// Whether this address has failed for this account in the window (a success then clears it).
    pair_has_failed: bool,
    pub decision: ThrottleDecision,
}

impl LoginCheck {
    /// Whether this address has failed for this account in the window: only then does a
    /// success have something to clear.
    pub fn pair_has_failed(&self) -> bool {
        self.pair_has_failed
    }
}

/// Reads both counts of a login attempt in one statement.
pub fn check_login(
    conn: &mut AnyConnection,
    policy: &ThrottlePolicy,
    address: &str,
    account: &str,
    now: i64,
) -> QueryResult<LoginCheck> {
    let pair = ThrottleKey::login_pair(address, account);
    let account = ThrottleKey::login_account(account);
    let counts = failures_of(conn, policy, &[&pair, &account], now)?;
    Ok(LoginCheck {
        decision: login_decision(policy, counts[0], counts[1]),
        pair_has_failed: counts[0] > 0,
        pair,
        account,
    })
}

/// The password was wrong: counts against the pair and the account.
pub fn login_failed(
    conn: &mut AnyConnection,
    policy: &ThrottlePolicy,
    check: &LoginCheck,
    now: i64,
) -> QueryResult<()> {
    record_failure(conn, policy, &check.pair, now)?;
    record_failure(conn, policy, &check.account, now)
}

/// The password was right: the pair starts afresh. Writes only when the pair had failed, so a
/// plain successful login costs no write (callers may skip the call on
/// [`LoginCheck::pair_has_failed`] to save the trip as well).
pub fn login_succeeded(conn: &mut AnyConnection, check: &LoginCheck) -> QueryResult<()> {
    if check.pair_has_failed {
        clear(conn, &check.pair)?;
    }
    Ok(())
}

/// A client failed to authenticate from `address`: the answer its failure gets (refused when
/// the address is over the limit, else perhaps delayed); counted unless refused.
pub fn client_authentication_failed(
    conn: &mut AnyConnection,
    policy: &ThrottlePolicy,
    address: &str,
    now: i64,
) -> QueryResult<ThrottleDecision> {
    secret_failed(
        conn,
        policy,
        &ThrottleKey::client_authentication(address),
        now,
    )
}

/// A long random secret (client secret, API key) was checked first and did not match: the
/// answer this failure gets, from the failures counted under `key` before it; counted unless
/// refused. The right secret is never looked at here, so it is never refused.
pub fn secret_failed(
    conn: &mut AnyConnection,
    policy: &ThrottlePolicy,
    key: &ThrottleKey,
    now: i64,
) -> QueryResult<ThrottleDecision> {
    let decision = policy.decide(failures_of(conn, policy, &[key], now)?[0]);
    if decision != ThrottleDecision::Refuse {
        record_failure(conn, policy, key, now)?;
    }
    Ok(decision)
}

/// Failures of each key inside the policy window, in the order given; one statement.
pub fn failures_of(
    conn: &mut AnyConnection,
    policy: &ThrottlePolicy,
    keys: &[&ThrottleKey],
    now: i64,
) -> QueryResult<Vec<i64>> {
    let rows: Vec<(String, i64, i64)> = throttle_failures::table
        .filter(throttle_failures::key_digest.eq_any(keys.iter().map(|k| k.as_str())))
        .select((
            throttle_failures::key_digest,
            throttle_failures::failures,
            throttle_failures::window_started_at,
        ))
        .load_on(conn)?;
    Ok(keys
        .iter()
        .map(|key| {
            rows.iter()
                .find(|(digest, _, _)| digest == key.as_str())
                .filter(|(_, _, started)| now - started < policy.window_millis)
                .map_or(0, |(_, count, _)| *count)
        })
        .collect())
}

/// Deletes the rows of every window that has passed (housekeeping; a new failure does it too).
pub fn purge_expired(
    conn: &mut AnyConnection,
    policy: &ThrottlePolicy,
    now: i64,
) -> QueryResult<usize> {
    diesel::delete(
        throttle_failures::table
            .filter(throttle_failures::window_started_at.le(now - policy.window_millis)),
    )
    .execute_on(conn)
}

/// Counts one failure under `key`: restarts the window when it has passed, and deletes the
/// rows of every window that has passed.
pub fn record_failure(
    conn: &mut AnyConnection,
    policy: &ThrottlePolicy,
    key: &ThrottleKey,
    now: i64,
) -> QueryResult<()> {
    let window_start = now - policy.window_millis;
    diesel::delete(
        throttle_failures::table.filter(throttle_failures::window_started_at.le(window_start)),
    )
    .execute_on(conn)?;
    let key = key.as_str();
    // One conditional statement each, so concurrent failures are all counted.
    let bumped = diesel::update(
        throttle_failures::table
            .filter(throttle_failures::key_digest.eq(key))
            .filter(throttle_failures::window_started_at.gt(window_start)),
    )
    .set(throttle_failures::failures.eq(throttle_failures::failures + 1))
    .execute_on(conn)?;
    if bumped > 0 {
        return Ok(());
    }
    let restarted =
        diesel::update(throttle_failures::table.filter(throttle_failures::key_digest.eq(key)))
            .set((
                throttle_failures::failures.eq(1),
                throttle_failures::window_started_at.eq(now),
            ))
            .execute_on(conn)?;
    if restarted > 0 {
        return Ok(());
    }
    let inserted = diesel::insert_into(throttle_failures::table)
        .values((
            throttle_failures::key_digest.eq(key),
            throttle_failures::failures.eq(1),
            throttle_failures::window_started_at.eq(now),
        ))
        .execute_on(conn);
    match inserted {
        // Another replica inserted the row first: count on it.
        Err(e) if crate::db::is_unique_violation(&e) => {
            diesel::update(throttle_failures::table.filter(throttle_failures::key_digest.eq(key)))
                .set(throttle_failures::failures.eq(throttle_failures::failures + 1))
                .execute_on(conn)
                .map(drop)
        }
        other => other.map(drop),
    }
}

/// Forgets the failures under `key`.
pub fn clear(conn: &mut AnyConnection, key: &ThrottleKey) -> QueryResult<()> {
    diesel::delete(throttle_failures::table.find(key.as_str())).execute_on(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use diesel::{connection::SimpleConnection, Connection, SqliteConnection};

    use super::*;

    fn database() -> AnyConnection {
        let mut conn = AnyConnection::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        if let AnyConnection::Sqlite(c) = &mut conn {
            c.batch_execute(
                "CREATE TABLE throttle_failures (key_digest TEXT PRIMARY KEY NOT NULL \
                 CHECK (length(key_digest) = 64), failures BIGINT NOT NULL, \
                 window_started_at BIGINT NOT NULL)",
            )
            .unwrap();
        }
        conn
    }

    const POLICY: ThrottlePolicy = ThrottlePolicy {
        free_failures: 1,
        max_failures: 2,
        window_millis: 100,
    };

    #[test]
    fn keys_are_fixed_size_and_kept_apart() {
        let huge = "x".repeat(900 * 1024);
        for key in [
            ThrottleKey::login_pair("10.0.0.1", &huge),
            ThrottleKey::login_account(&huge),
            ThrottleKey::client_authentication(&huge),
        ] {
            assert_eq!(key.as_str().len(), 64);
            assert!(key.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_ne!(
            ThrottleKey::login_pair("a", "bc"),
            ThrottleKey::login_pair("ab", "c"),
            "length prefixes keep the parts apart"
        );
        assert_ne!(
            ThrottleKey::login_account("10.0.0.1"),
            ThrottleKey::client_authentication("10.0.0.1"),
            "kinds are separate"
        );
        assert_eq!(
            ThrottleKey::login_account(" Admin"),
            ThrottleKey::login_account("admin"),
            "logins are case-insensitive"
        );
    }

    #[test]
    fn the_account_counts_only_after_the_address_failed_for_it() {
        let policy = ThrottlePolicy {
            free_failures: 2,
            max_failures: 5,
            window_millis: 1_000,
        };
        assert_eq!(login_decision(&policy, 0, 100), ThrottleDecision::Allow);
        assert_eq!(login_decision(&policy, 1, 0), ThrottleDecision::Allow);
        assert_eq!(login_decision(&policy, 1, 100), ThrottleDecision::Refuse);
        assert!(matches!(
            login_decision(&policy, 1, 3),
            ThrottleDecision::Delay(_)
        ));
        assert_eq!(login_decision(&policy, 5, 0), ThrottleDecision::Refuse);
        assert_eq!(
            login_decision(&policy, 3, 4),
            ThrottleDecision::Delay(Duration::from_millis(400)),
            "the longer delay"
        );
    }

    #[test]
    fn logins_are_counted_per_pair_and_account() {
        let conn = &mut database();
        let check = check_login(conn, &POLICY, "10.0.0.1", "alice", 1_000).unwrap();
        assert_eq!(check.decision, ThrottleDecision::Allow);
        login_failed(conn, &POLICY, &check, 1_000).unwrap();
        login_failed(conn, &POLICY, &check, 1_010).unwrap();
        let again = check_login(conn, &POLICY, "10.0.0.1", "ALICE", 1_020).unwrap();
        assert_eq!(again.decision, ThrottleDecision::Refuse);
        // Another account from the same address, and Alice from another address, are free.
        let bob = check_login(conn, &POLICY, "10.0.0.1", "bob", 1_020).unwrap();
        assert_eq!(bob.decision, ThrottleDecision::Allow);
        let elsewhere = check_login(conn, &POLICY, "10.0.0.2", "alice", 1_020).unwrap();
        assert_eq!(elsewhere.decision, ThrottleDecision::Allow);
        // Until that address fails for Alice too: then Alice's count applies there.
        login_failed(conn, &POLICY, &elsewhere, 1_030).unwrap();
        let elsewhere = check_login(conn, &POLICY, "10.0.0.2", "alice", 1_040).unwrap();
        assert_eq!(elsewhere.decision, ThrottleDecision::Refuse);
        // A success clears its own pair only.
        let bob = check_login(conn, &POLICY, "10.0.0.1", "bob", 1_050).unwrap();
        login_failed(conn, &POLICY, &bob, 1_050).unwrap();
        let bob = check_login(conn, &POLICY, "10.0.0.1", "bob", 1_060).unwrap();
        login_succeeded(conn, &bob).unwrap();
        let pair = ThrottleKey::login_pair("10.0.0.1", "bob");
        let account = ThrottleKey::login_account("bob");
        assert_eq!(
            failures_of(conn, &POLICY, &[&pair, &account], 1_060).unwrap(),
            vec![0, 1]
        );
    }

    #[test]
    fn client_failures_are_refused_past_the_limit_and_windows_end() {
        let conn = &mut database();
        let decide = |conn: &mut AnyConnection, now| {
            client_authentication_failed(conn, &POLICY, "10.0.0.1", now).unwrap()
        };
        assert_eq!(decide(conn, 1_000), ThrottleDecision::Allow);
        assert_eq!(decide(conn, 1_010), ThrottleDecision::Allow);
        assert_eq!(decide(conn, 1_020), ThrottleDecision::Refuse);
        assert_eq!(decide(conn, 1_030), ThrottleDecision::Refuse);
        let key = ThrottleKey::client_authentication("10.0.0.1");
        assert_eq!(
            failures_of(conn, &POLICY, &[&key], 1_030).unwrap(),
            vec![2],
            "refused attempts are not written"
        );
        // The window has passed: the count is over, and the next failure starts a new one.
        assert_eq!(failures_of(conn, &POLICY, &[&key], 1_100).unwrap(), vec![0]);
        assert_eq!(decide(conn, 1_200), ThrottleDecision::Allow);
        assert_eq!(failures_of(conn, &POLICY, &[&key], 1_210).unwrap(), vec![1]);
    }

    #[test]
    fn recording_a_failure_deletes_rows_whose_window_passed() {
        let conn = &mut database();
        for n in 0..10 {
            record_failure(
                conn,
                &POLICY,
                &ThrottleKey::client_authentication(&format!("10.0.0.{n}")),
                1_000,
            )
            .unwrap();
        }
        record_failure(conn, &POLICY, &ThrottleKey::login_account("a"), 1_100).unwrap();
        let rows: i64 = throttle_failures::table
            .count()
            .get_result_on(conn)
            .unwrap();
        assert_eq!(rows, 1);
    }
}
