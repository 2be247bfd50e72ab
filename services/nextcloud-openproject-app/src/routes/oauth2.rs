//! The authorization server for OpenProject (oauth.md §3): `GET /index.php/apps/oauth2/authorize`,
//! the consent pages `GET /index.php/login/flow` and `POST /index.php/login/flow/grant`, and
//! `POST /index.php/apps/oauth2/api/v1/token`. Pages refuse framing (server default headers).

use actix_web::{http::header, http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde_json::Value;
use service_kit::operations::METRICS;
use service_kit::{
    auth::{parse_authorization, Credentials},
    client_address::client_address,
    crypto::SecretString,
};
use storage_protocol::oauth::{
    nextcloud::{TokenError, TokenErrorCode, CLIENT_NOT_AUTHORIZED, CONSENT_PATH},
    CACHE_CONTROL_NO_STORE, PRAGMA_NO_CACHE,
};

use crate::{
    auth::{check_csrf, session_token, MaybeUser, REQUEST_TOKEN},
    body,
    domain::{
        authentication::{AuthMethod, AuthenticatedUser},
        oauth_server::{self, AuthorizeCheck, AuthorizeParams, Decision, TokenParams},
    },
    error::{login_url, ApiError},
    flows,
    routes::{home::html, pages::csp_with_form_redirect_to},
    state::AppState,
};

/// Shown when a consent request is unknown, expired or already decided (our text).
const REQUEST_EXPIRED: &str =
    "This authorization request is invalid or has expired. Please start again from your application.";

#[derive(Template)]
#[template(path = "oauth_message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
}

#[derive(Template)]
#[template(path = "oauth_consent.html")]
struct ConsentPage<'a> {
    display_name: &'a str,
    client_name: &'a str,
    requesttoken: &'a str,
    request_id: &'a str,
}

/// Authorization and consent belong to browser sessions: a Basic or Bearer caller is sent to
/// the login page like an anonymous one, so no token can mint new grants.
fn session_user(caller: &MaybeUser) -> Option<&AuthenticatedUser> {
    caller
        .0
        .as_ref()
        .filter(|user| matches!(user.method, AuthMethod::Session { .. }))
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// 303 to the login page, which comes back to this very request.
fn login_first(req: &HttpRequest) -> HttpResponse {
    let here = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_string(), |pq| pq.as_str().to_string());
    see_other(&login_url(Some(&here)))
}

fn message_page(status: StatusCode, title: &str, message: &str) -> Result<HttpResponse, ApiError> {
    html(status, &MessagePage { title, message })
}

/// GET /index.php/apps/oauth2/authorize — the checks of §3.1 in order; then, with a session,
/// the request waits server-side for consent and the browser goes to the consent page.
pub async fn authorize(
    req: HttpRequest,
    query: web::Query<AuthorizeParams>,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = query.into_inner();
    let checked = flows::oauth2::check_authorize(&state, params.clone()).await?;
    let request = match checked {
        AuthorizeCheck::UnknownClient => {
            return message_page(StatusCode::OK, "Access forbidden", CLIENT_NOT_AUTHORIZED)
        }
        AuthorizeCheck::Refused(location) => return Ok(see_other(&location)),
        AuthorizeCheck::Valid(request) => request,
    };
    let Some(user) = session_user(&caller) else {
        return Ok(login_first(&req));
    };
    let uid = user.uid.clone();
    let id = flows::oauth2::start_consent(&state, request, uid).await?;
    let consent: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "clientIdentifier",
            params.client_id.as_deref().unwrap_or_default(),
        )
        .append_pair("request", &id)
        .finish();
    Ok(see_other(&format!("{CONSENT_PATH}?{consent}")))
}

#[derive(Debug, serde::Deserialize)]
pub struct ConsentQuery {
    #[serde(rename = "clientIdentifier")]
    client_identifier: Option<String>,
    request: Option<String>,
}

