//! Personal API tokens (Extension), used as `Basic apikey:<token>`.

use actix_web::{delete, http::StatusCode, post, HttpResponse};
use service_kit::{
    crypto::{digest, random_hex},
    time::{iso8601_millis, now_millis},
};
use storage_protocol::openproject::ApiToken;

use super::hal;
use crate::{auth::Caller, db::api_tokens, error::ApiError, state::State};

/// POST /api/v3/users/me/api_token: a new token replacing the previous one, shown once.
#[utoipa::path(responses((status = 201, description = "ApiToken, shown once"), (status = 403, description = "Not authenticated by password or session")))]
#[post("/users/me/api_token")]
pub async fn create(state: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require_password_or_session()?;
    let token = random_hex(32);
    let (token_digest, user_id, now) = (digest(&token), caller.user.id, now_millis());
    state
        .db
        .run(move |conn| Ok::<_, ApiError>(api_tokens::replace(conn, user_id, &token_digest, now)?))
        .await?;
    let body = ApiToken {
        type_: "ApiToken".into(),
        token,
        created_at: iso8601_millis(now),
    };
    Ok(hal(StatusCode::CREATED, &body))
}

/// DELETE /api/v3/users/me/api_token: the token stops working.
#[utoipa::path(responses((status = 204, description = "Deleted")))]
#[delete("/users/me/api_token")]
pub async fn delete(state: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require_password_or_session()?;
    let user_id = caller.user.id;
    state
        .db
        .run(move |conn| Ok::<_, ApiError>(api_tokens::delete(conn, user_id)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
