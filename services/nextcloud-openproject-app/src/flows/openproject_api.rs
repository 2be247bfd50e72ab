//! Calls to the OpenProject API for a Nextcloud user (spec §6): the user's token (refreshed when
//! due), the stored OpenProject URL, and the requests with their headers. Failing to reach or
//! use OpenProject is a [`CallError`] inside the `Ok`, which each route answers its own way;
//! the outer [`ApiError`] is a failure of this service.

use reqwest::{header, Method};
use serde_json::Value;
use service_kit::{crypto::SecretString, http_client::SendObserved, time::now_millis};
use storage_protocol::{
    integration_app::USER_AGENT,
    openproject_api::{ApiCall, Resource, Verb},
};

use super::{
    openproject_connection::{openproject_access_token, AccessTokenError, OpenProject},
    run,
};
use crate::{
    domain::{
        files::info::FileInfoLink,
        openproject_api::{self as api, elements, health_of, Answer, CallError, ConnectionHealth},
        settings::{is_valid_openproject_url, AdminSettings},
    },
    error::ApiError,
    state::AppState,
};

/// A call's outcome: OpenProject's answer or why there is none, unless this service failed.
pub type Outcome<T> = Result<Result<T, CallError>, ApiError>;

/// The stored OpenProject URL without trailing `/`, when valid.
pub async fn openproject_url(state: &AppState) -> Outcome<String> {
    stored_url(state).await
}

async fn stored_url(state: &AppState) -> Outcome<String> {
    let secret_box = state.secret_box.clone();
    let settings = run(state, move |conn| AdminSettings::load(conn, &secret_box)).await?;
    let url = settings.openproject_instance_url;
    Ok(if is_valid_openproject_url(&url) {
        Ok(url.trim_end_matches('/').to_string())
    } else {
        Err(CallError::InvalidUrl)
    })
}

/// The user's session: the token first (401), then the URL (400), as the real app checks them.
pub async fn session<'a>(state: &'a AppState, uid: &str) -> Outcome<Session<'a>> {
    let op = state.openproject();
    let token = match openproject_access_token(op, uid).await {
        Ok(token) => token,
        Err(AccessTokenError::NotConnected | AccessTokenError::RefreshFailed) => {
            return Ok(Err(CallError::NoToken))
        }
        Err(AccessTokenError::Unexpected(cause)) => return Err(ApiError::Unexpected(cause)),
    };
    let base = match stored_url(state).await? {
        Ok(base) => base,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Session { op, base, token }))
}

/// Asks OpenProject who the user is, with the stored token (refreshed when due).
pub async fn connection_health(state: &AppState, uid: &str) -> Result<ConnectionHealth, ApiError> {
    let outcome = match session(state, uid).await? {
        Ok(session) => session.call(ApiCall::me(), None).await,
        Err(e) => Err(e),
    };
    Ok(health_of(&outcome))
}

/// A user's authenticated access to OpenProject.
pub struct Session<'a> {
    op: OpenProject<'a>,
    /// The stored URL without trailing `/`.
    pub base: String,
    token: SecretString,
}

impl Session<'_> {
    /// One call; an error status is [`CallError::Refused`].
    async fn call(&self, call: ApiCall, body: Option<&Value>) -> Result<Answer, CallError> {
        let answer = self.raw(call, body).await?;
        if (200..300).contains(&answer.status) {
            Ok(answer)
        } else {
            Err(CallError::Refused {
                status: answer.status,
                body: answer.body,
            })
        }
    }

    async fn raw(&self, call: ApiCall, body: Option<&Value>) -> Result<Answer, CallError> {
        let mut url = url::Url::parse(&format!("{}{}", self.base, call.path))
            .map_err(|_| CallError::InvalidUrl)?;
        if !call.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in &call.query {
                pairs.append_pair(key, value);
            }
        }
        let method = match call.verb {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Delete => Method::DELETE,
        };
        let mut request = self
            .op
            .http
            .request(method, url)
            .bearer_auth(self.token.expose())
            .header(header::USER_AGENT, USER_AGENT)
            .header(header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send_observed()
            .await
            .map_err(|_| CallError::Network)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|_| CallError::Network)?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Answer { status, body })
    }

    /// Raw bytes and content type of a successful GET (avatars).
    async fn bytes(&self, call: ApiCall) -> Result<(String, Vec<u8>), CallError> {
        let url = format!("{}{}", self.base, call.path);
        let response = self
            .op
            .http
            .get(url)
            .bearer_auth(self.token.expose())
            .header(header::USER_AGENT, USER_AGENT)
            .send_observed()
            .await
            .map_err(|_| CallError::Network)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(CallError::Refused {
                status,
                body: Value::Null,
            });
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = response.bytes().await.map_err(|_| CallError::Network)?;
        Ok((content_type, bytes.to_vec()))
    }
}

