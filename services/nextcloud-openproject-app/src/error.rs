//! The one error type of this service and the one place it becomes a response.
//!
//! Handlers and extractors return [`ApiError`], which does not know which route family it is
//! answering for. [`ApiError::error_response`] attaches a family-neutral [`Report`] to the
//! response; the [`render_errors`] middleware, which sees the request, writes the body of the
//! request's [`Family`]: `{"error"}` / `{"message"}` for app routes (README §4.3), the OCS
//! envelope for OCS routes (README §4.2), or a login redirect for browsers.

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{header, StatusCode},
    middleware::Next,
    HttpRequest, HttpResponse, ResponseError,
};
use serde_json::{json, Value};
use service_kit::db::DbError;
use storage_protocol::{
    integration_app::{
        direct_upload::{
            messages as direct_upload_messages, DirectUploadError as DirectUploadErrorBody,
        },
        messages as app_messages,
    },
    nextcloud::{messages, AppError, SecurityError},
    ocs::{self, OcsEnvelope, OcsVersion, CODE_NOT_FOUND, CODE_NOT_LOGGED_IN},
    pairing::messages as pairing_messages,
};

use crate::domain::{
    files::{
        direct::{self, DirectError},
        direct_upload::DirectUploadError,
        FileError,
    },
    openproject_connection::ConnectionError,
    pairing::PairingError,
    preferences::PreferenceError,
    setup::SetupError,
    team_folder::TeamFolderError,
};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The route needs a user and the request authenticated nobody.
    #[error("not logged in")]
    NotLoggedIn,
    /// Basic credentials on an OCS path that log nobody in (checked before routing).
    #[error("wrong credentials")]
    WrongCredentials,
    /// The route needs an admin.
    #[error("not an admin")]
    NotAdmin,
    /// A cookie-session write without a valid `requesttoken`.
    #[error("CSRF check failed")]
    CsrfFailed,
    /// The failed-login throttle refuses the client address.
    #[error("too many failed logins")]
    TooManyRequests,
    /// An OCS failure with its code and message.
    #[error("OCS failure {code}: {message}")]
    Ocs { code: u16, message: String },
    /// Malformed input; the message is sent to the client.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not found")]
    NotFound,
    /// A 404 whose message the endpoint specifies.
    #[error("not found: {0}")]
    Missing(String),
    /// 409: the request conflicts with what exists.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("request body too large")]
    PayloadTooLarge,
    /// 403 with a message for the client.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 405 (WebDAV: the method does not apply to what exists).
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
    /// 412 (WebDAV: `Overwrite: F` on an existing destination).
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// 415 (WebDAV: MKCOL with a body).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 507 (WebDAV: the write would exceed the user's quota).
    #[error("insufficient storage: {0}")]
    InsufficientStorage(String),
    /// 401 with an `{"error"}` body: a public route whose credential (a direct upload token)
    /// names a user who can no longer act.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 413 of a direct upload: the body names the limit.
    #[error("the upload exceeds {limit} bytes")]
    UploadTooLarge { limit: u64 },
    /// A 500 whose message names what failed (never the cause, which is logged).
    #[error("{message}")]
    Failed {
        message: &'static str,
        #[source]
        cause: anyhow::Error,
    },
    /// Anything else: logged with its cause, answered with an opaque 500.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<SetupError> for ApiError {
    fn from(e: SetupError) -> Self {
        match e {
            SetupError::TeamFolder(TeamFolderError::Conflict(message)) => {
                Self::Conflict(message.into())
            }
            SetupError::TeamFolder(TeamFolderError::UserMissing) => {
                Self::Missing(app_messages::APP_PASSWORD_USER_MISSING.into())
            }
            SetupError::AdminConfigNotValid => {
                Self::BadRequest(app_messages::ADMIN_CONFIG_NOT_VALID.into())
            }
            e @ (SetupError::TeamFolder(_) | SetupError::Database(_)) => Self::Failed {
                message: app_messages::SAVING_SETTINGS_FAILED,
                cause: anyhow::Error::new(e),
            },
        }
    }
}

