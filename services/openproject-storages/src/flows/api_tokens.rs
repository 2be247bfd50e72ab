//! Personal API tokens (Extension): one per user, stored as a digest.

use service_kit::crypto::{digest, random_hex};

use crate::{db::api_tokens, error::ApiError, state::AppState};

/// A new token for the user, replacing the previous one, issued at `now`: the token itself,
/// to be shown once.
pub async fn replace(state: &AppState, user_id: i64, now: i64) -> Result<String, ApiError> {
    let token = random_hex(32);
    let token_digest = digest(&token);
    state
        .db
        .query(move |conn| api_tokens::replace(conn, user_id, &token_digest, now))
        .await?;
    Ok(token)
}

/// The user's token stops working.
pub async fn delete(state: &AppState, user_id: i64) -> Result<(), ApiError> {
    state
        .db
        .query(move |conn| api_tokens::delete(conn, user_id))
        .await?;
    Ok(())
}
