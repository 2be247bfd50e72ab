//! What expires on the OpenProject side and is deleted by housekeeping
//! (`service_kit::housekeeping` runs it every 15 minutes on every replica): OAuth codes and
//! tokens past their retention, sessions, expired pairing codes, OAuth client states and throttle
//! rows.

use service_kit::{auth::ThrottlePolicy, db::AnyConnection, housekeeping::Removed, throttle};

use crate::{
    db::{oauth_client_states::OAuthClientState, pairing, sessions},
    domain::connections::authorization::STATE_COOKIE_MAX_AGE_SECS,
};

/// One run at `now` (unix ms).
pub fn purge(
    conn: &mut AnyConnection,
    throttle_policy: &ThrottlePolicy,
    now: i64,
) -> anyhow::Result<Removed> {
    let tokens = oauth_provider::purge(conn, now)?;
    Ok(vec![
        ("OAuth codes", tokens.codes),
        ("OAuth tokens", tokens.tokens),
        ("sealed token successors", tokens.sealed_successors),
        ("sessions", sessions::delete_expired(conn, now)?),
        ("pairing codes", pairing::delete_expired_codes(conn, now)?),
        (
            "OAuth client states",
            OAuthClientState::purge_created_before(conn, now - STATE_COOKIE_MAX_AGE_SECS * 1000)?,
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
