//! Pairing by one code (Extension, issue 20): issuing a code for a storage, and the public keys
//! that verify it.

use storage_protocol::pairing::{JwkSet, PairingExchange, PairingExchangeAnswer};

use crate::{
    domain::pairing::{self as domain, IssuedCode},
    error::ApiError,
    state::AppState,
};

/// A new code for `storage_id`, issued by the admin `admin_id` at `now` (unix ms).
pub async fn issue_code(
    state: &AppState,
    storage_id: i64,
    admin_id: i64,
    now: i64,
) -> Result<IssuedCode, ApiError> {
    let secret_box = state.secret_box.clone();
    let issuer = state.public_url.clone();
    state
        .db
        .run(move |conn| {
            domain::issue_code(conn, &secret_box, &issuer, (storage_id, admin_id), now)
                .map_err(ApiError::from)
        })
        .await
}

/// Nextcloud's half of the exchange, at `now` (unix ms).
pub async fn exchange(
    state: &AppState,
    request: PairingExchange,
    now: i64,
) -> Result<PairingExchangeAnswer, ApiError> {
    let secret_box = state.secret_box.clone();
    let issuer = state.public_url.clone();
    state
        .db
        .run(move |conn| {
            domain::exchange(conn, &secret_box, &issuer, &request, now).map_err(ApiError::from)
        })
        .await
}

pub async fn public_keys(state: &AppState) -> Result<JwkSet, ApiError> {
    let secret_box = state.secret_box.clone();
    state
        .db
        .run(move |conn| domain::public_keys(conn, &secret_box).map_err(ApiError::from))
        .await
}
