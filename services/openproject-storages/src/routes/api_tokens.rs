//! Personal API tokens (Extension), used as `Basic apikey:<token>`.

use actix_web::{delete, http::StatusCode, post, HttpResponse};
use service_kit::time::{iso8601_millis, now_millis};
use storage_protocol::openproject::ApiToken;

use super::hal;
use crate::{auth::Caller, error::ApiError, flows, state::State};

/// POST /api/v3/users/me/api_token: a new token replacing the previous one, shown once.
#[utoipa::path(responses((status = 201, description = "ApiToken, shown once"), (status = 403, description = "Not authenticated by password or session")))]
#[post("/users/me/api_token")]
pub async fn create(state: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require_password_or_session()?;
    let now = now_millis();
    let token = flows::api_tokens::replace(&state, caller.user.id, now).await?;
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
    flows::api_tokens::delete(&state, caller.user.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
