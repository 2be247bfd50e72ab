use service_kit::crypto::SecretKey;

use super::*;
use crate::tests::test_db;

const NOW: i64 = 1_780_000_000_000;

fn to(peer: &str) -> Destination {
    Destination {
        peer: peer.to_string(),
        peer_url: format!("https://{}.example.com", peer.replace(':', "-")),
        path: "/peer-messages".to_string(),
    }
}

fn replaced(secret: &str) -> PeerEvent {
    PeerEvent::OAuthValuesReplaced {
        client_id: "client".into(),
        client_secret: secret.into(),
    }
}

fn ids(due: &[Due]) -> Vec<&str> {
    due.iter().map(|d| d.message_id.as_str()).collect()
}

#[test]
fn backoff_doubles_from_the_first_retry_up_to_the_cap() {
    let policy = Policy::default();
    let waits: Vec<i64> = (1..=10).map(|n| policy.backoff(n)).collect();
    assert_eq!(
        waits,
        [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000]
    );
    assert_eq!(policy.backoff(0), 1_000);
    assert_eq!(policy.backoff(i64::MAX), 300_000, "no overflow");
}

#[test]
fn the_event_is_sealed_at_rest_and_its_type_readable() {
    let (_database, db) = test_db();
    let conn = &mut db.get().unwrap();
    let secret_box = SecretKey::generate().secret_box();
    let id = enqueue(
        conn,
        &secret_box,
        &to("openproject"),
        &replaced("s3cret-v4lue"),
        NOW,
    )
    .unwrap();
    let (sealed, event_type): (String, String) = peer_outbox::table
        .filter(peer_outbox::message_id.eq(&id))
        .select((peer_outbox::event_sealed, peer_outbox::event_type))
        .first_on(conn)
        .unwrap();
    assert!(sealed.starts_with("v1.") && !sealed.contains("s3cret"));
    assert_eq!(event_type, "oauth_values_replaced");
    let due = claim_due(conn, &secret_box, NOW, 30_000).unwrap();
    assert_eq!(due[0].event, replaced("s3cret-v4lue"));
    assert!(
        !format!("{due:?}").contains("s3cret"),
        "Debug leaves it out"
    );
}

