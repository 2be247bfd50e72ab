//! OpenProject's OAuth authorization server (spec/oauth.md §2): the database hops of authorize
//! and consent, the token grants with their throttling, revoke and introspect. The rules are in
//! [`crate::domain::oauth_server`]; the outcomes are OAuth's own, so the route chooses the
//! redirect, page or error body.

use oauth_provider::{RevokeOutcome, TokenPair, TokenRow};
use service_kit::{auth::ThrottleDecision, crypto::SecretString, throttle, time::now_millis};

use crate::{
    db::{oauth_applications::OAuthApplication, users::User},
    domain::oauth_server::{
        self as domain, AuthorizeErrorOrDb, AuthorizeParams, ClientCredentials, TokenFailure,
        TokenParams, ValidAuthorization,
    },
    error::ApiError,
    state::AppState,
};

/// Checks an authorization request against the registered applications.
pub async fn validate(
    state: &AppState,
    params: AuthorizeParams,
) -> Result<ValidAuthorization, AuthorizeErrorOrDb> {
    let issuer = state.public_url.clone();
    state
        .db
        .run(move |conn| domain::validate_authorize(conn, &params, &issuer))
        .await
}

/// The redirect with a new code when the user already approved this application for these
/// scopes; `None` when they are to be asked.
pub async fn approve_if_approved_before(
    state: &AppState,
    valid: ValidAuthorization,
    user: User,
) -> Result<Option<String>, ApiError> {
    Ok(state
        .db
        .query(move |conn| {
            if domain::already_approved(conn, &valid, &user)? {
                domain::approve(conn, &valid, &user, now_millis()).map(Some)
            } else {
                Ok(None)
            }
        })
        .await?)
}

/// The user consents: the redirect with a new code.
pub async fn approve(
    state: &AppState,
    valid: ValidAuthorization,
    user: User,
) -> Result<String, ApiError> {
    Ok(state
        .db
        .query(move |conn| domain::approve(conn, &valid, &user, now_millis()))
        .await?)
}

/// Counts a failed client authentication of `address` on its own trip to the database.
pub async fn client_authentication_failed(
    state: &AppState,
    address: String,
) -> Result<ThrottleDecision, ApiError> {
    let policy = state.throttle;
    Ok(state
        .db
        .query(move |conn| {
            throttle::client_authentication_failed(conn, &policy, &address, now_millis())
        })
        .await?)
}

/// The authorization_code and refresh_token grants. The grant is tried first: a client with its
/// correct secret is never refused for what others sent. A failed client authentication is
/// counted in the same trip to the database; its throttling decision comes with the failure.
pub async fn grant(
    state: &AppState,
    credentials: Option<ClientCredentials>,
    params: TokenParams,
    address: String,
) -> Result<(Result<TokenPair, TokenFailure>, ThrottleDecision), ApiError> {
    let policy = state.throttle;
    let secret_box = state.secret_box.clone();
    state
        .db
        .write(move |conn| {
            let result = domain::token(
                conn,
                &secret_box,
                credentials.as_ref(),
                &params,
                now_millis(),
            );
            let decision = match &result {
                Err(TokenFailure::Token(error)) if error.is_failed_client_authentication() => {
                    throttle::client_authentication_failed(conn, &policy, &address, now_millis())?
                }
                _ => ThrottleDecision::Allow,
            };
            Ok::<_, ApiError>((result, decision))
        })
        .await
}

/// The application these credentials authenticate, if any.
pub async fn authenticate_client(
    state: &AppState,
    credentials: Option<ClientCredentials>,
) -> Result<Option<OAuthApplication>, ApiError> {
    Ok(state
        .db
        .query(move |conn| domain::authenticate_client(conn, credentials.as_ref()))
        .await?)
}

/// Revokes the pair holding the token, if the application was issued it.
pub async fn revoke(
    state: &AppState,
    application: OAuthApplication,
    token: SecretString,
) -> Result<RevokeOutcome, ApiError> {
    Ok(state
        .db
        .query(move |conn| domain::revoke(conn, &application, token.expose()))
        .await?)
}

/// The live access token `bearer` with the application it was issued to.
pub async fn application_of_bearer(
    state: &AppState,
    bearer: String,
) -> Result<Option<(TokenRow, OAuthApplication)>, ApiError> {
    Ok(state
        .db
        .query(move |conn| domain::application_of_bearer(conn, &bearer, now_millis()))
        .await?)
}

/// The token, if it is the application's own and active.
pub async fn introspect(
    state: &AppState,
    application: OAuthApplication,
    token: SecretString,
) -> Result<Option<TokenRow>, ApiError> {
    Ok(state
        .db
        .query(move |conn| domain::introspect(conn, &application, token.expose(), now_millis()))
        .await?)
}
