//! User-bound file calls to a storage's Nextcloud (openproject-storages.md §12): the caller's
//! token through [`with_user_token`]. How their failures read is [`crate::domain::files`].

use std::future::Future;

use service_kit::crypto::SecretString;

use super::connections::{with_user_token, Outbound};
use crate::{
    db::{oauth_client_credentials::OAuthClientCredentials, storages::Storage},
    domain::connections::{Remote, UserBound},
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
    let remote = Remote {
        host: &host,
        credentials: &credentials,
    };
    with_user_token(Outbound::of(state), user_id, remote, |token| {
        call(host.clone(), token)
    })
    .await
}
