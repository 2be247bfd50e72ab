//! `OCSAPP/api/v1/…` (spec §6): OpenProject work inside Nextcloud, each call made with the
//! user's OpenProject token. Failures answer with the codes and data the contract gives per
//! endpoint.

use std::collections::HashMap;

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};
use storage_protocol::{
    files::messages,
    openproject_api::{filters, Resource},
};

use crate::{
    auth::{check_csrf, MaybeUser},
    body,
    domain::openproject_api::{
        self as api, dedup_by_id, elements, new_file_links, parse_link_request, CallError,
        LinkRefusal,
    },
    error::{ApiError, OcsFormat},
    flows::openproject_api::{self as flows, Outcome, Session},
    state::AppState,
};

/// Statuses and types are cached this long per OpenProject URL and id.
const CACHE_MILLIS: i64 = 3600 * 1000;
const CACHE_ENTRIES: usize = 1000;

/// "As /notifications": code = OpenProject's status, `{"error", "statusCode"}`; a failed
/// request is 500.
fn as_notifications(format: OcsFormat, error: CallError) -> Result<HttpResponse, ApiError> {
    match error {
        CallError::NoToken => Ok(format.failure(401, json!(""))),
        CallError::InvalidUrl => Ok(format.failure(400, json!(""))),
        CallError::Refused { status, .. } => Ok(format.failure(
            status,
            json!({"error": error.message(), "statusCode": status}),
        )),
        CallError::Network => {
            Ok(format.failure(500, json!({"error": error.message(), "statusCode": 500})))
        }
    }
}

/// "400, data = OpenProject's error body".
fn as_bad_request(format: OcsFormat, error: CallError) -> Result<HttpResponse, ApiError> {
    match error {
        CallError::NoToken => Ok(format.failure(401, json!(""))),
        CallError::InvalidUrl => Ok(format.failure(400, json!(""))),
        CallError::Refused { body, .. } => Ok(format.failure(400, body)),
        CallError::Network => Ok(format.failure(400, json!(error.message()))),
    }
}

fn malformed(format: OcsFormat) -> HttpResponse {
    format.failure(500, json!({"error": messages::MALFORMED_RESPONSE}))
}

async fn open<'a>(state: &'a AppState, caller: &MaybeUser) -> Outcome<Session<'a>> {
    let uid = caller.require_user()?.uid.clone();
    flows::session(state, &uid).await
}

fn query(req: &HttpRequest) -> Result<HashMap<String, String>, ApiError> {
    Ok(body::parse_pairs(req.query_string().as_bytes())?
        .into_iter()
        .collect())
}

/// GET OCSAPP/api/v1/notifications — the unread notifications.
pub async fn notifications(
    format: OcsFormat,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(e) => return as_notifications(format, e),
    };
    match flows::unread_notifications(&session).await {
        Ok(Some(list)) => format.ok(list),
        Ok(None) => Ok(malformed(format)),
        Err(e) => as_notifications(format, e),
    }
}

/// DELETE OCSAPP/api/v1/work-packages/{id}/notifications — marks them read.
pub async fn mark_notifications_read(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&state, &req, caller.require_user()?, None)?;
    let (_, id) = path.into_inner();
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(e) => return as_bad_request(format, e),
    };
    if id.parse::<i64>().is_err() {
        return Ok(format.failure(400, json!("")));
    }
    let answer = flows::mark_notifications_read(&session, &id).await;
    match answer {
        Ok(_) => format.ok(json!({"success": true})),
        Err(e) => as_bad_request(format, e),
    }
}

/// GET OCSAPP/api/v1/work-packages?searchQuery=&fileId=&isSmartPicker= — search.
pub async fn search_work_packages(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = query(&req)?;
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(e) => return as_notifications(format, e),
    };
    let file_id = match params.get("fileId").filter(|v| !v.is_empty()) {
        Some(raw) => match raw.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => return Ok(format.failure(400, json!(""))),
        },
        None => None,
    };
    let search = params
        .get("searchQuery")
        .map(String::as_str)
        .filter(|v| !v.is_empty());
    let smart_picker = params
        .get("isSmartPicker")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let filters = filters::search(file_id, search, smart_picker, &state.public_url);
    let answer = flows::search_work_packages(&session, filters).await;
    match answer {
        Ok(answer) => match elements(&answer.body) {
            Some(list) => format.ok(dedup_by_id(list)),
            None => Ok(malformed(format)),
        },
        Err(e) => as_notifications(format, e),
    }
}

