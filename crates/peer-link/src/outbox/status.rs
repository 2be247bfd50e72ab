//! What each side shows of its exchange with a peer, and what the health report lists.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend, SelectColumns};

use super::{pending, Policy};
use crate::schema::peer_outbox;

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeState {
    Delivered,
    /// Not delivered yet, without failing often enough to be stuck.
    Pending,
    /// Not delivered, failed at least [`Policy::stuck_after_attempts`] times; still retried.
    Stuck,
    /// Refused for good.
    Refused,
}

impl ExchangeState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Pending => "pending",
            Self::Stuck => "stuck",
            Self::Refused => "refused",
        }
    }
}

/// A message to a peer as a status line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub message_id: String,
    /// The event's `type` tag, e.g. `oauth_values_replaced`.
    pub event_type: String,
    pub state: ExchangeState,
    /// When it was delivered or refused; while pending, when it was last tried, or else enqueued
    /// (unix ms).
    pub at: i64,
    pub attempts: i64,
    /// The error of its last failed attempt (a delivered message may have needed retries).
    pub last_error: Option<String>,
}

/// The exchange as both services' admin pages and APIs show it.
impl From<Exchange> for storage_protocol::pairing::LastExchange {
    fn from(exchange: Exchange) -> Self {
        Self {
            event: exchange.event_type,
            state: exchange.state.as_str().to_string(),
            at: service_kit::time::iso8601_millis(exchange.at),
            attempts: exchange.attempts,
            last_error: exchange.last_error,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = peer_outbox)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ExchangeRow {
    peer: String,
    message_id: String,
    event_type: String,
    created_at: i64,
    attempts: i64,
    last_attempt_at: Option<i64>,
    last_error: Option<String>,
    delivered_at: Option<i64>,
    failed_at: Option<i64>,
}

impl ExchangeRow {
    fn state(&self, policy: &Policy) -> ExchangeState {
        if self.delivered_at.is_some() {
            ExchangeState::Delivered
        } else if self.failed_at.is_some() {
            ExchangeState::Refused
        } else if self.attempts >= policy.stuck_after_attempts {
            ExchangeState::Stuck
        } else {
            ExchangeState::Pending
        }
    }

    fn into_exchange(self, policy: &Policy) -> Exchange {
        Exchange {
            state: self.state(policy),
            at: self
                .delivered_at
                .or(self.failed_at)
                .or(self.last_attempt_at)
                .unwrap_or(self.created_at),
            message_id: self.message_id,
            event_type: self.event_type,
            attempts: self.attempts,
            last_error: self.last_error,
        }
    }
}

/// The last exchange with `peer`: its oldest pending message while it has one (a stuck message
/// holds up the ones behind it, so that is the one to show), else its newest message; `None`
/// when nothing was sent to it (or all of it was purged).
pub fn last_exchange(
    conn: &mut AnyConnection,
    peer: &str,
    policy: &Policy,
) -> QueryResult<Option<Exchange>> {
    let oldest_pending: Option<ExchangeRow> = peer_outbox::table
        .filter(peer_outbox::peer.eq(peer))
        .filter(pending())
        .order(peer_outbox::id.asc())
        .select(ExchangeRow::columns())
        .first_on(conn)
        .optional()?;
    let row = match oldest_pending {
        Some(row) => Some(row),
        None => peer_outbox::table
            .filter(peer_outbox::peer.eq(peer))
            .order(peer_outbox::id.desc())
            .select(ExchangeRow::columns())
            .first_on(conn)
            .optional()?,
    };
    Ok(row.map(|row| row.into_exchange(policy)))
}

/// The stuck messages, with their peers, for the health report: at most one per peer, since a
/// peer's later messages wait for its oldest.
pub fn stuck(conn: &mut AnyConnection, policy: &Policy) -> QueryResult<Vec<(String, Exchange)>> {
    let rows: Vec<ExchangeRow> = peer_outbox::table
        .filter(pending())
        .filter(peer_outbox::attempts.ge(policy.stuck_after_attempts))
        .order((peer_outbox::peer, peer_outbox::id))
        .select(ExchangeRow::columns())
        .load_on(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let peer = row.peer.clone();
            (peer, row.into_exchange(policy))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(attempts: i64, delivered_at: Option<i64>, failed_at: Option<i64>) -> ExchangeRow {
        ExchangeRow {
            peer: "storage:3".into(),
            message_id: "m".into(),
            event_type: "storage_deleted".into(),
            created_at: 100,
            attempts,
            last_attempt_at: (attempts > 0).then_some(200),
            last_error: None,
            delivered_at,
            failed_at,
        }
    }

    #[test]
    fn a_message_is_stuck_once_pending_after_enough_failures() {
        let policy = Policy::default();
        let states = [
            row(0, None, None),
            row(2, None, None),
            row(3, None, None),
            row(5, Some(300), None),
            row(1, None, Some(300)),
        ]
        .map(|row| row.state(&policy));
        assert_eq!(
            states,
            [
                ExchangeState::Pending,
                ExchangeState::Pending,
                ExchangeState::Stuck,
                ExchangeState::Delivered,
                ExchangeState::Refused,
            ]
        );
        assert_eq!(
            states.map(ExchangeState::as_str),
            ["pending", "pending", "stuck", "delivered", "refused"]
        );
    }

    #[test]
    fn the_time_shown_is_the_settlement_or_else_the_last_attempt_or_else_the_enqueueing() {
        let policy = Policy::default();
        let at = |row: ExchangeRow| row.into_exchange(&policy).at;
        assert_eq!(at(row(0, None, None)), 100);
        assert_eq!(at(row(1, None, None)), 200);
        assert_eq!(at(row(1, Some(300), None)), 300);
        assert_eq!(at(row(1, None, Some(400))), 400);
    }
}
