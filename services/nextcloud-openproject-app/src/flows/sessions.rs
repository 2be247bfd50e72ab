//! Browser sessions: logging in and out, and whether a session cookie is live.

use service_kit::time::now_millis;

use crate::{domain::sessions, error::ApiError, state::AppState};

use super::run;

/// A new session for `uid`: the cookie value and its expiry (unix ms).
pub async fn start(state: &AppState, uid: String) -> Result<(String, i64), ApiError> {
    run(state, move |conn| sessions::start(conn, &uid, now_millis())).await
}

/// Whether the session cookie `id` names a live session.
pub async fn is_live(state: &AppState, id: String) -> Result<bool, ApiError> {
    run(state, move |conn| {
        sessions::resolve(conn, &id, now_millis())
    })
    .await
    .map(|found| found.is_some())
}

/// Ends the session `id`.
pub async fn end(state: &AppState, id: String) -> Result<(), ApiError> {
    run(state, move |conn| sessions::end(conn, &id)).await
}
