//! The authorization server for OpenProject (oauth.md §3): the authorize checks, the consent
//! waiting server-side, the decision, and the token endpoint with its throttle.

use service_kit::{auth::ThrottleDecision, throttle, time::now_millis};

use crate::{
    db::oauth_clients::OAuthClientRow,
    domain::oauth_server::{
        self, AuthorizeCheck, AuthorizeParams, Decision, TokenParams, TokenResult,
        ValidAuthorization,
    },
    error::ApiError,
    state::AppState,
};

use super::run;

/// The checks of §3.1 in order.
pub async fn check_authorize(
    state: &AppState,
    params: AuthorizeParams,
) -> Result<AuthorizeCheck, ApiError> {
    let issuer = state.public_url.clone();
    run(state, move |conn| {
        oauth_server::check_authorize(conn, &params, &issuer)
    })
    .await
}

/// Keeps a valid request waiting for `uid`'s consent; returns the request's id.
pub async fn start_consent(
    state: &AppState,
    request: ValidAuthorization,
    uid: String,
) -> Result<String, ApiError> {
    run(state, move |conn| {
        oauth_server::start_consent(conn, &request, &uid, now_millis())
    })
    .await
}

/// The client a live consent request of `uid` is for, when it names that client.
pub async fn pending_client(
    state: &AppState,
    request_id: String,
    uid: String,
    client_identifier: String,
) -> Result<Option<OAuthClientRow>, ApiError> {
    run(state, move |conn| {
        oauth_server::pending_client(conn, &request_id, &uid, &client_identifier, now_millis())
    })
    .await
}

/// Grants or denies a consent request; the location to send the browser to, `None` when the
/// request is unknown, expired or decided.
pub async fn decide(
    state: &AppState,
    request_id: String,
    uid: String,
    decision: Decision,
) -> Result<Option<String>, ApiError> {
    let issuer = state.public_url.clone();
    run(state, move |conn| {
        oauth_server::decide(conn, &request_id, &uid, decision, &issuer, now_millis())
    })
    .await
}

/// The token endpoint's grant. A refusal without the client's correct credentials counts
/// against `client_address` and, past the limit, is delayed or refused (the grant and the
/// throttle in one trip to the database).
pub async fn token(
    state: &AppState,
    params: TokenParams,
    client_address: String,
) -> Result<TokenResult, ApiError> {
    let (policy, failing_address) = (state.throttle, client_address.clone());
    let secret_box = state.secret_box.clone();
    let (answer, decision) = state
        .db
        .write(move |conn| {
            let answer = oauth_server::token(conn, &secret_box, &params, now_millis())?;
            let decision = match &answer {
                Err(_)
                    if !oauth_server::presents_client_credentials(conn, &secret_box, &params)? =>
                {
                    throttle::client_authentication_failed(
                        conn,
                        &policy,
                        &failing_address,
                        now_millis(),
                    )?
                }
                _ => ThrottleDecision::Allow,
            };
            Ok::<_, ApiError>((answer, decision))
        })
        .await?;
    super::authentication::obey(decision, &client_address).await?;
    Ok(answer)
}
