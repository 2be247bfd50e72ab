//! File storages (openproject-storages.md §6–§8, §13): finding them, their details and each
//! caller's live `authorizationState`, the create and update with their checks at Nextcloud, the
//! delete, the client credentials, the OAuth application, the disconnect and the health checks.

use service_kit::{
    crypto::SecretString,
    time::{iso8601_millis, now_millis},
};
use storage_protocol::storages::{AuthorizationState, OAuthClientCredentialsWrite, StorageHealth};

use super::{
    connections::{authorization_state as live_authorization_state, with_user_token, Outbound},
    storage_health,
};
use crate::{
    auth::Caller,
    db::{oauth_client_credentials::OAuthClientCredentials, storages::Storage, users::User},
    domain::{
        connections::{self, Remote, UserBound},
        pairing,
        storage_health::{HealthInput, UserRequest},
        storages::{self as domain, Checked, IssuedApplication, StorageDetails, StorageInput},
        uploads,
    },
    error::ApiError,
    peer::Probe,
    state::AppState,
};

/// The storage `id` if the caller sees it (§6.1), else 404.
pub async fn visible(state: &AppState, caller: &Caller, id: i64) -> Result<Storage, ApiError> {
    let user = caller.user.clone();
    state
        .db
        .query(move |conn| domain::find_visible(conn, &user, id))
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Every storage the caller sees, with its details.
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<StorageDetails>, ApiError> {
    let user = caller.user.clone();
    let storages = state
        .db
        .query(move |conn| domain::visible_storages(conn, &user))
        .await?;
    details(state, storages).await
}

/// The visible storage `id` with its details; finding it and what hangs off it share one trip
/// to the database.
pub async fn find_details(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<StorageDetails, ApiError> {
    let user = caller.user.clone();
    state
        .db
        .read_query(move |conn| match domain::find_visible(conn, &user, id)? {
            Some(storage) => Ok(domain::details(conn, vec![storage])?.pop()),
            None => Ok(None),
        })
        .await?
        .ok_or_else(ApiError::not_found)
}

async fn details(
    state: &AppState,
    storages: Vec<Storage>,
) -> Result<Vec<StorageDetails>, ApiError> {
    Ok(state
        .db
        .read_query(move |conn| domain::details(conn, storages))
        .await?)
}

pub async fn one_detail(state: &AppState, storage: Storage) -> Result<StorageDetails, ApiError> {
    details(state, vec![storage])
        .await?
        .pop()
        .ok_or_else(ApiError::not_found)
}

/// The (storage, project) pairs where the caller may upload (`prepareUpload` links).
pub async fn upload_projects(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<(i64, i64)>, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .read_query(move |conn| uploads::upload_projects(conn, &user))
        .await?)
}

/// The caller's live `authorizationState` for the storage.
pub async fn authorization_state(
    state: &AppState,
    caller: &Caller,
    details: &StorageDetails,
) -> AuthorizationState {
    live_authorization_state(
        Outbound::of(state),
        caller.user.id,
        &details.storage,
        details.credentials.as_ref(),
    )
    .await
}

/// Rules 8 and 10, the calls to Nextcloud, made only when the local host rules passed.
async fn remote_rules(state: &AppState, checked: &mut Checked) {
    let Some(host) = checked.usable_host().map(str::to_string) else {
        return;
    };
    if checked.host_changed() {
        if let Err(message) = state.nextcloud.check_host(&host).await {
            checked.host_refused(message);
        }
    }
    if let Some(password) = checked.password_to_check().map(str::to_string) {
        if let Err(message) = state
            .nextcloud
            .check_application_password(&host, &password)
            .await
        {
            checked.password_refused(message);
        }
    }
}

/// `POST /api/v3/storages`: validates (§6.5), stores the storage and creates its OAuth
/// application in one transaction (§6.7).
pub async fn create(
    state: &AppState,
    creator: &User,
    input: StorageInput,
) -> Result<(Storage, IssuedApplication), ApiError> {
    let mut checked = domain::check_new(&state.secret_box, &input);
    remote_rules(state, &mut checked).await;
    let (creator_id, now) = (creator.id, now_millis());
    Ok(state
        .db
        .run(move |conn| domain::store_new(conn, checked, creator_id, now))
        .await?)
}

/// `PATCH /api/v3/storages/{id}`: the whole table again on the resulting record. The OAuth
/// application follows the name and host.
pub async fn update(
    state: &AppState,
    storage: Storage,
    input: StorageInput,
) -> Result<Storage, ApiError> {
    let mut checked = domain::check_update(&state.secret_box, &storage, &input);
    remote_rules(state, &mut checked).await;
    let now = now_millis();
    Ok(state
        .db
        .run(move |conn| domain::store_update(conn, storage.id, checked, now))
        .await?)
}

/// The storage and everything hanging off it, in one transaction.
/// A paired Nextcloud is told (Extension).
pub async fn delete(state: &AppState, storage_id: i64) -> Result<(), ApiError> {
    let (secret_box, now) = (state.secret_box.clone(), now_millis());
    state
        .db
        .run(move |conn| pairing::delete_storage(conn, &secret_box, storage_id, now))
        .await?;
    state.courier.wake();
    Ok(())
}

/// Nextcloud's client id and secret; every user's Nextcloud tokens for the storage are dropped.
pub async fn set_client_credentials(
    state: &AppState,
    storage_id: i64,
    write: OAuthClientCredentialsWrite,
) -> Result<OAuthClientCredentials, ApiError> {
    let (secret_box, now) = (state.secret_box.clone(), now_millis());
    Ok(state
        .db
        .run(move |conn| domain::set_client_credentials(conn, &secret_box, storage_id, &write, now))
        .await?)
}

/// A new OAuth application with new credentials; every grant and token of the old one stops
/// working. A paired Nextcloud is sent the new values (Extension).
pub async fn replace_application(
    state: &AppState,
    storage: &Storage,
    owner_id: i64,
) -> Result<IssuedApplication, ApiError> {
    let (for_replace, secret_box, now) = (storage.clone(), state.secret_box.clone(), now_millis());
    let issued = state
        .db
        .run(move |conn| {
            pairing::replace_application(conn, &secret_box, &for_replace, owner_id, now)
        })
        .await?;
    state.courier.wake();
    Ok(issued)
}

/// The caller disconnects from the storage's Nextcloud.
pub async fn disconnect(state: &AppState, user_id: i64, storage_id: i64) -> Result<(), ApiError> {
    state
        .db
        .query(move |conn| connections::disconnect(conn, user_id, storage_id))
        .await?;
    Ok(())
}

/// The calling admin's `cloud/user` request, for the health report's authentication group.
async fn admin_request(state: &AppState, caller: &Caller, details: &StorageDetails) -> UserRequest {
    let (Some(credentials), Some(host)) = (
        details.credentials.as_ref(),
        details.storage.host.as_deref(),
    ) else {
        return UserRequest::NoToken;
    };
    let remote = Remote { host, credentials };
    let nextcloud = &state.nextcloud;
    let outcome = with_user_token(
        Outbound::of(state),
        caller.user.id,
        remote,
        |token| async move { nextcloud.cloud_user(host, token.expose()).await },
    )
    .await;
    match outcome {
        UserBound::NotConnected => UserRequest::NoToken,
        UserBound::Answered(Probe::Ok(_)) => UserRequest::Succeeded,
        UserBound::Answered(Probe::Status(reqwest::StatusCode::NOT_FOUND)) => UserRequest::NotFound,
        UserBound::RefreshFailed | UserBound::Unauthorized => UserRequest::Unauthorized,
        UserBound::Answered(_) | UserBound::Unexpected(_) => UserRequest::Failed,
    }
}

/// The live health checks of the storage (§13), for an admin.
pub async fn health(
    state: &AppState,
    caller: &Caller,
    storage: Storage,
) -> Result<StorageHealth, ApiError> {
    let details = one_detail(state, storage).await?;
    let user_request = admin_request(state, caller, &details).await;
    let (application_password, secret_key_changed) = details.stored_secrets(&state.secret_box);
    let pairing = super::pairing::health(state, details.storage.id).await?;
    let input = HealthInput {
        pairing,
        storage_id: details.storage.id,
        host: details.storage.host.clone(),
        configured: details.configured(),
        secret_key_changed,
        user_request,
        application_password: application_password.map(|p: SecretString| p.expose().to_string()),
    };
    Ok(storage_health::check(&state.nextcloud, input, iso8601_millis(now_millis())).await)
}
