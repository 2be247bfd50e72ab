//! User-bound file calls to a storage's Nextcloud (openproject-storages.md §12): the caller's
//! token through [`with_user_token`], and the mapping of failures to API errors.

use std::future::Future;

use service_kit::crypto::SecretString;
use storage_protocol::{
    file_links::messages as msg,
    hal::{ErrorId, HalError},
};

use super::connections::{with_user_token, Outbound, Remote, UserBound};
use crate::{
    db::{oauth_client_credentials::OAuthClientCredentials, storages::Storage},
    error::ApiError,
    peer::Probe,
    state::AppState,
};

/// Runs `call` against the storage's host with the user's Nextcloud token. A storage without a
/// host or client credentials has no token to offer: `NotConnected`.
pub async fn user_call<T, F, Fut>(
    state: &AppState,
    user_id: i64,
    storage: &Storage,
    call: F,
) -> UserBound<T>
where
    F: Fn(String, SecretString) -> Fut,
    Fut: Future<Output = Probe<T>>,
{
    let Some(host) = storage.host.clone() else {
        return UserBound::NotConnected;
    };
    let storage_id = storage.id;
    let credentials = match state
        .db
        .query(move |conn| OAuthClientCredentials::for_storages(conn, &[storage_id]))
        .await
    {
        Ok(mut found) => match found.pop() {
            Some(credentials) => credentials,
            None => return UserBound::NotConnected,
        },
        Err(e) => return UserBound::Unexpected(e.into()),
    };
    let out = Outbound {
        db: &state.db,
        nextcloud: &state.nextcloud,
        secret_box: &state.secret_box,
    };
    let remote = Remote {
        host: &host,
        credentials: &credentials,
    };
    with_user_token(out, user_id, remote, |token| call(host.clone(), token)).await
}

/// The API error for a failed user-bound call (§12).
pub fn failure<T>(outcome: UserBound<T>) -> ApiError {
    match outcome {
        UserBound::NotConnected | UserBound::RefreshFailed | UserBound::Unauthorized => {
            ApiError::unauthenticated()
        }
        UserBound::Answered(Probe::Status(status)) if status == reqwest::StatusCode::NOT_FOUND => {
            ApiError::of(ErrorId::OutboundRequestNotFound)
        }
        UserBound::Answered(Probe::Status(status)) if status == reqwest::StatusCode::FORBIDDEN => {
            ApiError::of(ErrorId::OutboundRequestForbidden)
        }
        UserBound::Unexpected(e) => ApiError::Unexpected(e),
        UserBound::Answered(_) => unreachable_storage(),
    }
}

pub fn unreachable_storage() -> ApiError {
    ApiError::hal(HalError::new(
        ErrorId::InternalServerError,
        msg::STORAGE_UNREACHABLE,
    ))
}

/// A file-info record's `statuscode` 403/404 maps like the HTTP statuses (§12).
pub fn record_failure(statuscode: i64) -> ApiError {
    match statuscode {
        404 => ApiError::of(ErrorId::OutboundRequestNotFound),
        403 => ApiError::of(ErrorId::OutboundRequestForbidden),
        _ => unreachable_storage(),
    }
}
