//! `POST APP/is-valid-op-instance` (contract §4): any user, CSRF-protected, always 200.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;
use service_kit::http_client::Destinations;

use crate::{
    auth::{check_csrf, MaybeUser, REQUEST_TOKEN},
    body,
    domain::op_instance,
    error::ApiError,
    flows,
    state::AppState,
};

/// POST APP/is-valid-op-instance — `url` from a JSON body, a form body or the query string;
/// anything that is not a URL is answered `invalid`, like a bad URL.
pub async fn post(
    req: HttpRequest,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = caller.require_user()?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let form = if body::is_json(&req) || raw.is_empty() {
        Vec::new()
    } else {
        body::parse_pairs(&raw).unwrap_or_default()
    };
    let form_token = form
        .iter()
        .find_map(|(k, v)| (k == REQUEST_TOKEN).then_some(v.as_str()));
    check_csrf(&state, &req, user, form_token)?;
    let url = candidate_url(&req, &raw, &form).unwrap_or_default();
    let answer = flows::op_instance::check(
        &url,
        Destinations::allowing_local(state.settings.allow_local_remote_servers),
        op_instance::PROBE_TIMEOUT,
    )
    .await;
    Ok(HttpResponse::Ok().json(answer))
}

fn candidate_url(req: &HttpRequest, raw: &[u8], form: &[(String, String)]) -> Option<String> {
    let from_json = || match serde_json::from_slice::<Value>(raw).ok()? {
        Value::Object(mut body) => match body.remove("url")? {
            Value::String(url) if !url.contains('\0') => Some(url),
            _ => None,
        },
        _ => None,
    };
    let find = |pairs: &[(String, String)]| {
        pairs
            .iter()
            .find_map(|(k, v)| (k == "url").then(|| v.clone()))
    };
    from_json()
        .or_else(|| find(form))
        .or_else(|| find(&body::parse_pairs(req.query_string().as_bytes()).ok()?))
}
