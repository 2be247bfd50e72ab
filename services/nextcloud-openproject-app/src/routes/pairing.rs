//! Pairing with OpenProject by one code, and OpenProject's signed messages (Extension, issue 20):
//! `GET APP/pairing`, `POST APP/pairing/inspect`, `POST APP/pairing` (admins, CSRF-protected),
//! and `POST APP/peer-messages` (authenticated by the message's signature; OpenProject has the
//! key from the exchange).

use actix_web::{web, HttpRequest, HttpResponse};
use service_kit::time::now_millis;
use storage_protocol::pairing::{PairWithOpenProject, PairingCode, PairingCodeInspection};

use crate::{
    auth::{check_csrf, MaybeUser},
    body,
    error::ApiError,
    flows,
    state::AppState,
};

/// A signed message is a few hundred bytes; anything much larger is not one.
const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// GET APP/pairing
pub async fn status(
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    Ok(HttpResponse::Ok().json(flows::pairing::status(&state).await?))
}

/// POST APP/pairing/inspect — what a pasted code says, for the admin to confirm.
pub async fn inspect(
    req: HttpRequest,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.require_admin()?;
    check_csrf(&state, &req, admin, None)?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let request: PairingCodeInspection = body::parse_json(&raw)?;
    let found = flows::pairing::inspect(&state, PairingCode(request.code), now_millis()).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// POST APP/pairing — pairs with the OpenProject the admin confirmed.
pub async fn pair(
    req: HttpRequest,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.require_admin()?;
    check_csrf(&state, &req, admin, None)?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let request: PairWithOpenProject = body::parse_json(&raw)?;
    let paired = flows::pairing::pair(&state, request, now_millis()).await?;
    Ok(HttpResponse::Ok().json(paired))
}

/// POST APP/peer-messages — a message from the paired OpenProject; 204 once it is applied, now
/// or before.
pub async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let raw = body::read_limited(&req, payload, MAX_MESSAGE_BYTES).await?;
    let signed = String::from_utf8(raw.to_vec()).map_err(|_| {
        ApiError::BadRequest(storage_protocol::pairing::Refusal::Malformed.to_string())
    })?;
    flows::pairing::receive(&state, signed.trim().to_string(), now_millis()).await?;
    Ok(HttpResponse::NoContent().finish())
}