impl From<PairingError> for ApiError {
    fn from(e: PairingError) -> Self {
        match e {
            PairingError::Refused(refusal) => Self::BadRequest(refusal.to_string()),
            PairingError::NotPaired => Self::Missing(pairing_messages::NOT_PAIRED.into()),
            PairingError::NotForNextcloud(_) => Self::BadRequest(e.to_string()),
            PairingError::Setup(e) => e.into(),
            PairingError::Database(e) => e.into(),
        }
    }
}

impl From<ConnectionError> for ApiError {
    fn from(e: ConnectionError) -> Self {
        match e {
            ConnectionError::AdminConfigNotValid => {
                Self::BadRequest(app_messages::ADMIN_CONFIG_NOT_VALID.into())
            }
            ConnectionError::Database(e) => e.into(),
            ConnectionError::Preference(e) => e.into(),
        }
    }
}

impl From<FileError> for ApiError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::BadName => Self::BadRequest(e.to_string()),
            FileError::NotFound => Self::Missing("File not found".into()),
            FileError::ParentMissing => Self::Conflict(e.to_string()),
            FileError::NotAllowed(message) => Self::MethodNotAllowed(message.into()),
            FileError::Forbidden(message) => Self::Forbidden(message.into()),
            FileError::DestinationExists | FileError::PreconditionFailed => {
                Self::PreconditionFailed(e.to_string())
            }
            FileError::InsufficientStorage => Self::InsufficientStorage(e.to_string()),
            FileError::BadRequest(message) => Self::BadRequest(message),
            FileError::Checksum(e) => Self::BadRequest(e.to_string()),
            FileError::UploadBusy => Self::Conflict(e.to_string()),
            FileError::Database(e) => e.into(),
            FileError::Io(e) => Self::Unexpected(anyhow::Error::new(e).context("file content")),
        }
    }
}

impl From<DirectError> for ApiError {
    fn from(e: DirectError) -> Self {
        match e {
            DirectError::NotAccessible => Self::ocs(404, direct::FILE_NOT_FOUND),
            DirectError::Folder => Self::ocs(400, direct::FILES_ONLY),
            DirectError::File(e) => e.into(),
            DirectError::Database(e) => e.into(),
        }
    }
}

impl From<DirectUploadError> for ApiError {
    fn from(e: DirectUploadError) -> Self {
        use DirectUploadError as E;
        let message = e.to_string();
        match e {
            E::InvalidToken | E::FolderNotFound => Self::Missing(message),
            E::Unauthorized => Self::Unauthorized(message),
            E::NotEnoughPermissions => Self::Forbidden(message),
            E::InvalidFileName | E::InvalidOverwrite => Self::BadRequest(message),
            E::Conflict | E::OverwriteNonFile => Self::Conflict(message),
            E::TooLarge(limit) => Self::UploadTooLarge { limit },
            E::InsufficientQuota => Self::InsufficientStorage(message),
            E::File(e) => e.into(),
            E::Database(e) => e.into(),
        }
    }
}

impl From<service_kit::input::NulInUrl> for ApiError {
    fn from(part: service_kit::input::NulInUrl) -> Self {
        match part {
            service_kit::input::NulInUrl::Path => Self::NotFound,
            service_kit::input::NulInUrl::Query => Self::BadRequest(messages::INVALID_QUERY.into()),
        }
    }
}

impl From<PreferenceError> for ApiError {
    fn from(e: PreferenceError) -> Self {
        Self::Unexpected(anyhow::Error::new(e).context("user preferences"))
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        Self::Unexpected(anyhow::Error::new(e))
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Unexpected(anyhow::Error::new(e).context("database query"))
    }
}

