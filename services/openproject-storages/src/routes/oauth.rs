//! OpenProject's OAuth authorization server (spec/oauth.md §2): authorize with login and
//! consent, token, revoke, introspect, token info and the server metadata.

use actix_web::{dev::Payload, http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use oauth_provider::RevokeOutcome;
use serde::Deserialize;
use service_kit::operations::METRICS;
use service_kit::{
    auth::{limits, parse_authorization, Credentials, ThrottleDecision},
    client_address::client_address,
    crypto::SecretString,
    input::{read_limited, BodyError},
    time::now_millis,
};
use storage_protocol::{
    oauth::{
        openproject::{descriptions, ErrorCode},
        Introspection, OpenProjectTokenResponse, ServerMetadata, TokenInfo, TokenInfoApplication,
    },
    storages::API_V3_SCOPE,
};

use super::pages::{login_location, page, redirect, session_id};
use crate::{
    auth::MaybeCaller,
    db::oauth_applications::OAuthApplication,
    domain::oauth_server::{
        self as domain, AuthorizeError, AuthorizeErrorOrDb, AuthorizeParams, ClientCredentials,
        TokenError, TokenFailure, TokenParams,
    },
    error::ApiError,
    flows,
    state::{AppState, State},
};

/// How long a consent form's CSRF token lives.
const CONSENT_FORM_LIFETIME_MILLIS: i64 = 30 * 60 * 1000;

#[derive(Template)]
#[template(path = "oauth_consent.html")]
struct ConsentPage<'a> {
    instance_name: &'a str,
    application_name: &'a str,
    /// One line per requested scope, saying what it allows.
    permissions: Vec<String>,
    csrf_token: &'a str,
    client_id: &'a str,
    redirect_uri: &'a str,
    scope: &'a str,
    state: Option<&'a str>,
    code_challenge: Option<&'a str>,
    code_challenge_method: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "oauth_error.html")]
struct ErrorPage<'a> {
    instance_name: &'a str,
    error: &'a str,
    description: &'a str,
}

fn oauth_error(status: StatusCode, error: &'static str, description: Option<String>) -> ApiError {
    ApiError::OAuth {
        status,
        error,
        description,
    }
}

/// The outcome of the authorize checks as a response: an error page, or a redirect.
fn authorize_failure(
    state: &AppState,
    failure: AuthorizeErrorOrDb,
) -> Result<HttpResponse, ApiError> {
    match failure {
        AuthorizeErrorOrDb::Authorize(AuthorizeError::Page { error, description }) => page(
            StatusCode::BAD_REQUEST,
            ErrorPage {
                instance_name: &state.settings.instance_name,
                error,
                description,
            }
            .render(),
        ),
        AuthorizeErrorOrDb::Authorize(AuthorizeError::Redirect(location)) => {
            Ok(redirect(&location))
        }
        AuthorizeErrorOrDb::Db(e) => Err(e.into()),
    }
}

/// GET /oauth/authorize: sign in first, then consent (skipped when the user already approved
/// this application for these scopes).
pub async fn authorize(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
) -> Result<HttpResponse, ApiError> {
    let Some(caller) = caller.0 else {
        return Ok(redirect(&login_location(&state, &req)));
    };
    let params: AuthorizeParams =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let valid = match flows::oauth_server::validate(&state, params).await {
        Ok(valid) => valid,
        Err(failure) => return authorize_failure(&state, failure),
    };
    let approved_location =
        flows::oauth_server::approve_if_approved_before(&state, valid.clone(), caller.user.clone())
            .await?;
    if let Some(location) = approved_location {
        return Ok(redirect(&location));
    }
    let csrf_token = state.csrf.issue(
        &session_id(&req),
        (now_millis() + CONSENT_FORM_LIFETIME_MILLIS) / 1000,
    );
    page(
        StatusCode::OK,
        ConsentPage {
            instance_name: &state.settings.instance_name,
            application_name: &valid.application.name,
            permissions: valid
                .scope
                .split_whitespace()
                .map(|scope| match scope {
                    API_V3_SCOPE => format!(
                        "Use the API of {} in your name (scope {scope})",
                        state.settings.instance_name
                    ),
                    other => format!("Scope {other}"),
                })
                .collect(),
            csrf_token: &csrf_token,
            client_id: &valid.application.client_id,
            redirect_uri: &valid.redirect_uri,
            scope: &valid.scope,
            state: valid.state.as_deref(),
            code_challenge: valid.code_challenge.as_deref(),
            code_challenge_method: valid.code_challenge_method.map(|m| m.as_str()),
        }
        .render(),
    )
}

/// The consent form: the authorize parameters again, its CSRF token, and `_method=delete` to
/// deny from a plain HTML form.
#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    #[serde(default)]
    authenticity_token: String,
    #[serde(rename = "_method", default)]
    method: String,
}

