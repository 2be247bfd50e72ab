//! A user's connection to a storage's Nextcloud (openproject-storages.md §6.2
//! `authorizationState`): whether they hold a token and whether Nextcloud still accepts it.

use service_kit::{crypto::SecretBox, db::Db};
use storage_protocol::storages::AuthorizationState;

use crate::{
    db::{
        oauth_client_credentials::OAuthClientCredentials, oauth_client_tokens::OAuthClientToken,
        storages::Storage,
    },
    nextcloud::{NextcloudClient, Probe},
};

/// Asks Nextcloud who the user is with their stored token. A 401 means the token is dead: it is
/// deleted (unless replaced meanwhile), so later requests see `NotConnected`.
pub async fn authorization_state(
    db: &Db,
    nextcloud: &NextcloudClient,
    secret_box: &SecretBox,
    user_id: i64,
    storage: &Storage,
    credentials: Option<&OAuthClientCredentials>,
) -> AuthorizationState {
    let (Some(credentials), Some(host)) = (credentials, storage.host.clone()) else {
        return AuthorizationState::Error;
    };
    let credentials_id = credentials.id;
    let token = match db
        .query(move |conn| OAuthClientToken::find(conn, user_id, credentials_id))
        .await
    {
        Ok(Some(token)) => token,
        Ok(None) => return AuthorizationState::NotConnected,
        Err(error) => {
            tracing::warn!(%error, "reading a user's Nextcloud token failed");
            return AuthorizationState::Error;
        }
    };
    let Ok(access_token) = secret_box.open(&token.access_token_sealed) else {
        return AuthorizationState::Error;
    };
    match nextcloud.cloud_user(&host, &access_token).await {
        Probe::Ok(_) => AuthorizationState::Connected,
        Probe::Status(status) if status == reqwest::StatusCode::UNAUTHORIZED => {
            let dead = token.clone();
            if let Err(error) = db
                .query(move |conn| OAuthClientToken::delete_if_unchanged(conn, &dead))
                .await
            {
                tracing::warn!(%error, "deleting a refused Nextcloud token failed");
            }
            AuthorizationState::FailedAuthorization
        }
        _ => AuthorizationState::Error,
    }
}