/// What an error means, independent of the family that renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The status of app routes (and the forced status of OCS routes, see `ocs_status`).
    pub status: StatusCode,
    /// `{"message"}` (security layer) rather than `{"error"}`.
    pub security: bool,
    pub message: String,
    pub ocs_code: u16,
    /// The OCS message when it differs from `message`.
    pub ocs_message: Option<String>,
    /// An HTTP status OCS routes use instead of the v1/v2 mapping of `ocs_code`.
    pub ocs_status: Option<StatusCode>,
    /// OCS answers with Nextcloud's fixed XML `Unauthorised` document whatever the format.
    pub ocs_unauthorised: bool,
    /// A direct upload's limit, sent beside the `{"error"}` of its 413.
    pub upload_limit: Option<u64>,
}

impl ApiError {
    pub fn ocs(code: u16, message: impl Into<String>) -> Self {
        Self::Ocs {
            code,
            message: message.into(),
        }
    }

    pub fn report(&self) -> Report {
        let base = |status: StatusCode, security: bool, message: &str, ocs_code: u16| Report {
            status,
            security,
            message: message.to_string(),
            ocs_code,
            ocs_message: None,
            ocs_status: None,
            ocs_unauthorised: false,
            upload_limit: None,
        };
        match self {
            Self::NotLoggedIn => base(
                StatusCode::UNAUTHORIZED,
                true,
                messages::NOT_LOGGED_IN,
                CODE_NOT_LOGGED_IN,
            ),
            Self::WrongCredentials => Report {
                ocs_unauthorised: true,
                ..base(
                    StatusCode::UNAUTHORIZED,
                    true,
                    messages::NOT_LOGGED_IN,
                    CODE_NOT_LOGGED_IN,
                )
            },
            Self::NotAdmin => base(StatusCode::FORBIDDEN, true, messages::MUST_BE_ADMIN, 403),
            Self::CsrfFailed => base(
                StatusCode::PRECONDITION_FAILED,
                true,
                messages::CSRF_FAILED,
                412,
            ),
            Self::TooManyRequests => Report {
                ocs_status: Some(StatusCode::TOO_MANY_REQUESTS),
                ..base(
                    StatusCode::TOO_MANY_REQUESTS,
                    true,
                    messages::TOO_MANY_REQUESTS,
                    429,
                )
            },
            Self::Ocs { code, message } => base(StatusCode::BAD_REQUEST, false, message, *code),
            Self::BadRequest(message) => base(StatusCode::BAD_REQUEST, false, message, 400),
            Self::NotFound => Report {
                ocs_message: Some(messages::OCS_INVALID_QUERY.into()),
                ocs_status: Some(StatusCode::NOT_FOUND),
                ..base(
                    StatusCode::NOT_FOUND,
                    false,
                    messages::NOT_FOUND,
                    CODE_NOT_FOUND,
                )
            },
            Self::Missing(message) => Report {
                ocs_status: Some(StatusCode::NOT_FOUND),
                ..base(StatusCode::NOT_FOUND, false, message, CODE_NOT_FOUND)
            },
            Self::Conflict(message) => Report {
                ocs_status: Some(StatusCode::CONFLICT),
                ..base(StatusCode::CONFLICT, false, message, 409)
            },
            Self::Failed { message, .. } => Report {
                ocs_status: Some(StatusCode::INTERNAL_SERVER_ERROR),
                ..base(StatusCode::INTERNAL_SERVER_ERROR, false, message, 996)
            },
            Self::PayloadTooLarge => Report {
                ocs_status: Some(StatusCode::PAYLOAD_TOO_LARGE),
                ..base(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    false,
                    messages::BODY_TOO_LARGE,
                    413,
                )
            },
            Self::Forbidden(message) => Report {
                ocs_status: Some(StatusCode::FORBIDDEN),
                ..base(StatusCode::FORBIDDEN, false, message, 403)
            },
            Self::MethodNotAllowed(message) => Report {
                ocs_status: Some(StatusCode::METHOD_NOT_ALLOWED),
                ..base(StatusCode::METHOD_NOT_ALLOWED, false, message, 405)
            },
            Self::PreconditionFailed(message) => Report {
                ocs_status: Some(StatusCode::PRECONDITION_FAILED),
                ..base(StatusCode::PRECONDITION_FAILED, false, message, 412)
            },
            Self::UnsupportedMediaType(message) => Report {
                ocs_status: Some(StatusCode::UNSUPPORTED_MEDIA_TYPE),
                ..base(StatusCode::UNSUPPORTED_MEDIA_TYPE, false, message, 415)
            },
            Self::InsufficientStorage(message) => Report {
                ocs_status: Some(StatusCode::INSUFFICIENT_STORAGE),
                ..base(StatusCode::INSUFFICIENT_STORAGE, false, message, 507)
            },
            Self::Unauthorized(message) => Report {
                ocs_status: Some(StatusCode::UNAUTHORIZED),
                ..base(StatusCode::UNAUTHORIZED, false, message, 401)
            },
            Self::UploadTooLarge { limit } => Report {
                ocs_status: Some(StatusCode::PAYLOAD_TOO_LARGE),
                upload_limit: Some(*limit),
                ..base(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    false,
                    direct_upload_messages::TOO_LARGE,
                    413,
                )
            },
            Self::Unexpected(_) => Report {
                ocs_status: Some(StatusCode::INTERNAL_SERVER_ERROR),
                ..base(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    false,
                    messages::INTERNAL_ERROR,
                    996,
                )
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.report().status
    }

    /// The app-family body, with the [`Report`] attached for [`render_errors`] to re-render.
    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Unexpected(cause) | Self::Failed { cause, .. } => {
                tracing::error!(error = ?cause, "request failed unexpectedly");
            }
            _ => {}
        }
        let report = self.report();
        let mut response = Family::App {
            login_redirect: None,
            browser_page: false,
        }
        .render(&report);
        response.extensions_mut().insert(report);
        response
    }
}

