//! The integration's set-up by an admin (contract §3.1, §3.3): `setup` with its client
//! rotation, `admin-config`, `nc-oauth` and the configuration check.

use service_kit::time::now_millis;

use crate::{
    domain::{
        oauth_clients::IssuedClient,
        settings::Changes,
        setup::{self, AdminConfigOutcome, ConfigCheck, PatchOutcome, PostOutcome},
    },
    error::ApiError,
    state::AppState,
};

use super::run;

/// `POST setup`: everything at once, with a new Nextcloud OAuth client.
pub async fn post(state: &AppState, changes: Changes) -> Result<PostOutcome, ApiError> {
    let secret_box = state.secret_box.clone();
    let outcome = run(state, move |conn| {
        setup::post(conn, &secret_box, &changes, now_millis())
    })
    .await?;
    state.courier.wake();
    Ok(outcome)
}

/// `PATCH setup`: the keys sent, no rotation.
pub async fn patch(state: &AppState, changes: Changes) -> Result<PatchOutcome, ApiError> {
    let secret_box = state.secret_box.clone();
    run(state, move |conn| setup::patch(conn, &secret_box, &changes)).await
}

/// `DELETE setup`: the integration back to its installed state.
pub async fn reset(state: &AppState, admin_uid: String) -> Result<(), ApiError> {
    let secret_box = state.secret_box.clone();
    run(state, move |conn| {
        setup::reset(conn, &secret_box, &admin_uid, now_millis())
    })
    .await?;
    state.courier.wake();
    Ok(())
}

/// `PUT admin-config`.
pub async fn admin_config(
    state: &AppState,
    changes: Changes,
) -> Result<AdminConfigOutcome, ApiError> {
    let secret_box = state.secret_box.clone();
    run(state, move |conn| {
        setup::admin_config(conn, &secret_box, &changes)
    })
    .await
}

/// `POST nc-oauth`: a new Nextcloud OAuth client for OpenProject.
pub async fn rotate_client(state: &AppState) -> Result<IssuedClient, ApiError> {
    let secret_box = state.secret_box.clone();
    let client = run(state, move |conn| {
        setup::rotate_client(conn, &secret_box, now_millis())
    })
    .await?;
    state.courier.wake();
    Ok(client)
}

/// `GET check-admin-config`.
pub async fn check(state: &AppState) -> Result<ConfigCheck, ApiError> {
    let secret_box = state.secret_box.clone();
    run(state, move |conn| setup::check(conn, &secret_box)).await
}