#[test]
fn a_message_exists_only_if_the_transaction_that_enqueued_it_commits() {
    let (_database, db) = test_db();
    let conn = &mut db.get().unwrap();
    let secret_box = SecretKey::generate().secret_box();
    let rolled_back: QueryResult<()> = conn.transaction(|conn| {
        enqueue(conn, &secret_box, &to("openproject"), &replaced("1"), NOW)?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(rolled_back.is_err());
    assert!(claim_due(conn, &secret_box, NOW, 30_000)
        .unwrap()
        .is_empty());
    let id = conn
        .transaction(|conn| enqueue(conn, &secret_box, &to("openproject"), &replaced("2"), NOW))
        .unwrap();
    assert_eq!(
        ids(&claim_due(conn, &secret_box, NOW, 30_000).unwrap()),
        [&id]
    );
}

#[test]
fn each_peer_sends_its_oldest_message_first_and_peers_do_not_wait_for_each_other() {
    let (_database, db) = test_db();
    let conn = &mut db.get().unwrap();
    let secret_box = SecretKey::generate().secret_box();
    let policy = Policy::default();
    let a1 = enqueue(conn, &secret_box, &to("storage:1"), &replaced("1"), NOW).unwrap();
    let a2 = enqueue(
        conn,
        &secret_box,
        &to("storage:1"),
        &PeerEvent::StorageDeleted,
        NOW,
    )
    .unwrap();
    let b1 = enqueue(conn, &secret_box, &to("storage:2"), &replaced("2"), NOW).unwrap();
    assert_ne!(a1, a2);

    let first = claim_due(conn, &secret_box, NOW, policy.lease_ms).unwrap();
    assert_eq!(ids(&first), [&a1, &b1]);
    assert_eq!(first[0].peer_url, "https://storage-1.example.com");
    assert_eq!(
        (first[0].path.as_str(), first[0].attempts),
        ("/peer-messages", 0)
    );

    // The first failed: the second waits behind it, even once due itself.
    retry_later(conn, first[0].id, NOW, "503", &policy).unwrap();
    assert!(claim_due(conn, &secret_box, NOW + 999, policy.lease_ms)
        .unwrap()
        .is_empty());
    let again = claim_due(conn, &secret_box, NOW + 1_000, policy.lease_ms).unwrap();
    assert_eq!(ids(&again), [&a1]);
    assert_eq!(again[0].attempts, 1);

    delivered(conn, again[0].id, NOW + 1_000).unwrap();
    let next = claim_due(conn, &secret_box, NOW + 1_000, policy.lease_ms).unwrap();
    assert_eq!(ids(&next), [&a2], "b1 is still leased");
    assert_eq!(next[0].event, PeerEvent::StorageDeleted);
}

#[test]
fn a_claim_is_held_for_its_lease_only() {
    let (_database, db) = test_db();
    let conn = &mut db.get().unwrap();
    let secret_box = SecretKey::generate().secret_box();
    let id = enqueue(conn, &secret_box, &to("openproject"), &replaced("x"), NOW).unwrap();
    assert_eq!(
        ids(&claim_due(conn, &secret_box, NOW, 30_000).unwrap()),
        [&id]
    );
    assert!(claim_due(conn, &secret_box, NOW, 30_000)
        .unwrap()
        .is_empty());
    assert!(claim_due(conn, &secret_box, NOW + 29_999, 30_000)
        .unwrap()
        .is_empty());
    // The replica holding it went away: another takes it over.
    assert_eq!(
        ids(&claim_due(conn, &secret_box, NOW + 30_000, 30_000).unwrap()),
        [&id]
    );
}

#[test]
fn settled_messages_stay_settled_and_free_their_peers_queue() {
    let (_database, db) = test_db();
    let conn = &mut db.get().unwrap();
    let secret_box = SecretKey::generate().secret_box();
    let policy = Policy::default();
    let peer = "storage:1";
    let first = enqueue(conn, &secret_box, &to(peer), &replaced("1"), NOW).unwrap();
    let second = enqueue(conn, &secret_box, &to(peer), &replaced("2"), NOW).unwrap();
    let due = claim_due(conn, &secret_box, NOW, policy.lease_ms).unwrap();

    refused(conn, due[0].id, NOW + 5, "401 Unauthorized: unknown key").unwrap();
    let shown = last_exchange(conn, peer, &policy).unwrap().unwrap();
    assert_eq!(shown.message_id, second, "the pending one shows");
    // Late answers of a replica whose lease ran out change nothing now.
    delivered(conn, due[0].id, NOW + 6).unwrap();
    retry_later(conn, due[0].id, NOW + 6, "late", &policy).unwrap();

    let next = claim_due(conn, &secret_box, NOW + 10, policy.lease_ms).unwrap();
    assert_eq!(ids(&next), [&second]);
    delivered(conn, next[0].id, NOW + 20).unwrap();
    assert!(claim_due(conn, &secret_box, NOW + 30_000, policy.lease_ms)
        .unwrap()
        .is_empty());

    let newest = last_exchange(conn, peer, &policy).unwrap().unwrap();
    assert_eq!(
        (
            newest.message_id.as_str(),
            newest.state,
            newest.at,
            newest.attempts
        ),
        (second.as_str(), ExchangeState::Delivered, NOW + 20, 1)
    );
    // The refused one was not delivered by the late answer.
    let refusal: (Option<i64>, i64, Option<String>) = peer_outbox::table
        .filter(peer_outbox::message_id.eq(&first))
        .filter(peer_outbox::delivered_at.is_null())
        .select((
            peer_outbox::failed_at,
            peer_outbox::attempts,
            peer_outbox::last_error,
        ))
        .first_on(conn)
        .unwrap();
    assert_eq!(
        refusal,
        (
            Some(NOW + 5),
            1,
            Some("401 Unauthorized: unknown key".into())
        )
    );
}
#[test]
fn a_stuck_message_shows_with_its_reason_ahead_of_newer_ones() {
    let (_database, db) = test_db();
    let conn = &mut db.get().unwrap();
    let secret_box = SecretKey::generate().secret_box();
    let policy = Policy::default();
    assert_eq!(last_exchange(conn, "openproject", &policy).unwrap(), None);
    let first = enqueue(conn, &secret_box, &to("openproject"), &replaced("1"), NOW).unwrap();
    let pending_first = last_exchange(conn, "openproject", &policy)
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            pending_first.state,
            pending_first.at,
            pending_first.event_type.as_str()
        ),
        (ExchangeState::Pending, NOW, "oauth_values_replaced")
    );

    let mut now = NOW;
    for attempt in 1..=3 {
        let due = claim_due(conn, &secret_box, now, policy.lease_ms).unwrap();
        assert_eq!(ids(&due), [&first]);
        retry_later(
            conn,
            due[0].id,
            now,
            &format!("503 Service Unavailable ({attempt})"),
            &policy,
        )
        .unwrap();
        now += policy.backoff(attempt);
    }
    enqueue(
        conn,
        &secret_box,
        &to("openproject"),
        &PeerEvent::IntegrationReset,
        now,
    )
    .unwrap();
    enqueue(conn, &secret_box, &to("storage:2"), &replaced("2"), now).unwrap();

    let shown = last_exchange(conn, "openproject", &policy)
        .unwrap()
        .unwrap();
    let expected = Exchange {
        message_id: first.clone(),
        event_type: "oauth_values_replaced".into(),
        state: ExchangeState::Stuck,
        at: NOW + 1_000 + 2_000,
        attempts: 3,
        last_error: Some("503 Service Unavailable (3)".into()),
    };
    assert_eq!(shown, expected);
    assert_eq!(
        stuck(conn, &policy).unwrap(),
        [("openproject".to_string(), expected)]
    );
}