/// How a request wants its errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Family {
    /// App routes, `/status.php`, pages and unknown paths. `login_redirect` is the
    /// `/index.php/login?redirect_url=…` target when a browser (`Accept` contains `html`) asks.
    App {
        login_redirect: Option<String>,
        /// A browser asked for a page (not an app, OCS or DAV route): "not found" is a page too.
        browser_page: bool,
    },
    Ocs(OcsFormat),
    /// WebDAV under `/remote.php/`: Sabre-style XML errors (spec §7.1).
    Dav,
}

impl Family {
    pub fn of(req: &HttpRequest) -> Self {
        if let Some(format) = OcsFormat::of(req) {
            return Self::Ocs(format);
        }
        if req.path().starts_with("/remote.php/") || req.path() == "/remote.php" {
            return Self::Dav;
        }
        let browser = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("html"));
        let login_redirect = browser.then(|| {
            let target = req
                .uri()
                .path_and_query()
                .map_or_else(|| req.path().to_string(), |pq| pq.as_str().to_string());
            login_url(Some(&target))
        });
        Self::App {
            login_redirect,
            browser_page: browser && is_page_path(req.path()),
        }
    }

    pub fn render(&self, report: &Report) -> HttpResponse {
        match self {
            Self::App {
                login_redirect,
                browser_page,
            } => {
                // Only "log in first" sends a browser to the login page.
                if let (StatusCode::UNAUTHORIZED, true, Some(location)) =
                    (report.status, report.security, login_redirect)
                {
                    return HttpResponse::SeeOther()
                        .insert_header((header::LOCATION, location.as_str()))
                        .finish();
                }
                if *browser_page && report.status == StatusCode::NOT_FOUND {
                    return not_found_page();
                }
                let mut builder = HttpResponse::build(report.status);
                if let Some(limit) = report.upload_limit {
                    return builder.json(DirectUploadErrorBody {
                        error: report.message.clone(),
                        upload_limit: Some(limit),
                    });
                }
                if report.security {
                    builder.json(SecurityError {
                        message: report.message.clone(),
                    })
                } else {
                    builder.json(AppError {
                        error: report.message.clone(),
                    })
                }
            }
            Self::Dav => dav_error(report.status, &report.message),
            Self::Ocs(_) if report.ocs_unauthorised => HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, ocs::UNAUTHORISED_CHALLENGE))
                .content_type(ocs::UNAUTHORISED_CONTENT_TYPE)
                .body(ocs::unauthorised_xml()),
            Self::Ocs(format) => {
                let message = report.ocs_message.as_deref().unwrap_or(&report.message);
                let envelope = OcsEnvelope::failure(
                    format.version,
                    report.ocs_code,
                    message,
                    Value::Array(vec![]),
                );
                let status = report.ocs_status.unwrap_or_else(|| {
                    StatusCode::from_u16(format.version.http_status(report.ocs_code))
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                });
                format.respond(status, &envelope)
            }
        }
    }
}

