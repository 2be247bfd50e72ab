//! What expires on the Nextcloud side and is deleted by housekeeping
//! (`service_kit::housekeeping` runs it every 15 minutes on every replica): chunked uploads
//! unused for a day with their chunks, OAuth codes and tokens past their retention, sessions,
//! pending authorizations, direct-download and direct-upload tokens and throttle rows.

use service_kit::{
    auth::ThrottlePolicy,
    db::{serialized_transaction, AnyConnection},
    housekeeping::Removed,
    throttle,
};

use crate::{
    db::{direct_downloads, direct_uploads, oauth_pending, sessions},
    domain::files::{store::ContentStore, uploads, FILES_LOCK},
};

/// One run at `now` (unix ms).
pub fn purge(
    conn: &mut AnyConnection,
    files: &ContentStore,
    throttle_policy: &ThrottlePolicy,
    now: i64,
) -> anyhow::Result<Removed> {
    let chunks = serialized_transaction(conn, FILES_LOCK, |conn| {
        uploads::purge_expired(conn, now / 1000)
    })?;
    files.remove(&chunks);
    let tokens = oauth_provider::purge(conn, now)?;
    Ok(vec![
        ("chunks of abandoned uploads", chunks.len()),
        ("OAuth codes", tokens.codes),
        ("OAuth tokens", tokens.tokens),
        ("sealed token successors", tokens.sealed_successors),
        ("sessions", sessions::delete_expired(conn, now)?),
        (
            "pending authorizations",
            oauth_pending::delete_expired(conn, now)?,
        ),
        (
            "direct downloads",
            direct_downloads::purge_expired(conn, now / 1000)?,
        ),
        (
            "direct uploads",
            direct_uploads::purge_expired(conn, now / 1000)?,
        ),
        (
            "throttle rows",
            throttle::purge_expired(conn, throttle_policy, now)?,
        ),
        (
            "peer messages sent",
            peer_link::outbox::purge(conn, now - peer_link::KEEP_SENT_MS)?,
        ),
        (
            "peer message ids",
            peer_link::inbox::purge(conn, now - peer_link::KEEP_RECEIVED_MS)?,
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        db::{test_db, users},
        domain::files::Viewer,
    };
    use service_kit::auth::NewSession;

    #[test]
    fn a_run_deletes_what_expired_and_keeps_what_lives() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        users::insert_for_tests(conn, "alice");
        let now: i64 = 1_800_000_000_000;
        let session = |id_digest: &str, expires_at| NewSession {
            cookie_value: String::new(),
            id_digest: id_digest.into(),
            created_at: 0,
            expires_at,
        };
        sessions::insert(conn, "alice", &session("old", now - 1)).unwrap();
        sessions::insert(conn, "alice", &session("live", now + 60_000)).unwrap();
        direct_downloads::insert(conn, "gone", "alice", 1, now / 1000 - 1).unwrap();
        direct_uploads::insert(conn, "gone", "alice", 1, now / 1000 - 1).unwrap();
        direct_uploads::insert(conn, "live", "alice", 1, now / 1000 + 60).unwrap();
        let viewer = Viewer::load(conn, "alice").unwrap();
        uploads::create(
            conn,
            &viewer,
            "abandoned",
            None,
            now / 1000 - uploads::EXPIRY_SECS - 1,
        )
        .unwrap();
        uploads::create(conn, &viewer, "recent", None, now / 1000).unwrap();
        let policy = ThrottlePolicy::default();
        throttle::record_failure(
            conn,
            &policy,
            &throttle::ThrottleKey::client_authentication("192.0.2.1"),
            now - policy.window_millis - 1,
        )
        .unwrap();
        let dir = std::env::temp_dir().join(format!("ncoa-housekeeping-{}", uuid::Uuid::new_v4()));
        let files = ContentStore::open(&dir).unwrap();

        let removed = purge(conn, &files, &policy, now).unwrap();
        let count = |what: &str| removed.iter().find(|(w, _)| *w == what).unwrap().1;
        assert_eq!(count("sessions"), 1);
        assert_eq!(count("direct downloads"), 1);
        assert_eq!(count("direct uploads"), 1);
        assert!(direct_uploads::expiry(conn, "live").unwrap().is_some());
        assert_eq!(count("throttle rows"), 1);
        assert!(sessions::find_live(conn, "live", now).unwrap().is_some());
        assert!(uploads::find(conn, &viewer, "abandoned").is_err());
        assert!(uploads::find(conn, &viewer, "recent").is_ok());
        // A second run (another replica's) finds nothing left to do.
        let again = purge(conn, &files, &policy, now).unwrap();
        assert!(again.iter().all(|(_, n)| *n == 0), "{again:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
