//! HTTP servers that answer like a broken, old, or partly set-up Nextcloud, for the host check's
//! failure paths (the happy paths use a real `nextcloud-openproject-app` process), and a
//! Nextcloud OAuth server whose token endpoint and token checks a test steers.

use std::{
    collections::HashMap,
    net::TcpListener,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard,
    },
};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use serde_json::json;

/// How the fake answers.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Capabilities of Nextcloud 33 with the integration app; check-config echoes the header;
    /// WebDAV accepts Basic `OpenProject:<password>` and lists the team folder.
    Healthy { app_password: String },
    /// JSON without `ocs.data.version`.
    NotNextcloud,
    /// Nextcloud 22.
    OldVersion,
    /// Capabilities answer with this status.
    CapabilitiesStatus(u16),
    /// check-config redirects to a login page (the app is not installed).
    CheckConfigRedirects,
    /// check-config answers with this status.
    CheckConfigStatus(u16),
    /// check-config does not see the `Authorization` header (stripped by a proxy).
    HeaderStripped,
    /// Passes the host check, but WebDAV answers 500.
    DavBroken,
}

pub struct FakeNextcloud {
    /// Without trailing `/`.
    pub url: String,
    /// Its OAuth server: the token endpoint and the Bearer check of `ocs/v1.php/cloud/user`.
    oauth: Arc<Mutex<OAuthServer>>,
}

/// The client id and secret the fake's OAuth server knows (its "OpenProject client").
pub const CLIENT_ID: &str = "nc-client-id";
pub const CLIENT_SECRET: &str = "nc-client-secret";
/// The Nextcloud user every code is issued for.
pub const NEXTCLOUD_USER: &str = "alice-nc";

/// How the token endpoint answers, whatever the request.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenEndpoint {
    /// Like Nextcloud (oauth.md §3.3): checks, then rotates both tokens.
    Nextcloud,
    /// 400 with `{"error": <code>}`.
    Refuses(&'static str),
    /// 500 with an HTML page.
    Broken,
    /// 200 with a body that is no token response.
    Garbage,
}

/// Nextcloud's OAuth server, reduced to what OpenProject's client sees: codes issued by the test
/// (standing in for the authorize and consent pages), one live token pair rotated at every token
/// call, and every token request recorded.
pub struct OAuthServer {
    pub token_endpoint: TokenEndpoint,
    /// Code → its PKCE challenge.
    codes: HashMap<String, Option<String>>,
    access_token: Option<String>,
    refresh_token: Option<String>,
    /// Every token request's form fields, in order.
    pub token_requests: Vec<HashMap<String, String>>,
    /// How the file endpoints (filesinfo, fileinfo, direct, direct-upload-token, user
    /// PROPFIND) answer.
    pub files_mode: FilesMode,
    /// Every request to a file endpoint: path, `OCS-APIRequest`, `Accept`, body.
    pub file_requests: Vec<FileRequest>,
}

/// How the fake's file endpoints answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FilesMode {
    /// Records: `123` readable (`plan.pdf`), `124` forbidden, `125` not found, others not found.
    Normal,
    /// 500 with an HTML page.
    Broken,
    /// Accepts and never answers in time.
    Silent,
}

#[derive(Clone, Debug)]
pub struct FileRequest {
    pub path: String,
    pub ocs_api_request: Option<String>,
    pub accept: Option<String>,
    pub body: String,
}

/// The fake's file record of `id` as `fileinfo` data (nextcloud-openproject-app.md §5).
fn file_record(id: &str) -> serde_json::Value {
    match id {
        "123" => json!({"status": "OK", "statuscode": 200, "id": 123, "name": "plan (renamed).pdf",
            "mtime": 1_704_189_600, "ctime": 1_704_103_200, "mimetype": "application/pdf", "size": 1024,
            "owner_id": NEXTCLOUD_USER, "owner_name": "Alice", "modifier_id": "bob", "modifier_name": "Bob",
            "dav_permissions": "RGDNVW", "path": "files/plan (renamed).pdf"}),
        "124" => json!({"status": "Forbidden", "statuscode": 403}),
        _ => json!({"status": "Not Found", "statuscode": 404}),
    }
}