/// Paths a person may type into the address bar: everything but the app's API routes, OCS,
/// WebDAV, `/status.php` and the assets, whose errors stay in their contract's shape.
pub fn is_page_path(path: &str) -> bool {
    const API_PREFIXES: [&str; 6] = [
        "/ocs/",
        "/remote.php",
        "/status.php",
        "/assets/",
        "/index.php/apps/integration_openproject/",
        "/apps/integration_openproject/",
    ];
    !API_PREFIXES.iter().any(|prefix| path.starts_with(prefix))
}

#[derive(askama::Template)]
#[template(path = "not_found.html")]
struct NotFoundPage;

/// The HTML "Page not found" answer of unknown pages.
fn not_found_page() -> HttpResponse {
    let mut response = HttpResponse::NotFound();
    for page_header in service_kit::web::PAGE_HEADERS {
        response.insert_header(page_header);
    }
    match askama::Template::render(&NotFoundPage) {
        Ok(body) => response.content_type("text/html; charset=utf-8").body(body),
        Err(_) => response
            .content_type("text/plain; charset=utf-8")
            .body("Page not found"),
    }
}

/// `<d:error>` with the Sabre exception and message; 401 names the Basic realm, 405 the
/// methods there are.
pub fn dav_error(status: StatusCode, message: &str) -> HttpResponse {
    let body = storage_protocol::multistatus::sabre_error(status.as_u16(), message);
    let mut builder = HttpResponse::build(status);
    builder.content_type("application/xml; charset=utf-8");
    if status == StatusCode::UNAUTHORIZED {
        builder.insert_header((
            header::WWW_AUTHENTICATE,
            "Basic realm=\"Nextcloud\", charset=\"UTF-8\"",
        ));
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        builder.insert_header((header::ALLOW, crate::routes::webdav::ALLOW));
    }
    builder.body(body)
}

/// `/index.php/login`, with `redirect_url` when given.
pub fn login_url(redirect: Option<&str>) -> String {
    match redirect {
        Some(target) => format!(
            "/index.php/login?redirect_url={}",
            percent_encoding::utf8_percent_encode(target, percent_encoding::NON_ALPHANUMERIC)
        ),
        None => "/index.php/login".to_string(),
    }
}

const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// The OCS version and body format of a request (README §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OcsFormat {
    pub version: OcsVersion,
    pub json: bool,
}

impl OcsFormat {
    /// `None` when the path is not under `/ocs/v1.php/` or `/ocs/v2.php/`.
    pub fn of(req: &HttpRequest) -> Option<Self> {
        let path = req.path();
        let version = if path.starts_with("/ocs/v1.php/") {
            OcsVersion::V1
        } else if path.starts_with("/ocs/v2.php/") {
            OcsVersion::V2
        } else {
            return None;
        };
        let format = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .unwrap_or_default()
            .into_iter()
            .find_map(|(key, value)| (key == "format").then_some(value));
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        Some(Self {
            version,
            json: ocs::wants_json(format.as_deref(), accept),
        })
    }

