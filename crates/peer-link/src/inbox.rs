//! The ids of the peers' messages already applied. A sender retries until it hears back, so a
//! message may arrive twice (its answer was lost, or two replicas sent it); the receiver applies
//! each id once by recording it in the same transaction as applying the message.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend};

use crate::schema::peer_inbox;

/// Records message `message_id` from `peer`: `true` when it is new (apply it), `false` when it
/// was accepted before (answer as if applied). Runs in the caller's transaction, the one that
/// applies the message, so a message that fails to apply is not recorded.
pub fn accept(
    conn: &mut AnyConnection,
    peer: &str,
    message_id: &str,
    now: i64,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(peer_inbox::table)
        .values((
            peer_inbox::peer.eq(peer),
            peer_inbox::message_id.eq(message_id),
            peer_inbox::received_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute_on(conn)?;
    Ok(inserted == 1)
}

/// Whether message `message_id` from `peer` was accepted before.
pub fn seen(conn: &mut AnyConnection, peer: &str, message_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        peer_inbox::table
            .filter(peer_inbox::peer.eq(peer))
            .filter(peer_inbox::message_id.eq(message_id)),
    ))
    .first_on(conn)
}

/// Forgets the ids received before `before` (housekeeping). A message older than the clock skew
/// [`PeerMessage::verify`](storage_protocol::pairing::PeerMessage::verify) allows is refused
/// anyway, so keeping a day is plenty. Returns how many were forgotten.
pub fn purge(conn: &mut AnyConnection, before: i64) -> QueryResult<usize> {
    diesel::delete(peer_inbox::table.filter(peer_inbox::received_at.lt(before))).execute_on(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::test_db;

    #[test]
    fn a_message_is_accepted_once_per_peer() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        assert!(accept(conn, "storage:3", "m-1", 1_000).unwrap());
        assert!(!accept(conn, "storage:3", "m-1", 2_000).unwrap());
        assert!(accept(conn, "storage:4", "m-1", 2_000).unwrap());
        // Inside a transaction (as when applying it), a repeat does not abort the transaction.
        let repeated = conn
            .transaction(|conn| {
                let first = accept(conn, "storage:3", "m-2", 3_000)?;
                let again = accept(conn, "storage:3", "m-2", 3_000)?;
                accept(conn, "storage:3", "m-3", 3_000).map(|third| (first, again, third))
            })
            .unwrap();
        assert_eq!(repeated, (true, false, true));
    }

    #[test]
    fn purging_forgets_ids_received_before_the_cutoff() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        accept(conn, "openproject", "old", 1_000).unwrap();
        accept(conn, "openproject", "new", 2_000).unwrap();
        assert_eq!(purge(conn, 2_000).unwrap(), 1);
        assert!(accept(conn, "openproject", "old", 3_000).unwrap());
        assert!(!accept(conn, "openproject", "new", 3_000).unwrap());
    }
}