/// The direct upload token the fake issues for a folder: 64 characters `[A-Za-z0-9]`.
pub fn upload_token(folder_id: &str) -> String {
    format!("{:X<64}", format!("upload{folder_id}"))
}

fn ocs_json(version: u8, data: serde_json::Value) -> HttpResponse {
    let statuscode = if version == 1 { 100 } else { 200 };
    HttpResponse::Ok().json(
        json!({"ocs": {"meta": {"status": "ok", "statuscode": statuscode, "message": "OK",
        "totalitems": "", "itemsperpage": ""}, "data": data}}),
    )
}

/// `Depth: 1` listing of the connected user's root: a folder and a file.
fn user_listing() -> String {
    let base = format!("/remote.php/dav/files/{NEXTCLOUD_USER}/");
    let entry = |href: &str, id: &str, collection: bool, size: u64, mime: &str, perms: &str| {
        let kind = if collection { "<d:collection/>" } else { "" };
        format!(
            "<d:response><d:href>{href}</d:href><d:propstat><d:prop><oc:fileid>{id}</oc:fileid><oc:size>{size}</oc:size>\
             <d:getcontenttype>{mime}</d:getcontenttype><d:getlastmodified>Tue, 02 Jan 2024 10:00:00 GMT</d:getlastmodified>\
             <oc:permissions>{perms}</oc:permissions><oc:owner-display-name>Alice</oc:owner-display-name>\
             <d:resourcetype>{kind}</d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
        )
    };
    format!(
        r#"<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">{}{}{}</d:multistatus>"#,
        entry(&base, "1", true, 2048, "", "RGDNVCK"),
        entry(&format!("{base}Folder/"), "10", true, 1024, "", "RGDNVCK"),
        entry(
            &format!("{base}plan.pdf"),
            "123",
            false,
            1024,
            "application/pdf",
            "RGDNVW"
        ),
    )
}

impl OAuthServer {
    fn bearer_ok(&self, req: &HttpRequest) -> bool {
        let presented = req
            .headers()
            .get("Authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        presented.is_some() && presented == self.access_token.as_deref()
    }

    /// The file endpoints, or `None` when `req` is none of them.
    fn files(
        &mut self,
        req: &HttpRequest,
        body: &[u8],
        base: &str,
    ) -> Option<Result<HttpResponse, ()>> {
        let path = req.path().to_string();
        let method = req.method().as_str().to_string();
        let is_files = (method == "POST"
            && path == "/ocs/v1.php/apps/integration_openproject/filesinfo")
            || (method == "GET"
                && path.starts_with("/ocs/v1.php/apps/integration_openproject/fileinfo/"))
            || (method == "POST" && path == "/ocs/v2.php/apps/dav/api/v1/direct")
            || (method == "POST"
                && path == "/index.php/apps/integration_openproject/direct-upload-token")
            || (method == "PROPFIND"
                && path.starts_with(&format!("/remote.php/dav/files/{NEXTCLOUD_USER}")));
        if !is_files {
            return None;
        }
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        self.file_requests.push(FileRequest {
            path: path.clone(),
            ocs_api_request: header("OCS-APIRequest"),
            accept: header("Accept"),
            body: String::from_utf8_lossy(body).into_owned(),
        });
        match self.files_mode {
            FilesMode::Silent => return Some(Err(())),
            FilesMode::Broken => {
                return Some(Ok(HttpResponse::InternalServerError()
                    .content_type("text/html")
                    .body("<html>Internal Server Error</html>")))
            }
            FilesMode::Normal => {}
        }
        if !self.bearer_ok(req) {
            return Some(Ok(
                HttpResponse::Unauthorized().json(json!({"ocs": {"meta": {"status": "failure",
                "statuscode": 997, "message": "Current user is not logged in"}, "data": []}})),
            ));
        }
        let response = if path.ends_with("/filesinfo") {
            let ids: Vec<String> = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("fileIds").cloned())
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect();
            let data: serde_json::Map<String, serde_json::Value> =
                ids.iter().map(|id| (id.clone(), file_record(id))).collect();
            ocs_json(1, serde_json::Value::Object(data))
        } else if path.contains("/fileinfo/") {
            let id = path.rsplit('/').next().unwrap_or_default();
            ocs_json(1, file_record(id))
        } else if path.ends_with("/direct-upload-token") {
            // Folders `1` (the root) and `10` are writable; `124` is forbidden; the rest (files
            // included) is "not found", as Nextcloud answers.
            let folder = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("folder_id").cloned())
                .map(|v| v.to_string())
                .unwrap_or_default();
            match folder.as_str() {
                "1" | "10" => HttpResponse::Ok().json(json!({
                    "token": upload_token(&folder), "expires_on": 1_767_225_600})),
                "124" => HttpResponse::Forbidden().json(json!({"error": "not enough permissions"})),
                _ => HttpResponse::NotFound()
                    .json(json!({"error": "folder not found or not enough permissions"})),
            }
        } else if path.ends_with("/direct") {
            let id = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("fileId").cloned())
                .map(|v| v.to_string())
                .unwrap_or_default();
            match id.as_str() {
                "123" => ocs_json(2, json!({"url": format!("{base}/remote.php/direct/dl-token-123")})),
                "124" => HttpResponse::Forbidden().json(json!({"ocs": {"meta": {"status": "failure", "statuscode": 403, "message": ""}, "data": []}})),
                _ => HttpResponse::NotFound().json(json!({"ocs": {"meta": {"status": "failure", "statuscode": 404, "message": ""}, "data": []}})),
            }
        } else {
            let inner = path.trim_start_matches(&format!("/remote.php/dav/files/{NEXTCLOUD_USER}"));
            if inner.trim_matches('/').is_empty() {
                HttpResponse::build(actix_web::http::StatusCode::MULTI_STATUS)
                    .content_type("application/xml; charset=utf-8")
                    .body(user_listing())
            } else {
                HttpResponse::NotFound().finish()
            }
        };
        Some(Ok(response))
    }
}