/// POST /oauth/authorize: approve (or deny with `_method=delete`).
pub async fn decide(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let form: DecisionForm = crate::body::parse_form(&body).unwrap_or_default();
    let deny = form.method.eq_ignore_ascii_case("delete");
    decision(state, req, caller, form, deny).await
}

/// DELETE /oauth/authorize: deny.
pub async fn deny(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let mut form: DecisionForm = crate::body::parse_form(&body).unwrap_or_default();
    if form.params.client_id.is_none() {
        form.params = crate::body::parse_form(req.query_string().as_bytes()).unwrap_or_default();
    }
    decision(state, req, caller, form, true).await
}

async fn decision(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
    form: DecisionForm,
    deny: bool,
) -> Result<HttpResponse, ApiError> {
    let Some(caller) = caller.0 else {
        return Ok(redirect("/login"));
    };
    if !state
        .csrf
        .verify(&form.authenticity_token, &session_id(&req))
    {
        return Ok(HttpResponse::UnprocessableEntity()
            .content_type("text/plain; charset=utf-8")
            .body("Invalid form token: reload the page and try again."));
    }
    let valid = match flows::oauth_server::validate(&state, form.params).await {
        Ok(valid) => valid,
        Err(failure) => return authorize_failure(&state, failure),
    };
    if deny {
        return Ok(redirect(&domain::deny(&valid)));
    }
    let location = flows::oauth_server::approve(&state, valid, caller.user).await?;
    Ok(redirect(&location))
}

/// Reads a `application/x-www-form-urlencoded` body of an OAuth endpoint; any other type is
/// 415 with `{}`.
async fn form_body<T: for<'de> Deserialize<'de> + Default>(
    state: &AppState,
    req: &HttpRequest,
    payload: &mut Payload,
) -> Result<T, ApiError> {
    let essence = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if essence.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(oauth_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "", None));
    }
    let body = read_limited(req, payload, state.settings.common.max_body_bytes)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => oauth_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::InvalidRequest.as_str(),
                Some("The request body is too large.".into()),
            ),
            BodyError::Read(_) => invalid_request(),
        })?;
    crate::body::parse_form(&body).ok_or_else(invalid_request)
}

fn invalid_request() -> ApiError {
    oauth_error(
        StatusCode::BAD_REQUEST,
        ErrorCode::InvalidRequest.as_str(),
        Some(descriptions::INVALID_REQUEST.into()),
    )
}

fn invalid_client() -> ApiError {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidClient.as_str(),
        Some(descriptions::INVALID_CLIENT.into()),
    )
}

/// HTTP Basic wins over the `client_id`/`client_secret` form fields.
fn client_credentials(
    req: &HttpRequest,
    client_id: Option<&str>,
    client_secret: Option<&SecretString>,
) -> Option<ClientCredentials> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some(Ok(Some(Credentials::Basic { username, password }))) =
        header.map(parse_authorization)
    {
        return Some(ClientCredentials {
            client_id: username,
            client_secret: password,
        });
    }
    Some(ClientCredentials {
        client_id: client_id?.to_string(),
        client_secret: client_secret.cloned().unwrap_or_default(),
    })
}

fn too_many_requests() -> ApiError {
    oauth_error(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        Some("Too many failed requests. Please try again later.".into()),
    )
}

/// The answer a failed client authentication gets once counted: 429 past the limit, else
/// `failure` after the delay its address has earned.
async fn throttled_failure(
    decision: ThrottleDecision,
    failure: ApiError,
) -> Result<HttpResponse, ApiError> {
    match decision {
        ThrottleDecision::Refuse => Err(too_many_requests()),
        ThrottleDecision::Delay(delay) => {
            tokio::time::sleep(delay).await;
            Err(failure)
        }
        ThrottleDecision::Allow => Err(failure),
    }
}