    /// A success envelope around `data`. JSON is written straight from `data`; XML goes through
    /// a `Value` tree.
    pub fn ok(&self, data: impl serde::Serialize) -> Result<HttpResponse, ApiError> {
        let unexpected = |e| ApiError::Unexpected(anyhow::Error::new(e).context("OCS data"));
        if self.json {
            let body =
                serde_json::to_vec(&OcsEnvelope::ok(self.version, data)).map_err(unexpected)?;
            return Ok(HttpResponse::Ok()
                .content_type(JSON_CONTENT_TYPE)
                .body(body));
        }
        let data = serde_json::to_value(data).map_err(unexpected)?;
        Ok(self.respond(StatusCode::OK, &OcsEnvelope::ok(self.version, data)))
    }

    /// A success that created `data`: v2 answers 201.
    pub fn created(&self, data: Value) -> HttpResponse {
        let envelope = OcsEnvelope::created(self.version, data);
        let status = StatusCode::from_u16(self.version.http_status(envelope.ocs.meta.statuscode))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.respond(status, &envelope)
    }

    /// A failure envelope with code `code` and `data` (v1: HTTP 200; v2: the code's status).
    pub fn failure(&self, code: u16, data: Value) -> HttpResponse {
        let envelope = OcsEnvelope::failure(self.version, code, "", data);
        let status = StatusCode::from_u16(self.version.http_status(code))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.respond(status, &envelope)
    }

    pub fn respond(&self, status: StatusCode, envelope: &OcsEnvelope<Value>) -> HttpResponse {
        let mut builder = HttpResponse::build(status);
        if self.json {
            builder
                .content_type(JSON_CONTENT_TYPE)
                .body(serde_json::to_string(envelope).unwrap_or_else(|_| json!({}).to_string()))
        } else {
            builder
                .content_type("application/xml; charset=utf-8")
                .body(ocs::to_xml(envelope))
        }
    }
}

impl actix_web::FromRequest for OcsFormat {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Self::of(req).ok_or(ApiError::NotFound))
    }
}