impl OAuthServer {
    fn new() -> Self {
        Self {
            token_endpoint: TokenEndpoint::Nextcloud,
            codes: HashMap::new(),
            access_token: None,
            refresh_token: None,
            token_requests: Vec::new(),
            files_mode: FilesMode::Normal,
            file_requests: Vec::new(),
        }
    }

    /// `POST /index.php/apps/oauth2/api/v1/token`, in Nextcloud's order of checks.
    fn token(&mut self, form: HashMap<String, String>) -> HttpResponse {
        self.token_requests.push(form.clone());
        let refuse = |error: &str| HttpResponse::BadRequest().json(json!({"error": error}));
        match self.token_endpoint {
            TokenEndpoint::Nextcloud => {}
            TokenEndpoint::Refuses(error) => return refuse(error),
            TokenEndpoint::Broken => {
                return HttpResponse::InternalServerError()
                    .content_type("text/html")
                    .body("<html>Internal Server Error</html>")
            }
            TokenEndpoint::Garbage => {
                return HttpResponse::Ok().json(json!({"hello": "world"}));
            }
        }
        let field = |name: &str| form.get(name).cloned().unwrap_or_default();
        match field("grant_type").as_str() {
            "authorization_code" => {
                let Some(challenge) = self.codes.remove(&field("code")) else {
                    return refuse("invalid_request");
                };
                if let Some(challenge) = challenge {
                    let Some(verifier) = form.get("code_verifier") else {
                        return refuse("invalid_request");
                    };
                    let computed = oauth2::PkceCodeChallenge::from_code_verifier_sha256(
                        &oauth2::PkceCodeVerifier::new(verifier.clone()),
                    );
                    if computed.as_str() != challenge {
                        return refuse("invalid_grant");
                    }
                }
            }
            "refresh_token" => {
                if self.refresh_token.as_deref() != Some(field("refresh_token").as_str()) {
                    return refuse("invalid_request");
                }
            }
            _ => return refuse("invalid_grant"),
        }
        if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
            return refuse("invalid_client");
        }
        let access_token = service_kit::crypto::random_alphanumeric(72);
        let refresh_token = service_kit::crypto::random_alphanumeric(128);
        self.access_token = Some(access_token.clone());
        self.refresh_token = Some(refresh_token.clone());
        HttpResponse::Ok().json(json!({"access_token": access_token, "token_type": "Bearer",
            "expires_in": 3600, "refresh_token": refresh_token, "user_id": NEXTCLOUD_USER}))
    }

    /// `GET /ocs/v1.php/cloud/user`: only the live access token authenticates.
    fn cloud_user(&self, req: &HttpRequest) -> HttpResponse {
        let presented = req
            .headers()
            .get("Authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let xml = |status: &str, code: u16, message: &str, data: &str| {
            format!(
                "<?xml version=\"1.0\"?>\n<ocs><meta><status>{status}</status><statuscode>{code}</statuscode><message>{message}</message><totalitems></totalitems><itemsperpage></itemsperpage></meta><data>{data}</data></ocs>"
            )
        };
        if presented.is_some() && presented == self.access_token.as_deref() {
            HttpResponse::Ok()
                .content_type("application/xml; charset=utf-8")
                .body(xml(
                    "ok",
                    100,
                    "OK",
                    &format!("<id>{NEXTCLOUD_USER}</id><display-name>Alice</display-name>"),
                ))
        } else {
            HttpResponse::Unauthorized()
                .content_type("application/xml; charset=utf-8")
                .body(xml("failure", 997, "Current user is not logged in", ""))
        }
    }
}

