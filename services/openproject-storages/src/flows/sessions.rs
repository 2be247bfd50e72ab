//! Browser sessions: starting one at login and ending it at logout.

use crate::{domain::sessions, error::ApiError, state::AppState};
use service_kit::time::now_millis;

/// A new session for the user: the cookie value.
pub async fn start(state: &AppState, user_id: i64) -> Result<String, ApiError> {
    Ok(state
        .db
        .query(move |conn| sessions::start(conn, user_id, now_millis()))
        .await?)
}

pub async fn end(state: &AppState, session_id: String) -> Result<(), ApiError> {
    Ok(state
        .db
        .query(move |conn| sessions::end(conn, &session_id))
        .await?)
}
