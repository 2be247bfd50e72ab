//! `GET APP/check-config` (contract §4). The admin routes are in `setup` and `admin`,
//! `is-valid-op-instance` in its own module.

use actix_web::{http::header, HttpRequest, HttpResponse};
use storage_protocol::nextcloud::CheckConfig;

use crate::{auth::MaybeUser, error::ApiError};

/// GET APP/check-config — public: who the request authenticated as, and its `Authorization`
/// header as received (the storage host check reads both).
pub async fn check_config(req: HttpRequest, caller: MaybeUser) -> Result<HttpResponse, ApiError> {
    let authorization_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(CheckConfig {
        user_id: caller.0.map(|u| u.uid).unwrap_or_default(),
        authorization_header,
    }))
}