fn capabilities(major: u64) -> HttpResponse {
    HttpResponse::Ok().json(json!({"ocs": {"meta": {"status": "ok", "statuscode": 200, "message": "OK"},
        "data": {"version": {"major": major, "minor": 0, "micro": 0, "string": format!("{major}.0.0")},
                 "capabilities": {"integration_openproject": {"app_version": "3.1.0",
                     "groupfolder_version": "20.1.7", "groupfolders_enabled": true}}}}}))
}

fn authorized(req: &HttpRequest, password: &str) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("OpenProject:{password}"))
    );
    req.headers()
        .get("Authorization")
        .is_some_and(|v| v.as_bytes() == expected.as_bytes())
}

/// `Depth: 1` listings of user `OpenProject`: its root, and the team folder holding one managed
/// project folder.
fn listing(path: &str) -> String {
    let folder = |href: &str| {
        format!(
            "<d:response><d:href>{href}</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
        )
    };
    let root = "/remote.php/dav/files/OpenProject/";
    let team = "/remote.php/dav/files/OpenProject/OpenProject/";
    let responses = if path.trim_end_matches('/') == root.trim_end_matches('/') {
        [folder(root), folder(team)].concat()
    } else {
        [
            folder(team),
            folder(&format!("{team}Demo%20project%20(1)/")),
        ]
        .concat()
    };
    format!(
        r#"<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">{responses}</d:multistatus>"#
    )
}

