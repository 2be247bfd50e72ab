//! `/.well-known/jwks.json` (Extension, issue 20): the public keys of this instance's pairing
//! codes and peer messages, for Nextcloud to verify them.

use actix_web::{http::header, HttpResponse};

use crate::{error::ApiError, flows, state::State};

pub async fn jwks(state: State) -> Result<HttpResponse, ApiError> {
    let keys = flows::pairing::public_keys(&state).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(keys))
}
