//! The durable outbox: messages to a peer, written in the transaction of the change that causes
//! them, so a message exists exactly when its change was committed. Every replica's
//! [`Courier`](crate::delivery::Courier) then delivers them: each peer's in the order they were
//! enqueued, each message sent by one replica at a time (it claims the message under a lease),
//! retried with backoff while the peer is down or slow. Delivered and refused messages stay for
//! the status line until [`purge`]d.
//!
//! The event is stored sealed with the service's secret box, since it may carry a client secret;
//! its `type` tag is stored beside it in clear for status lines and logs. Every function takes the
//! time as unix milliseconds and reads no clock.

use std::fmt;

use diesel::{
    dsl::{And, IsNull, LtEq, Or},
    prelude::*,
};
use service_kit::{
    crypto::{random_urlsafe, SecretBox},
    db::{id_in, AnyConnection, QueryOnBackend, SelectColumns},
};
use storage_protocol::pairing::PeerEvent;

use crate::schema::peer_outbox;

mod status;

pub use status::{last_exchange, stuck, Exchange, ExchangeState};

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The sender's name for the peer (`storage:3`, `openproject`): the messages of one name are
    /// delivered in order, and status is kept per name.
    pub peer: String,
    /// The peer's public base URL.
    pub peer_url: String,
    /// Its message endpoint below that URL.
    pub path: String,
}

/// How delivery is paced. All durations in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long a claimed message is reserved for the replica sending it; after that another
    /// replica may send it again (the receiver applies it once).
    pub lease_ms: i64,
    /// The wait after the first failed attempt; it doubles after each further one...
    pub first_retry_ms: i64,
    /// ...up to this.
    pub max_retry_ms: i64,
    /// A pending message that failed this many times shows as stuck.
    pub stuck_after_attempts: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            lease_ms: 30_000,
            first_retry_ms: 1_000,
            max_retry_ms: 300_000,
            stuck_after_attempts: 3,
        }
    }
}

impl Policy {
    /// The wait after the `attempts`-th failed attempt: the first retry delay, doubled for each
    /// failure before it, at most the maximum.
    pub fn backoff(&self, attempts: i64) -> i64 {
        let doublings = (attempts - 1).clamp(0, 62) as u32;
        self.first_retry_ms
            .saturating_mul(1 << doublings)
            .min(self.max_retry_ms)
    }
}

/// A message claimed for delivery, its event opened.
pub struct Due {
    pub id: i64,
    pub message_id: String,
    pub peer: String,
    pub peer_url: String,
    pub path: String,
    pub event_type: String,
    pub event: PeerEvent,
    /// The attempts before this one.
    pub attempts: i64,
}

/// Leaves the event out: it may carry a client secret.
impl fmt::Debug for Due {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Due")
            .field("id", &self.id)
            .field("message_id", &self.message_id)
            .field("peer", &self.peer)
            .field("peer_url", &self.peer_url)
            .field("path", &self.path)
            .field("event_type", &self.event_type)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = peer_outbox)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct DueRow {
    id: i64,
    message_id: String,
    peer: String,
    peer_url: String,
    path: String,
    event_sealed: String,
    event_type: String,
    attempts: i64,
}

type Pending = And<IsNull<peer_outbox::delivered_at>, IsNull<peer_outbox::failed_at>>;

/// Neither delivered nor refused.
fn pending() -> Pending {
    peer_outbox::delivered_at
        .is_null()
        .and(peer_outbox::failed_at.is_null())
}

type Unclaimed = Or<IsNull<peer_outbox::claimed_until>, LtEq<peer_outbox::claimed_until, i64>>;

/// No replica holds a live lease on it at `now`.
fn unclaimed(now: i64) -> Unclaimed {
    peer_outbox::claimed_until
        .is_null()
        .or(peer_outbox::claimed_until.le(now))
}

/// Queues `event` for `destination` and returns its message id. Runs in the caller's
/// transaction (it opens none), so the message is sent only if the change causing it commits.
pub fn enqueue(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    destination: &Destination,
    event: &PeerEvent,
    now: i64,
) -> QueryResult<String> {
    let json = serde_json::to_value(event)
        .map_err(|error| diesel::result::Error::SerializationError(Box::new(error)))?;
    let event_type = json["type"].as_str().unwrap_or_default().to_string();
    let message_id = random_urlsafe(16);
    diesel::insert_into(peer_outbox::table)
        .values((
            peer_outbox::message_id.eq(&message_id),
            peer_outbox::peer.eq(&destination.peer),
            peer_outbox::peer_url.eq(&destination.peer_url),
            peer_outbox::path.eq(&destination.path),
            peer_outbox::event_sealed.eq(secret_box.seal(&json.to_string())),
            peer_outbox::event_type.eq(event_type),
            peer_outbox::created_at.eq(now),
            peer_outbox::next_attempt_at.eq(now),
        ))
        .execute_on(conn)?;
    Ok(message_id)
}

/// Drops the messages to `peer` not yet delivered or refused (it was unpaired or deleted); a
/// message being sent now may still arrive. Returns how many were dropped.
pub fn discard(conn: &mut AnyConnection, peer: &str) -> QueryResult<usize> {
    diesel::delete(
        peer_outbox::table
            .filter(peer_outbox::peer.eq(peer))
            .filter(pending()),
    )
    .execute_on(conn)
}

