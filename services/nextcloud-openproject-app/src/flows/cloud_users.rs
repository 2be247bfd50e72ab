//! The provisioning API's users (contract §2): reading one, creating one, setting a quota.

use service_kit::time::now_millis;
use storage_protocol::nextcloud::{messages, CloudUser, ProvisionUser};

use crate::{
    db::users,
    domain::{
        authentication::AuthenticatedUser,
        provisioning::{self, ProvisionError},
        users::{cloud_user, UserId},
    },
    error::ApiError,
    state::AppState,
};

use super::run;

/// The caller's own user; [`ApiError::NotLoggedIn`] when it is gone meanwhile.
pub async fn current(state: &AppState, uid: String) -> Result<CloudUser, ApiError> {
    run(state, move |conn| {
        let row = users::find(conn, &uid)?.ok_or(ApiError::NotLoggedIn)?;
        Ok::<_, ApiError>(cloud_user(conn, row)?)
    })
    .await
}

/// A user as `caller` may see it: admins see everyone, others only themselves; anyone else
/// answers as an unknown user does.
pub async fn get(
    state: &AppState,
    caller: AuthenticatedUser,
    wanted: String,
) -> Result<CloudUser, ApiError> {
    run(state, move |conn| {
        let visible =
            users::find(conn, &wanted)?.filter(|row| caller.is_admin || row.uid == caller.uid);
        match visible {
            Some(row) => Ok(cloud_user(conn, row)?),
            None => Err(ApiError::ocs(404, messages::USER_NOT_FOUND)),
        }
    })
    .await
}

/// Validates and creates a user; the password is hashed between the two database hops, off
/// any connection.
pub async fn create(state: &AppState, request: ProvisionUser) -> Result<UserId, ApiError> {
    let validated = run(state, move |conn| {
        Ok::<_, ApiError>(provisioning::validate(conn, &request).map(|v| (v, request.password)))
    })
    .await?
    .map_err(refusal)?;
    let (validated, password) = validated;
    let password_hash =
        tokio::task::spawn_blocking(move || service_kit::crypto::hash_password(&password))
            .await
            .map_err(|e| ApiError::Unexpected(anyhow::Error::new(e).context("password hashing")))?;
    run(state, move |conn| {
        Ok::<_, ApiError>(provisioning::provision(conn, validated, password_hash))
    })
    .await?
    .map_err(refusal)
}

/// Sets a user's quota (`None`: unlimited); returns the user's uid as stored.
pub async fn set_quota(
    state: &AppState,
    uid: String,
    quota: Option<i64>,
) -> Result<String, ApiError> {
    run(state, move |conn| {
        let user =
            users::find(conn, &uid)?.ok_or_else(|| ApiError::ocs(404, messages::USER_NOT_FOUND))?;
        users::set_quota(conn, &user.uid, quota, now_millis() / 1000)?;
        Ok::<_, ApiError>(user.uid)
    })
    .await
}

fn refusal(error: ProvisionError) -> ApiError {
    match error.ocs() {
        Some((code, message)) => ApiError::ocs(code, message),
        None => ApiError::Unexpected(anyhow::Error::new(error).context("user provisioning")),
    }
}