/// The user's unread notifications (`GET /api/v3/notifications`, unread only, all pages);
/// `Ok(None)` when the answer has no elements.
pub async fn unread_notifications(session: &Session<'_>) -> Result<Option<Vec<Value>>, CallError> {
    let answer = session.call(ApiCall::unread_notifications(), None).await?;
    Ok(elements(&answer.body).cloned())
}

/// Marks the notifications of work package `id` read.
pub async fn mark_notifications_read(session: &Session<'_>, id: &str) -> Result<Answer, CallError> {
    session
        .call(ApiCall::mark_notifications_read(id), None)
        .await
}

/// The work packages matching `filters`.
pub async fn search_work_packages(
    session: &Session<'_>,
    filters: String,
) -> Result<Answer, CallError> {
    session
        .call(ApiCall::search_work_packages(filters), None)
        .await
}

/// The files of a link request as the user sees them, `None` when one is not accessible.
pub async fn accessible_files(
    state: &AppState,
    uid: String,
    ids: Vec<i64>,
) -> Result<Option<Vec<FileInfoLink>>, ApiError> {
    run(state, move |conn| api::accessible_files(conn, &uid, &ids)).await
}

/// Links files to work package `work_package` with the file links `body`.
pub async fn link_files(
    session: &Session<'_>,
    work_package: &str,
    body: &Value,
) -> Result<Answer, CallError> {
    session
        .call(ApiCall::link_files(work_package), Some(body))
        .await
}

/// The file links of work package `id`.
pub async fn file_links(session: &Session<'_>, id: &str) -> Result<Answer, CallError> {
    session.call(ApiCall::file_links(id), None).await
}

/// Deletes file link `id`.
pub async fn delete_file_link(session: &Session<'_>, id: &str) -> Result<Answer, CallError> {
    session.call(ApiCall::delete_file_link(id), None).await
}

/// OpenProject's work-package form for `project` filled with `body`.
pub async fn work_package_form(
    session: &Session<'_>,
    project: &str,
    body: &Value,
) -> Result<Answer, CallError> {
    session
        .call(ApiCall::work_package_form(project), Some(body))
        .await
}

/// The users who may be assigned work packages in `project`.
pub async fn available_assignees(
    session: &Session<'_>,
    project: &str,
) -> Result<Answer, CallError> {
    session
        .call(ApiCall::available_assignees(project), None)
        .await
}

/// Creates a work package from `body`.
pub async fn create_work_package(session: &Session<'_>, body: &Value) -> Result<Answer, CallError> {
    session
        .call(ApiCall::create_work_package(), Some(body))
        .await
}

/// OpenProject's Configuration.
pub async fn configuration(session: &Session<'_>) -> Result<Answer, CallError> {
    session.call(ApiCall::configuration(), None).await
}

/// The projects available for linking, matching `filters`.
pub async fn available_projects(
    session: &Session<'_>,
    filters: String,
) -> Result<Answer, CallError> {
    session
        .call(ApiCall::available_projects(filters), None)
        .await
}

/// A status or type: from this replica's cache when fresh (per OpenProject URL and id), else
/// from OpenProject, then cached for `cache_millis`.
pub async fn cached_resource(
    state: &AppState,
    session: &Session<'_>,
    resource: Resource,
    id: &str,
    cache_millis: i64,
    cache_entries: usize,
) -> Result<Value, CallError> {
    let key = format!("{}|{resource:?}|{id}", session.base);
    let now = now_millis();
    if let Some(value) = state.openproject_cache.get(&key, now) {
        return Ok(value);
    }
    let answer = session.call(ApiCall::resource(resource, id), None).await?;
    state
        .openproject_cache
        .put(key, answer.body.clone(), now + cache_millis, cache_entries);
    Ok(answer.body)
}

/// An OpenProject user's avatar: its content type and bytes.
pub async fn avatar(session: &Session<'_>, user_id: &str) -> Result<(String, Vec<u8>), CallError> {
    session.bytes(ApiCall::avatar(user_id)).await
}