/// Claims, for each peer, its oldest pending message when that one is due at `now` and no
/// replica holds it, reserving it for `lease_ms`. A later message of a peer is never claimed
/// before the earlier ones are delivered or refused, and a message is claimed by one caller at a
/// time: the claim is a conditional update that only one of several concurrent callers wins.
///
/// A message whose event does not open (the secret key changed) is refused with the reason
/// instead of blocking its peer's queue; the peer's next message is claimed on the next call.
pub fn claim_due(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    now: i64,
    lease_ms: i64,
) -> QueryResult<Vec<Due>> {
    let heads: Vec<Option<i64>> = peer_outbox::table
        .filter(pending())
        .group_by(peer_outbox::peer)
        .select(diesel::dsl::min(peer_outbox::id))
        .load_on(conn)?;
    let heads: Vec<i64> = heads.into_iter().flatten().collect();
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<DueRow> = peer_outbox::table
        .filter(id_in(peer_outbox::id, &heads))
        .filter(peer_outbox::next_attempt_at.le(now))
        .filter(unclaimed(now))
        .order(peer_outbox::id)
        .select(DueRow::columns())
        .load_on(conn)?;
    let mut due = Vec::with_capacity(rows.len());
    for row in rows {
        let claimed = diesel::update(
            peer_outbox::table
                .find(row.id)
                .filter(pending())
                .filter(unclaimed(now)),
        )
        .set(peer_outbox::claimed_until.eq(now + lease_ms))
        .execute_on(conn)?;
        if claimed != 1 {
            continue;
        }
        match open_event(secret_box, &row.event_sealed) {
            Ok(event) => due.push(Due {
                id: row.id,
                message_id: row.message_id,
                peer: row.peer,
                peer_url: row.peer_url,
                path: row.path,
                event_type: row.event_type,
                event,
                attempts: row.attempts,
            }),
            Err(reason) => {
                tracing::error!(
                    peer = %row.peer,
                    message_id = %row.message_id,
                    event_type = %row.event_type,
                    reason,
                    "an outbox message cannot be sent"
                );
                unopenable(conn, row.id, now, reason)?;
            }
        }
    }
    Ok(due)
}

fn open_event(secret_box: &SecretBox, sealed: &str) -> Result<PeerEvent, &'static str> {
    let json = secret_box
        .open(sealed)
        .map_err(|_| "the message cannot be opened with this service's secret key")?;
    serde_json::from_str(&json).map_err(|_| "the message holds an event this version does not know")
}

/// A message that cannot be sent at all: refused without an attempt.
fn unopenable(conn: &mut AnyConnection, id: i64, now: i64, reason: &str) -> QueryResult<()> {
    diesel::update(peer_outbox::table.find(id).filter(pending()))
        .set((
            peer_outbox::failed_at.eq(now),
            peer_outbox::last_error.eq(reason),
            peer_outbox::claimed_until.eq(None::<i64>),
        ))
        .execute_on(conn)
        .map(drop)
}

/// The peer accepted message `id`: its peer's next message may go.
pub fn delivered(conn: &mut AnyConnection, id: i64, now: i64) -> QueryResult<()> {
    diesel::update(peer_outbox::table.find(id).filter(pending()))
        .set((
            peer_outbox::delivered_at.eq(now),
            peer_outbox::last_attempt_at.eq(now),
            peer_outbox::attempts.eq(peer_outbox::attempts + 1),
            peer_outbox::claimed_until.eq(None::<i64>),
        ))
        .execute_on(conn)
        .map(drop)
}

/// Sending message `id` failed in a way that may pass (peer down, slow, overloaded): it is due
/// again after the policy's backoff, and its peer's later messages wait for it.
pub fn retry_later(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
    error: &str,
    policy: &Policy,
) -> QueryResult<()> {
    let before: Option<i64> = peer_outbox::table
        .find(id)
        .filter(pending())
        .select(peer_outbox::attempts)
        .first_on(conn)
        .optional()?;
    let Some(before) = before else {
        return Ok(());
    };
    let attempts = before + 1;
    diesel::update(
        peer_outbox::table
            .find(id)
            .filter(pending())
            .filter(peer_outbox::attempts.eq(before)),
    )
    .set((
        peer_outbox::attempts.eq(attempts),
        peer_outbox::next_attempt_at.eq(now + policy.backoff(attempts)),
        peer_outbox::last_attempt_at.eq(now),
        peer_outbox::last_error.eq(error),
        peer_outbox::claimed_until.eq(None::<i64>),
    ))
    .execute_on(conn)
    .map(drop)
}

/// The peer refused message `id` for good (sending it again would not change its answer): it
/// stays refused with `error`, and its peer's next message may go.
pub fn refused(conn: &mut AnyConnection, id: i64, now: i64, error: &str) -> QueryResult<()> {
    diesel::update(peer_outbox::table.find(id).filter(pending()))
        .set((
            peer_outbox::failed_at.eq(now),
            peer_outbox::last_attempt_at.eq(now),
            peer_outbox::attempts.eq(peer_outbox::attempts + 1),
            peer_outbox::last_error.eq(error),
            peer_outbox::claimed_until.eq(None::<i64>),
        ))
        .execute_on(conn)
        .map(drop)
}

/// Deletes the messages delivered or refused before `before` (housekeeping); a peer whose last
/// message went then has no [`last_exchange`] any more. Returns how many were deleted.
pub fn purge(conn: &mut AnyConnection, before: i64) -> QueryResult<usize> {
    diesel::delete(
        peer_outbox::table.filter(
            peer_outbox::delivered_at
                .lt(before)
                .or(peer_outbox::failed_at.lt(before)),
        ),
    )
    .execute_on(conn)
}

#[cfg(test)]
mod tests;