/// POST /oauth/token: the authorization_code and refresh_token grants.
pub async fn token(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let mut payload = payload.into_inner();
    let params: TokenParams = form_body(&state, &req, &mut payload).await?;
    let credentials = client_credentials(
        &req,
        params.client_id.as_deref(),
        params.client_secret.as_ref(),
    );
    if !params.fit_the_limits() || credentials.as_ref().is_some_and(|c| !c.fit_the_limits()) {
        return Err(invalid_request());
    }
    let grant_type = params.grant_type.clone().unwrap_or_default();
    let (result, decision) =
        flows::oauth_server::grant(&state, credentials, params, client_address(&req)).await?;
    METRICS.observe_grant(&grant_type, result.is_ok());
    let pair = match result {
        Ok(pair) => pair,
        Err(TokenFailure::Db(e)) => return Err(e.into()),
        Err(TokenFailure::Token(error)) => {
            let status = if error == TokenError::InvalidClient {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            let failure = oauth_error(status, error.code(), Some(error.description()));
            return throttled_failure(decision, failure).await;
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(OpenProjectTokenResponse {
            access_token: pair.access_token.into_exposed(),
            token_type: "Bearer".into(),
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token.into_exposed(),
            scope: pair.scope,
            created_at: pair.created_at,
        }))
}

/// The form of `/oauth/revoke` and `/oauth/introspect`; `Debug` shows no secret.
#[derive(Debug, Default, Deserialize)]
pub struct TokenFormParams {
    token: Option<SecretString>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
}

impl TokenFormParams {
    /// Whether every field is within `service_kit::auth::limits`.
    fn fit_the_limits(&self) -> bool {
        limits::oauth_fields_fit(
            self.client_id.as_deref(),
            [
                self.token.as_ref().map(SecretString::expose),
                self.client_secret.as_ref().map(SecretString::expose),
            ],
        )
    }
}

/// The application authenticating a revoke or introspect call by its credentials.
async fn authenticated_client(
    state: &AppState,
    req: &HttpRequest,
    form: &TokenFormParams,
) -> Result<Option<OAuthApplication>, ApiError> {
    if !form.fit_the_limits() {
        return Err(invalid_request());
    }
    let credentials =
        client_credentials(req, form.client_id.as_deref(), form.client_secret.as_ref());
    if credentials.as_ref().is_some_and(|c| !c.fit_the_limits()) {
        return Err(invalid_request());
    }
    flows::oauth_server::authenticate_client(state, credentials).await
}

/// POST /oauth/revoke: revokes the pair holding the token, if the calling client was issued it.
pub async fn revoke(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let mut payload = payload.into_inner();
    let form: TokenFormParams = form_body(&state, &req, &mut payload).await?;
    let Some(application) = authenticated_client(&state, &req, &form).await? else {
        let decision =
            flows::oauth_server::client_authentication_failed(&state, client_address(&req)).await?;
        return throttled_failure(decision, invalid_client()).await;
    };
    let Some(token) = form.token.filter(|t| !t.is_empty()) else {
        return Ok(HttpResponse::Ok().json(serde_json::json!({})));
    };
    let outcome = flows::oauth_server::revoke(&state, application, token).await?;
    match outcome {
        RevokeOutcome::OtherClient => Err(oauth_error(
            StatusCode::FORBIDDEN,
            ErrorCode::UnauthorizedClient.as_str(),
            Some(descriptions::UNAUTHORIZED_REVOKE.into()),
        )),
        RevokeOutcome::Revoked | RevokeOutcome::Unknown => {
            Ok(HttpResponse::Ok().json(serde_json::json!({})))
        }
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    match parse_authorization(header) {
        Ok(Some(Credentials::Bearer(token))) => Some(token.expose().to_string()),
        _ => None,
    }
}

/// POST /oauth/introspect: the calling client (by credentials, or by one of its live access
/// tokens as Bearer) learns whether a token of its own is active.
pub async fn introspect(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let mut payload = payload.into_inner();
    let form: TokenFormParams = form_body(&state, &req, &mut payload).await?;
    let mut application = authenticated_client(&state, &req, &form).await?;
    if application.is_none() {
        if let Some(bearer) = bearer_token(&req) {
            application = flows::oauth_server::application_of_bearer(&state, bearer)
                .await?
                .map(|(_, application)| application);
        }
    }
    let Some(application) = application else {
        let decision =
            flows::oauth_server::client_authentication_failed(&state, client_address(&req)).await?;
        return throttled_failure(decision, invalid_client()).await;
    };
    let token = form.token.unwrap_or_default();
    let client_id = application.client_id.clone();
    let row = flows::oauth_server::introspect(&state, application, token).await?;
    let body = match row {
        Some(row) => Introspection {
            active: true,
            scope: Some(row.scope.clone()),
            client_id: Some(client_id),
            token_type: Some("Bearer".into()),
            exp: Some(row.expires_at_secs()),
            iat: Some(row.created_at_secs()),
        },
        None => Introspection::inactive(),
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(body))
}

/// GET /oauth/token/info: what a Bearer token is.
pub async fn token_info(state: State, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let invalid = || {
        oauth_error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken.as_str(),
            Some(descriptions::INVALID_TOKEN.into()),
        )
    };
    let token = bearer_token(&req).ok_or_else(invalid)?;
    let (row, application) = flows::oauth_server::application_of_bearer(&state, token)
        .await?
        .ok_or_else(invalid)?;
    let resource_owner_id = row.subject.parse::<i64>().map_err(|_| invalid())?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenInfo {
            resource_owner_id,
            scope: row.scope.split_whitespace().map(str::to_string).collect(),
            expires_in: row.expires_in_secs(now_millis()),
            application: TokenInfoApplication {
                uid: application.client_id,
            },
            created_at: row.created_at_secs(),
        }))
}

/// GET /.well-known/oauth-authorization-server
pub async fn metadata(state: State) -> HttpResponse {
    HttpResponse::Ok().json(ServerMetadata::openproject(&state.public_url))
}
