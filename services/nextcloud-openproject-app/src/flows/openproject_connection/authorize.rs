//! `GET APP/oauth-redirect` (nextcloud-openproject-app.md §4): the code exchanged at
//! OpenProject, the connection stored, and the outcome kept for the personal settings page.

use service_kit::db::serialized_transaction;

use crate::{
    domain::{
        openproject_connection::{
            authorize::{
                denial_reason, starting_page_location, take_flow_state, RedirectParams,
                EXCHANGE_PRECONDITIONS_FAILED,
            },
            connection_lock, RESULT_ERROR, RESULT_SUCCESS,
        },
        preferences::{self, keys},
    },
    error::ApiError,
    flows::run,
    peer::{self, ExchangeFailure},
    state::AppState,
};

use super::{tokens, OpenProject};

/// `GET APP/oauth-redirect`: checks the state, exchanges the code (with the verifier) at
/// OpenProject, reads `/api/v3/users/me`, stores the connection and the outcome for the
/// personal settings page, and returns where to send the browser (always a 303).
pub async fn finish_authorization(
    state: &AppState,
    uid: &str,
    params: RedirectParams,
) -> Result<String, ApiError> {
    let op = state.openproject();
    let secret_box = op.secret_box.clone();
    let owner = uid.to_string();
    let flow = run(state, move |conn| {
        serialized_transaction(conn, connection_lock(&owner), |conn| {
            take_flow_state(conn, &secret_box, &owner)
        })
    })
    .await?;
    let location = starting_page_location(flow.starting_page.as_deref());

    let settings = &flow.settings;
    let Some(verifier) = flow.exchangeable_verifier(params.state.as_deref()) else {
        record_outcome(op, uid, Err(EXCHANGE_PRECONDITIONS_FAILED.to_string())).await?;
        return Ok(location);
    };

    let exchanged = match params.code.filter(|c| !c.is_empty()) {
        Some(code) => peer::exchange_code(op, settings, &code, verifier).await,
        None => Err(ExchangeFailure::Refused(denial_reason(
            params.error.as_deref(),
        ))),
    };
    match exchanged {
        Ok(tokens) => {
            tokens::store_tokens(op, uid, &tokens, None).await?;
            let identity =
                peer::fetch_me(op.http, &settings.openproject_instance_url, &tokens.access)
                    .await
                    .ok();
            tokens::store_identity(op, uid, identity).await?;
            record_outcome(op, uid, Ok(())).await?;
        }
        Err(failure) => {
            let message = format!("Error getting OAuth access token. {}", failure.reason());
            record_outcome(op, uid, Err(message)).await?;
        }
    }
    Ok(location)
}

async fn record_outcome(
    op: OpenProject<'_>,
    uid: &str,
    outcome: Result<(), String>,
) -> Result<(), ApiError> {
    let secret_box = op.secret_box.clone();
    let uid = uid.to_string();
    op.db
        .run(move |conn| {
            service_kit::db::write_transaction(conn, |conn| match &outcome {
                Ok(()) => {
                    preferences::set(
                        conn,
                        &secret_box,
                        &uid,
                        keys::OAUTH_CONNECTION_RESULT,
                        RESULT_SUCCESS,
                    )?;
                    preferences::delete(conn, &uid, keys::OAUTH_CONNECTION_ERROR_MESSAGE).map(drop)
                }
                Err(message) => {
                    preferences::set(
                        conn,
                        &secret_box,
                        &uid,
                        keys::OAUTH_CONNECTION_RESULT,
                        RESULT_ERROR,
                    )?;
                    preferences::set(
                        conn,
                        &secret_box,
                        &uid,
                        keys::OAUTH_CONNECTION_ERROR_MESSAGE,
                        message,
                    )
                }
            })
            .map_err(ApiError::from)
        })
        .await
}