/// POST OCSAPP/api/v1/work-packages — links files to a work package; the new file link ids.
pub async fn link_files(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = caller.require_user()?;
    check_csrf(&state, &req, user, None)?;
    let raw = body::read_limited(&req, payload, state.settings.common.max_body_bytes).await?;
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(e) => return link_failure(format, e),
    };
    let body: Value = serde_json::from_slice(&raw)
        .ok()
        .filter(|body| !service_kit::input::json_has_nul(body))
        .unwrap_or(Value::Null);
    let request = match parse_link_request(&body) {
        Ok(request) => request,
        Err(LinkRefusal::MissingKey) => return Ok(format.failure(400, json!("invalid key"))),
        Err(LinkRefusal::InvalidData) => return Ok(format.failure(400, json!("invalid data"))),
    };
    let ids: Vec<i64> = request.files.iter().map(|(id, _)| *id).collect();
    let files = flows::accessible_files(&state, user.uid.clone(), ids).await?;
    let Some(mut files) = files else {
        return Ok(format.failure(404, json!(messages::FILE_NOT_FOUND)));
    };
    // The names are the ones the user picked, as the real app sends them.
    for (file, (_, name)) in files.iter_mut().zip(&request.files) {
        file.name = name.clone();
    }
    let links = new_file_links(&files, &state.public_url);
    let body = serde_json::to_value(&links)
        .map_err(|e| ApiError::Unexpected(anyhow::Error::new(e).context("file links body")))?;
    let answer = flows::link_files(&session, &request.work_package.to_string(), &body).await;
    match answer {
        Ok(answer) => {
            let ids: Vec<Value> = elements(&answer.body)
                .map(|list| list.iter().filter_map(|l| l.get("id").cloned()).collect())
                .unwrap_or_default();
            format.ok(ids)
        }
        Err(e) => link_failure(format, e),
    }
}

/// Linking: code = OpenProject's status, data = its `message`; a failed request is 500.
fn link_failure(format: OcsFormat, error: CallError) -> Result<HttpResponse, ApiError> {
    match error {
        CallError::NoToken => Ok(format.failure(401, json!(""))),
        CallError::InvalidUrl => Ok(format.failure(400, json!(""))),
        CallError::Refused { status, .. } => Ok(format.failure(status, json!(error.message()))),
        CallError::Network => Ok(format.failure(500, json!(error.message()))),
    }
}

/// GET OCSAPP/api/v1/work-packages/{id}/file-links — the work package's file links.
pub async fn file_links(
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(e) => return as_bad_request(format, e),
    };
    if id.parse::<i64>().is_err() {
        return Ok(format.failure(400, json!("")));
    }
    let answer = flows::file_links(&session, &id).await;
    match answer {
        Ok(answer) => match elements(&answer.body) {
            Some(list) => format.ok(list),
            None => Ok(malformed(format)),
        },
        Err(e) => as_bad_request(format, e),
    }
}

/// DELETE OCSAPP/api/v1/file-links/{id} — OpenProject answers 204.
pub async fn delete_file_link(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&state, &req, caller.require_user()?, None)?;
    let (_, id) = path.into_inner();
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(e) => return as_bad_request(format, e),
    };
    if id.parse::<i64>().is_err() {
        return Ok(format.failure(400, json!("")));
    }
    let answer = flows::delete_file_link(&session, &id).await;
    match answer {
        Ok(answer) if answer.status == 204 => format.ok(json!({"success": true})),
        Ok(answer) => Ok(format.failure(400, answer.body)),
        Err(e) => as_bad_request(format, e),
    }
}

/// The JSON request body of a Tier 2 wrapper (`Null` when it is not JSON).
async fn json_request(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Value, ApiError> {
    let raw = body::read_limited(req, payload, state.settings.common.max_body_bytes).await?;
    Ok(serde_json::from_slice::<Value>(&raw)
        .ok()
        .filter(|body| !service_kit::input::json_has_nul(body))
        .unwrap_or(Value::Null))
}

/// POST OCSAPP/api/v1/projects/{projectId}/work-packages/form (Tier 2) — `{"body": {…}}`;
/// the `_embedded` of OpenProject's form (payload, schema, validationErrors).
pub async fn work_package_form(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&state, &req, caller.require_user()?, None)?;
    let (_, project) = path.into_inner();
    let request = json_request(&req, payload, &state).await?;
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(e) => return link_failure(format, e),
    };
    let Some(body) = api::creation_body(&request) else {
        return Ok(format.failure(400, json!(messages::BODY_EMPTY)));
    };
    if !api::is_project_ref(&project) {
        return Ok(format.failure(400, json!("")));
    }
    let answer = flows::work_package_form(&session, &project, body).await;
    match answer {
        Ok(answer) => match api::form_embedded(&answer.body) {
            Some(embedded) => format.ok(embedded),
            None => Ok(malformed(format)),
        },
        Err(e) => link_failure(format, e),
    }
}

/// GET OCSAPP/api/v1/projects/{projectId}/available-assignees (Tier 2) — the users who may be
/// assigned there.
pub async fn available_assignees(
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, project) = path.into_inner();
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(e) => return link_failure(format, e),
    };
    if !api::is_project_ref(&project) {
        return Ok(format.failure(400, json!("")));
    }
    let answer = flows::available_assignees(&session, &project).await;
    match answer {
        Ok(answer) => match elements(&answer.body) {
            Some(list) => format.ok(list),
            None => Ok(malformed(format)),
        },
        Err(e) => link_failure(format, e),
    }
}