/// GET /index.php/login/flow?clientIdentifier=…&request=… — "connect <client> to your
/// account", with a CSRF-protected form to grant or deny.
pub async fn consent(
    req: HttpRequest,
    query: web::Query<ConsentQuery>,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(user) = session_user(&caller).cloned() else {
        return Ok(login_first(&req));
    };
    let query = query.into_inner();
    let (Some(client_identifier), Some(id)) = (query.client_identifier, query.request) else {
        return message_page(StatusCode::BAD_REQUEST, "Access forbidden", REQUEST_EXPIRED);
    };
    let (uid, request_id) = (user.uid.clone(), id.clone());
    let client = flows::oauth2::pending_client(&state, request_id, uid, client_identifier).await?;
    let Some(client) = client else {
        return message_page(StatusCode::BAD_REQUEST, "Access forbidden", REQUEST_EXPIRED);
    };
    let requesttoken = session_token(&state, &user).unwrap_or_default();
    let mut response = html(
        StatusCode::OK,
        &ConsentPage {
            display_name: &user.display_name,
            client_name: &client.name,
            requesttoken: &requesttoken,
            request_id: &id,
        },
    )?;
    if let Some(csp) = csp_with_form_redirect_to(&client.redirect_uri)
        .and_then(|csp| header::HeaderValue::from_str(&csp).ok())
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(response)
}

/// POST /index.php/login/flow/grant — form fields `requesttoken`, `request` and `decision`
/// (`grant`, the default, or `deny`): 303 to the client's registered URI with a code or
/// `access_denied`.
pub async fn grant(
    req: HttpRequest,
    payload: web::Payload,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(user) = session_user(&caller).cloned() else {
        return Err(ApiError::NotLoggedIn);
    };
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let form = body::parse_pairs(&raw)?;
    let field = |name: &str| {
        form.iter()
            .find_map(|(k, v)| (k == name).then_some(v.as_str()))
    };
    check_csrf(&state, &req, &user, field(REQUEST_TOKEN))?;
    let decision = match field("decision") {
        Some("deny") => Decision::Deny,
        _ => Decision::Grant,
    };
    let id = field("request").unwrap_or_default().to_string();
    let location = flows::oauth2::decide(&state, id, user.uid.clone(), decision).await?;
    match location {
        Some(location) => Ok(see_other(&location)),
        None => message_page(StatusCode::BAD_REQUEST, "Access forbidden", REQUEST_EXPIRED),
    }
}

/// POST /index.php/apps/oauth2/api/v1/token — parameters from the query string, a form body or
/// a JSON body (the body wins), HTTP Basic credentials replacing the client's. Every refusal is
/// a 400 `{"error": …}`. A request without its client's correct secret that fails counts
/// against the client address, and past the limit such failures are delayed, then refused; a
/// grant that succeeds is never refused.
pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let address = client_address(&req);
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let params = token_params(&req, &raw);
    let grant_type = params.grant_type.clone().unwrap_or_default();
    let answer = if params.fit_the_limits() {
        flows::oauth2::token(&state, params, address).await?
    } else {
        Err(TokenErrorCode::InvalidRequest)
    };
    METRICS.observe_grant(&grant_type, answer.is_ok());
    let mut response = match &answer {
        Ok(_) => HttpResponse::Ok(),
        Err(_) => HttpResponse::BadRequest(),
    };
    response
        .insert_header(CACHE_CONTROL_NO_STORE)
        .insert_header(PRAGMA_NO_CACHE);
    match answer {
        Ok(issued) => Ok(response.json(issued)),
        Err(error) => Ok(response.json(TokenError { error })),
    }
}

/// The token request's parameters: query pairs, overridden by the body's (form, or JSON object
/// when the content type says so; an unreadable body has none), then Basic credentials. Client
/// credentials, codes, refresh tokens and verifiers in the query mark the request refused.
fn token_params(req: &HttpRequest, raw: &[u8]) -> TokenParams {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let secrets_in_query = pairs
        .iter()
        .any(|(key, _)| oauth_server::SECRET_PARAMETERS.contains(&key.as_str()));
    if body::is_json(req) {
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(raw) {
            pairs.extend(object.into_iter().filter_map(|(key, value)| match value {
                Value::String(s) => Some((key, s)),
                Value::Number(n) => Some((key, n.to_string())),
                _ => None,
            }));
        }
    } else if !raw.is_empty() {
        pairs
            .extend(serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw).unwrap_or_default());
    }
    let mut params = TokenParams {
        secrets_in_query,
        ..TokenParams::default()
    };
    for (key, value) in pairs {
        match key.as_str() {
            "grant_type" => params.grant_type = Some(value),
            "code" => params.code = Some(value),
            "refresh_token" => params.refresh_token = Some(SecretString::new(value)),
            "client_id" => params.client_id = Some(value),
            "client_secret" => params.client_secret = Some(SecretString::new(value)),
            "code_verifier" => params.code_verifier = Some(value),
            _ => {}
        }
    }
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_authorization(v).ok().flatten());
    if let Some(Credentials::Basic { username, password }) = basic {
        params.client_id = Some(username);
        params.client_secret = Some(password);
    }
    params
}