/// Middleware: re-renders every [`ApiError`] response in the family of its request.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let family = Family::of(req.request());
    let response = next.call(req).await?;
    let report = response.response().extensions().get::<Report>().cloned();
    Ok(match report {
        Some(report) => {
            // Who may read the answer (CORS) is the route's decision, whatever the body.
            let cors: Vec<_> = response
                .headers()
                .iter()
                .filter(|(name, _)| name.as_str().starts_with("access-control-"))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            let mut rendered = family.render(&report);
            for (name, value) in cors {
                rendered.headers_mut().insert(name, value);
            }
            response.into_response(rendered.map_into_boxed_body())
        }
        None => response.map_into_boxed_body(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{body::to_bytes, test::TestRequest};

    async fn body_json(response: HttpResponse) -> Value {
        serde_json::from_slice(&to_bytes(response.into_body()).await.unwrap()).unwrap()
    }

    fn app() -> Family {
        Family::App {
            login_redirect: None,
            browser_page: false,
        }
    }

    #[actix_web::test]
    async fn browsers_get_a_not_found_page_except_on_api_paths() {
        let page = |path: &str| {
            TestRequest::get()
                .uri(path)
                .insert_header((header::ACCEPT, "text/html,*/*"))
                .to_http_request()
        };
        let response = Family::of(&page("/index.php/nowhere")).render(&ApiError::NotFound.report());
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        for api in [
            "/index.php/apps/integration_openproject/nowhere",
            "/remote.php/dav/nowhere",
            "/ocs/v2.php/nowhere",
            "/assets/nowhere.js",
        ] {
            let response = Family::of(&page(api)).render(&ApiError::NotFound.report());
            assert_ne!(
                response.headers().get(header::CONTENT_TYPE).unwrap(),
                "text/html; charset=utf-8",
                "{api}"
            );
        }
        // Scripts (no `html` in Accept) keep the JSON body.
        let script = TestRequest::get()
            .uri("/index.php/nowhere")
            .to_http_request();
        let response = Family::of(&script).render(&ApiError::NotFound.report());
        assert_eq!(body_json(response).await["error"], messages::NOT_FOUND);
    }

    #[actix_web::test]
    async fn security_errors_use_message_bodies() {
        for (error, status, message) in [
            (ApiError::NotLoggedIn, 401, messages::NOT_LOGGED_IN),
            (ApiError::NotAdmin, 403, messages::MUST_BE_ADMIN),
            (ApiError::CsrfFailed, 412, messages::CSRF_FAILED),
            (ApiError::TooManyRequests, 429, messages::TOO_MANY_REQUESTS),
        ] {
            let response = app().render(&error.report());
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(body_json(response).await, json!({ "message": message }));
        }
    }

    #[actix_web::test]
    async fn other_errors_use_error_bodies() {
        for (error, status) in [
            (ApiError::BadRequest("nope".into()), 400),
            (ApiError::NotFound, 404),
            (ApiError::Missing("gone".into()), 404),
            (ApiError::Conflict("taken".into()), 409),
            (ApiError::PayloadTooLarge, 413),
            (ApiError::Unexpected(anyhow::anyhow!("secret cause")), 500),
        ] {
            let response = app().render(&error.report());
            assert_eq!(response.status().as_u16(), status);
            let body = body_json(response).await;
            assert!(body["error"].is_string());
            assert!(!body.to_string().contains("secret cause"));
        }
    }

    #[actix_web::test]
    async fn setup_errors_map_to_the_contract() {
        for (error, status, message) in [
            (
                SetupError::TeamFolder(TeamFolderError::Conflict(app_messages::GROUP_EXISTS)),
                409,
                app_messages::GROUP_EXISTS,
            ),
            (
                SetupError::TeamFolder(TeamFolderError::UserMissing),
                404,
                app_messages::APP_PASSWORD_USER_MISSING,
            ),
            (
                SetupError::AdminConfigNotValid,
                400,
                app_messages::ADMIN_CONFIG_NOT_VALID,
            ),
            (
                SetupError::Database(diesel::result::Error::NotFound),
                500,
                app_messages::SAVING_SETTINGS_FAILED,
            ),
        ] {
            let response = app().render(&ApiError::from(error).report());
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(body_json(response).await, json!({ "error": message }));
        }
    }

    #[actix_web::test]
    async fn direct_upload_errors_map_to_the_contract() {
        use storage_protocol::integration_app::direct_upload::messages as m;
        use DirectUploadError as E;
        for (error, status, message) in [
            (E::InvalidToken, 404, m::INVALID_TOKEN),
            (E::FolderNotFound, 404, m::FOLDER_NOT_FOUND),
            (E::Unauthorized, 401, m::UNAUTHORIZED),
            (E::NotEnoughPermissions, 403, m::NOT_ENOUGH_PERMISSIONS),
            (E::InvalidFileName, 400, m::INVALID_FILE_NAME),
            (E::InvalidOverwrite, 400, m::INVALID_OVERWRITE),
            (E::Conflict, 409, m::CONFLICT),
            (E::OverwriteNonFile, 409, m::OVERWRITE_NON_FILE),
            (E::InsufficientQuota, 507, m::INSUFFICIENT_QUOTA),
            (
                E::from(FileError::Forbidden("read only")),
                403,
                m::NOT_ENOUGH_PERMISSIONS,
            ),
            (
                E::from(FileError::InsufficientStorage),
                507,
                m::INSUFFICIENT_QUOTA,
            ),
        ] {
            let response = app().render(&ApiError::from(error).report());
            assert_eq!(response.status().as_u16(), status, "{message}");
            assert_eq!(body_json(response).await, json!({ "error": message }));
        }
        let response = app().render(&ApiError::from(E::TooLarge(1000)).report());
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            body_json(response).await,
            json!({ "error": m::TOO_LARGE, "upload_limit": 1000 })
        );
        // A browser is not sent to the login page for a token of a disabled user.
        let req = TestRequest::post()
            .uri("/index.php/apps/integration_openproject/direct-upload/x")
            .insert_header((header::ACCEPT, "text/html"))
            .to_http_request();
        let response = Family::of(&req).render(&ApiError::from(E::Unauthorized).report());
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    #[actix_web::test]
    async fn browsers_are_redirected_to_login() {
        let req = TestRequest::get()
            .uri("/index.php/apps/integration_openproject/x?a=1")
            .insert_header((header::ACCEPT, "text/html"))
            .to_http_request();
        let response = Family::of(&req).render(&ApiError::NotLoggedIn.report());
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers().get(header::LOCATION).unwrap(),
            "/index.php/login?redirect_url=%2Findex%2Ephp%2Fapps%2Fintegration%5Fopenproject%2Fx%3Fa%3D1"
        );
        // A browser that is logged in but not an admin still gets the 403 body.
        let response = Family::of(&req).render(&ApiError::NotAdmin.report());
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }

    #[actix_web::test]
    async fn ocs_errors_follow_the_version_rules() {
        let v1 = TestRequest::get()
            .uri("/ocs/v1.php/cloud/users?format=json")
            .to_http_request();
        let v2 = TestRequest::get()
            .uri("/ocs/v2.php/cloud/users")
            .insert_header((header::ACCEPT, "application/json"))
            .to_http_request();
        let exists = ApiError::ocs(102, messages::USER_EXISTS).report();
        let response = Family::of(&v1).render(&exists);
        assert_eq!(response.status(), StatusCode::OK);
        let body = body_json(response).await;
        assert_eq!(body["ocs"]["meta"]["statuscode"], 102);
        assert_eq!(body["ocs"]["meta"]["status"], "failure");
        assert_eq!(
            Family::of(&v2).render(&exists).status(),
            StatusCode::BAD_REQUEST
        );
        let response = Family::of(&v2).render(&ApiError::NotLoggedIn.report());
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            body_json(response).await,
            storage_protocol::fixtures::load("nc_ocs_v2_not_logged_in")
        );
        assert_eq!(
            Family::of(&v1)
                .render(&ApiError::PayloadTooLarge.report())
                .status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }

    #[actix_web::test]
    async fn dav_errors_are_sabre_documents() {
        let req = TestRequest::get()
            .uri("/remote.php/dav/files/alice/x")
            .to_http_request();
        let response = Family::of(&req).render(&ApiError::NotLoggedIn.report());
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Basic realm=\"Nextcloud\", charset=\"UTF-8\""
        );
        let body = to_bytes(response.into_body()).await.unwrap();
        let xml = std::str::from_utf8(&body).unwrap();
        assert!(xml.contains("<s:exception>Sabre\\DAV\\Exception\\NotAuthenticated</s:exception>"));
        for (error, status, exception) in [
            (ApiError::Missing("x".into()), 404, "NotFound"),
            (ApiError::Conflict("x".into()), 409, "Conflict"),
            (
                ApiError::MethodNotAllowed("x".into()),
                405,
                "MethodNotAllowed",
            ),
            (ApiError::Forbidden("x".into()), 403, "Forbidden"),
            (ApiError::BadRequest("x".into()), 400, "BadRequest"),
            (
                ApiError::UnsupportedMediaType("x".into()),
                415,
                "UnsupportedMediaType",
            ),
            (ApiError::PayloadTooLarge, 413, "EntityTooLarge"),
        ] {
            let response = Family::of(&req).render(&error.report());
            assert_eq!(response.status().as_u16(), status);
            let body = to_bytes(response.into_body()).await.unwrap();
            assert!(std::str::from_utf8(&body).unwrap().contains(exception));
        }
    }

    #[actix_web::test]
    async fn ocs_defaults_to_xml() {
        let req = TestRequest::get()
            .uri("/ocs/v1.php/cloud/user")
            .to_http_request();
        let response = Family::of(&req).render(&ApiError::NotLoggedIn.report());
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body = to_bytes(response.into_body()).await.unwrap();
        let xml = std::str::from_utf8(&body).unwrap();
        assert!(xml.contains("<statuscode>997</statuscode>"));
    }
}