/// POST OCSAPP/api/v1/create/work-packages (Tier 2) — `{"body": {…}}` as OpenProject's create
/// takes it (project in `_links.project`); 201 with the created work package.
pub async fn create_work_package(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_csrf(&state, &req, caller.require_user()?, None)?;
    let request = json_request(&req, payload, &state).await?;
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(e) => return link_failure(format, e),
    };
    let Some(body) = api::creation_body(&request) else {
        return Ok(format.failure(400, json!(messages::BODY_EMPTY)));
    };
    let answer = flows::create_work_package(&session, body).await;
    match answer {
        Ok(answer) => match api::created_work_package(&answer.body) {
            Some(created) => Ok(format.created(created.clone())),
            None => Ok(malformed(format)),
        },
        Err(e) => link_failure(format, e),
    }
}

/// GET OCSAPP/api/v1/url — the stored OpenProject URL.
pub async fn url(
    format: OcsFormat,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_user()?;
    match flows::openproject_url(&state).await? {
        Ok(url) => format.ok(url),
        Err(_) => format.ok(""),
    }
}

/// GET OCSAPP/api/v1/configuration — OpenProject's Configuration.
pub async fn configuration(
    format: OcsFormat,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(e) => return as_notifications(format, e),
    };
    match flows::configuration(&session).await {
        Ok(answer) if answer.body.get("_type") == Some(&json!("Configuration")) => {
            format.ok(answer.body)
        }
        Ok(_) => Ok(malformed(format)),
        Err(e) => as_notifications(format, e),
    }
}

/// GET OCSAPP/api/v1/projects?searchQuery= — projects available for linking, keyed by id.
pub async fn projects(
    req: HttpRequest,
    format: OcsFormat,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = query(&req)?;
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(e) => return as_notifications(format, e),
    };
    let search = params
        .get("searchQuery")
        .map(String::as_str)
        .filter(|v| !v.is_empty());
    let answer =
        flows::available_projects(&session, filters::projects(search, &state.public_url)).await;
    match answer {
        Ok(answer) => match elements(&answer.body) {
            Some(list) => {
                let mut keyed = Map::new();
                for project in list {
                    let id = match project.get("id") {
                        Some(Value::Number(n)) => n.to_string(),
                        Some(Value::String(s)) => s.clone(),
                        _ => continue,
                    };
                    keyed.insert(id, project.clone());
                }
                format.ok(Value::Object(keyed))
            }
            None => Ok(malformed(format)),
        },
        Err(e) => as_notifications(format, e),
    }
}

/// GET OCSAPP/api/v1/statuses/{id} — cached per OpenProject URL and id for an hour.
pub async fn status(
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    cached_resource(format, caller, state, Resource::Status, path.into_inner().1).await
}

/// GET OCSAPP/api/v1/types/{id} — cached like statuses.
pub async fn work_package_type(
    format: OcsFormat,
    caller: MaybeUser,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    cached_resource(format, caller, state, Resource::Type, path.into_inner().1).await
}

async fn cached_resource(
    format: OcsFormat,
    caller: MaybeUser,
    state: web::Data<AppState>,
    resource: Resource,
    id: String,
) -> Result<HttpResponse, ApiError> {
    let unauthorized = || Ok(format.failure(401, json!("")));
    let session = match open(&state, &caller).await? {
        Ok(session) => session,
        Err(_) => return unauthorized(),
    };
    if id.parse::<i64>().is_err() {
        return unauthorized();
    }
    match flows::cached_resource(&state, &session, resource, &id, CACHE_MILLIS, CACHE_ENTRIES).await
    {
        Ok(value) => format.ok(value),
        Err(_) => unauthorized(),
    }
}

/// GET OCSAPP/api/v1/avatar?userId=&userName= — the image itself; on any failure a generated
/// image of the initials of `userName`.
pub async fn avatar(
    req: HttpRequest,
    caller: MaybeUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_user()?;
    let params = query(&req)?;
    let user_name = params.get("userName").cloned().unwrap_or_default();
    let user_id = params.get("userId").filter(|id| id.parse::<i64>().is_ok());
    if let (Some(user_id), Ok(session)) = (user_id, open(&state, &caller).await?) {
        let fetched = flows::avatar(&session, user_id).await;
        if let Ok((content_type, bytes)) = fetched {
            if content_type.starts_with("image/") && !content_type.contains("svg") {
                return Ok(HttpResponse::Ok()
                    .insert_header((header::CONTENT_TYPE, content_type))
                    .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
                    .body(bytes));
            }
        }
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .body(initials_svg(&api::initials(&user_name))))
}

fn initials_svg(initials: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\" viewBox=\"0 0 64 64\"><rect width=\"64\" height=\"64\" fill=\"#1a67a3\"/><text x=\"32\" y=\"41\" font-family=\"sans-serif\" font-size=\"26\" fill=\"#fff\" text-anchor=\"middle\">{}</text></svg>",
        storage_protocol::xml::escape(initials)
    )
}