#[test]
fn a_message_that_does_not_open_is_refused_instead_of_blocking_its_peer() {
    let (_database, db) = test_db();
    let conn = &mut db.get().unwrap();
    let old_box = SecretKey::generate().secret_box();
    let new_box = SecretKey::generate().secret_box();
    let policy = Policy::default();
    enqueue(conn, &old_box, &to("openproject"), &replaced("1"), NOW).unwrap();
    let second = enqueue(conn, &new_box, &to("openproject"), &replaced("2"), NOW).unwrap();
    assert!(claim_due(conn, &new_box, NOW, policy.lease_ms)
        .unwrap()
        .is_empty());
    let refusal: (Option<i64>, i64, Option<String>) = peer_outbox::table
        .filter(peer_outbox::failed_at.is_not_null())
        .select((
            peer_outbox::failed_at,
            peer_outbox::attempts,
            peer_outbox::last_error,
        ))
        .first_on(conn)
        .unwrap();
    assert_eq!(refusal.0, Some(NOW));
    assert_eq!(refusal.1, 0, "it was never sent");
    assert!(refusal.2.unwrap().contains("secret key"));
    assert_eq!(
        ids(&claim_due(conn, &new_box, NOW, policy.lease_ms).unwrap()),
        [&second]
    );
}

#[test]
fn discarding_drops_only_the_peers_undelivered_messages() {
    let (_database, db) = test_db();
    let conn = &mut db.get().unwrap();
    let secret_box = SecretKey::generate().secret_box();
    let policy = Policy::default();
    enqueue(conn, &secret_box, &to("storage:1"), &replaced("1"), NOW).unwrap();
    let due = claim_due(conn, &secret_box, NOW, policy.lease_ms).unwrap();
    delivered(conn, due[0].id, NOW).unwrap();
    enqueue(conn, &secret_box, &to("storage:1"), &replaced("2"), NOW).unwrap();
    enqueue(conn, &secret_box, &to("storage:1"), &replaced("3"), NOW).unwrap();
    let other = enqueue(conn, &secret_box, &to("storage:2"), &replaced("4"), NOW).unwrap();

    assert_eq!(discard(conn, "storage:1").unwrap(), 2);
    let kept = last_exchange(conn, "storage:1", &policy).unwrap().unwrap();
    assert_eq!(
        (kept.message_id, kept.state),
        (due[0].message_id.clone(), ExchangeState::Delivered)
    );
    assert_eq!(
        ids(&claim_due(conn, &secret_box, NOW, policy.lease_ms).unwrap()),
        [&other]
    );
}

#[test]
fn purging_deletes_settled_messages_before_the_cutoff_only() {
    let (_database, db) = test_db();
    let conn = &mut db.get().unwrap();
    let secret_box = SecretKey::generate().secret_box();
    let policy = Policy::default();
    for peer in ["a", "b", "c", "d"] {
        enqueue(conn, &secret_box, &to(peer), &replaced(peer), NOW).unwrap();
    }
    let due = claim_due(conn, &secret_box, NOW, policy.lease_ms).unwrap();
    delivered(conn, due[0].id, NOW).unwrap();
    refused(conn, due[1].id, NOW, "400").unwrap();
    delivered(conn, due[2].id, NOW + 10).unwrap();
    retry_later(conn, due[3].id, NOW, "503", &policy).unwrap();

    assert_eq!(purge(conn, NOW + 1).unwrap(), 2);
    let left: Vec<String> = peer_outbox::table
        .order(peer_outbox::peer)
        .select(peer_outbox::peer)
        .load_on(conn)
        .unwrap();
    assert_eq!(left, ["c", "d"]);
}
