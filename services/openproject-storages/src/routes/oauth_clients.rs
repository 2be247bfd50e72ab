//! OpenProject users authorizing OpenProject at a storage's Nextcloud (oauth.md §4.1, §4.3):
//! browser endpoints under `/oauth_clients/{client_id}`. Both need a session; failures are
//! redirects with a flash message shown on the home page.

use std::borrow::Cow;

use actix_web::{
    cookie::{time::Duration, Cookie, SameSite},
    http::header,
    web, HttpRequest, HttpResponse, HttpResponseBuilder,
};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use service_kit::auth::removal_cookie;
use storage_protocol::oauth::openproject_client::{messages, StateCookie, STATE_COOKIE_PREFIX};

use super::pages::{flash_cookie, login_location};
use crate::{
    auth::MaybeCaller,
    domain::connections::authorization::{
        Callback, CallbackOutcome, EnsureConnection, STATE_COOKIE_MAX_AGE_SECS,
    },
    error::ApiError,
    flows::connections::authorization,
    state::{AppState, State},
};

/// What the cookie value escapes: all but RFC 3986 unreserved characters, as
/// `encodeURIComponent` would (and more), so the JSON is a valid cookie value.
const COOKIE_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The first value of `name` in the query string (which never fails to parse this way).
fn query_param<'a>(req: &'a HttpRequest, name: &str) -> Option<Cow<'a, str>> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// A redirect no cache keeps: it may carry a state or end a flow.
fn found(location: &str) -> HttpResponseBuilder {
    let mut response = HttpResponse::Found();
    response
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    response
}

/// No session: to the login page, which comes back to this very URL.
fn to_login(state: &AppState, req: &HttpRequest) -> HttpResponse {
    found(&login_location(state, req)).finish()
}

/// Cookie names are tokens: a state that is not one names no cookie of ours.
fn is_cookie_token(state: &str) -> bool {
    !state.is_empty()
        && state.len() <= 128
        && state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

fn state_cookie(
    state: &str,
    value: &StateCookie,
    secure: bool,
) -> Result<Cookie<'static>, ApiError> {
    let json = serde_json::to_string(value).map_err(anyhow::Error::from)?;
    Ok(Cookie::build(
        format!("{STATE_COOKIE_PREFIX}{state}"),
        utf8_percent_encode(&json, COOKIE_VALUE).to_string(),
    )
    .path("/")
    .max_age(Duration::seconds(STATE_COOKIE_MAX_AGE_SECS))
    .http_only(true)
    .same_site(SameSite::Lax)
    .secure(secure)
    .finish())
}

/// GET /oauth_clients/{client_id}/ensure_connection?integration_id=…&destination_url=…
/// (`storage_id` is accepted for `integration_id`): to the destination when the user is
/// connected, else to Nextcloud's authorize URL with a new state and PKCE challenge.
pub async fn ensure_connection(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
    client_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Some(caller) = caller.0 else {
        return Ok(to_login(&state, &req));
    };
    let storage_id = query_param(&req, "integration_id")
        .or_else(|| query_param(&req, "storage_id"))
        .and_then(|raw| raw.parse::<i64>().ok());
    let destination_url = query_param(&req, "destination_url");
    let outcome = authorization::ensure_connection(
        &state,
        caller.user.id,
        &client_id,
        storage_id,
        destination_url.as_deref(),
    )
    .await?;
    let secure = state.secure_cookies();
    Ok(match outcome {
        EnsureConnection::ClientNotFound => found("/")
            .cookie(flash_cookie(messages::CLIENT_NOT_FOUND, secure))
            .finish(),
        EnsureConnection::Connected { destination } => found(&destination).finish(),
        EnsureConnection::Authorize {
            state: oauth_state,
            cookie,
            authorize_url,
        } => found(&authorize_url)
            .cookie(state_cookie(&oauth_state, &cookie, secure)?)
            .finish(),
    })
}

/// GET /oauth_clients/{client_id}/callback?code=…&state=…: Nextcloud sends the user back here;
/// the code becomes the user's token pair, then to the state cookie's `href`.
pub async fn callback(
    state: State,
    req: HttpRequest,
    caller: MaybeCaller,
    client_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Some(caller) = caller.0 else {
        return Ok(to_login(&state, &req));
    };
    let code = query_param(&req, "code");
    let oauth_state = query_param(&req, "state");
    let cookie_name = oauth_state
        .as_deref()
        .filter(|s| is_cookie_token(s))
        .map(|s| format!("{STATE_COOKIE_PREFIX}{s}"));
    let cookie = cookie_name.as_deref().and_then(|name| req.cookie(name));
    let outcome = authorization::callback(
        &state,
        Callback {
            user_id: caller.user.id,
            client_id: &client_id,
            code: code.as_deref(),
            state: oauth_state.as_deref().filter(|s| is_cookie_token(s)),
            cookie: cookie.as_ref().map(|c| c.value()),
        },
    )
    .await?;
    let secure = state.secure_cookies();
    let (href, flash) = match &outcome {
        CallbackOutcome::Connected { href } => (href, None),
        CallbackOutcome::Failed { href, message } => (href, Some(message)),
    };
    let mut response = found(href);
    // The attempt is over either way: its cookie goes.
    if let (Some(name), Some(_)) = (&cookie_name, &cookie) {
        response.cookie(removal_cookie(name, secure));
    }
    if let Some(message) = flash {
        response.cookie(flash_cookie(message, secure));
    }
    Ok(response.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_token_states_name_cookies() {
        assert!(is_cookie_token("0b8f6a4e-7c1d-4b9a-9f3e-2a1c5d7e9b0f"));
        for bad in [
            "",
            "a b",
            "a;b",
            "a=b",
            "a\r\nSet-Cookie:x",
            &"a".repeat(129),
        ] {
            assert!(!is_cookie_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_state_cookie_is_url_encoded_json() {
        let cookie = state_cookie(
            "abc",
            &StateCookie {
                href: "http://op.example/x?a=1".into(),
                storage_id: "7".into(),
            },
            true,
        )
        .unwrap();
        assert_eq!(cookie.name(), "oauth_state_abc");
        assert_eq!(
            cookie.value(),
            "%7B%22href%22%3A%22http%3A%2F%2Fop.example%2Fx%3Fa%3D1%22%2C%22storageId%22%3A%227%22%7D"
        );
        let header = cookie.to_string();
        for attribute in [
            "Path=/",
            "Max-Age=3600",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
        ] {
            assert!(header.contains(attribute), "{header}");
        }
    }
}