async fn answer(
    req: HttpRequest,
    body: web::Bytes,
    behaviour: web::Data<Behaviour>,
    oauth: web::Data<Arc<Mutex<OAuthServer>>>,
) -> HttpResponse {
    let path = req.path();
    if path == "/index.php/apps/oauth2/api/v1/token" && req.method() == "POST" {
        let form = url::form_urlencoded::parse(&body).into_owned().collect();
        return lock(&oauth).token(form);
    }
    if path == "/ocs/v1.php/cloud/user" {
        return lock(&oauth).cloud_user(&req);
    }
    let base = format!("http://{}", req.connection_info().host());
    let files = lock(&oauth).files(&req, &body, &base);
    match files {
        Some(Ok(response)) => return response,
        // Silent: hold the request far beyond any client timeout.
        Some(Err(())) => {
            tokio::time::sleep(std::time::Duration::from_secs(120)).await;
            return HttpResponse::Ok().finish();
        }
        None => {}
    }
    let is_capabilities = path == "/ocs/v2.php/cloud/capabilities";
    let is_check_config = path == "/index.php/apps/integration_openproject/check-config";
    match behaviour.get_ref() {
        Behaviour::NotNextcloud if is_capabilities => {
            HttpResponse::Ok().json(json!({"hello": "world"}))
        }
        Behaviour::OldVersion if is_capabilities => capabilities(22),
        Behaviour::CapabilitiesStatus(status) if is_capabilities => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(*status).unwrap()).finish()
        }
        _ if is_capabilities => capabilities(33),
        Behaviour::CheckConfigRedirects if is_check_config => HttpResponse::Found()
            .insert_header(("Location", "/index.php/login"))
            .finish(),
        Behaviour::CheckConfigStatus(status) if is_check_config => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(*status).unwrap()).finish()
        }
        Behaviour::HeaderStripped if is_check_config => {
            HttpResponse::Ok().json(json!({"user_id": "", "authorization_header": ""}))
        }
        _ if is_check_config => {
            let header = req
                .headers()
                .get("Authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            HttpResponse::Ok().json(json!({"user_id": "", "authorization_header": header}))
        }
        Behaviour::Healthy { app_password } if path.starts_with("/remote.php/dav") => {
            if !authorized(&req, app_password) {
                return HttpResponse::Unauthorized().finish();
            }
            if req.method().as_str() == "PROPFIND" {
                HttpResponse::build(actix_web::http::StatusCode::MULTI_STATUS)
                    .content_type("application/xml; charset=utf-8")
                    .body(listing(path))
            } else {
                HttpResponse::Ok().finish()
            }
        }
        Behaviour::DavBroken if path.starts_with("/remote.php/dav") => {
            HttpResponse::InternalServerError().finish()
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

fn lock(oauth: &Mutex<OAuthServer>) -> MutexGuard<'_, OAuthServer> {
    oauth
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FakeNextcloud {
    pub fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let behaviour = web::Data::new(behaviour);
        let oauth = Arc::new(Mutex::new(OAuthServer::new()));
        let shared = web::Data::new(oauth.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(behaviour.clone())
                .app_data(shared.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .disable_signals()
        .run();
        tokio::spawn(server);
        Self { url, oauth }
    }

    /// The fake's OAuth server, to steer it and to read what it received.
    pub fn oauth(&self) -> MutexGuard<'_, OAuthServer> {
        lock(&self.oauth)
    }

    /// What the authorize and consent pages would do: a code for the next exchange, bound to
    /// `challenge` (the authorize URL's `code_challenge`), if any.
    pub fn issue_code(&self, challenge: Option<&str>) -> String {
        let code = service_kit::crypto::random_alphanumeric(128);
        self.oauth()
            .codes
            .insert(code.clone(), challenge.map(str::to_string));
        code
    }

    /// The access token expires; the refresh token still works.
    pub fn expire_access_token(&self) {
        self.oauth().access_token = None;
    }

    /// Both tokens stop working, as when Nextcloud's client is rotated.
    pub fn revoke_tokens(&self) {
        let mut oauth = self.oauth();
        oauth.access_token = None;
        oauth.refresh_token = None;
    }

    /// The live pair, as Nextcloud issued it last.
    pub fn live_tokens(&self) -> (Option<String>, Option<String>) {
        let oauth = self.oauth();
        (oauth.access_token.clone(), oauth.refresh_token.clone())
    }

    /// How many token requests had this `grant_type`.
    pub fn token_requests_of(&self, grant_type: &str) -> usize {
        self.oauth()
            .token_requests
            .iter()
            .filter(|r| r.get("grant_type").map(String::as_str) == Some(grant_type))
            .count()
    }
}

/// A loopback URL on which nothing listens.
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// A loopback URL whose server accepts connections and never answers.
pub fn silent_server_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}

/// A server on `address` (`127.0.0.1:0`, `[::1]:0`) that counts the connections it accepts and
/// closes each at once: its URL, and the count. `None` when the address cannot be bound (no
/// IPv6 loopback).
pub fn counting_server(address: &str) -> Option<(String, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind(address).ok()?;
    let url = format!("http://{}", listener.local_addr().ok()?);
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    Some((url, accepted))
}
