//! A small OpenProject for the client direction: `POST /oauth/token`, `GET /api/v3/users/me`
//! and `POST /oauth/revoke` on port 0, and the API v3 endpoints the OCS wrappers call
//! (answering like OpenProject with canned data), recording every request it gets.

use std::{
    net::TcpListener,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::json;
use service_kit::time::now_millis;
use storage_protocol::oauth::{ErrorBody, OpenProjectTokenResponse};

/// A personal access token the fake accepts.
pub const VALID_PAT: &str = "valid-personal-access-token";

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The body as JSON (`Null` when empty or not JSON).
    pub json: serde_json::Value,
    pub content_type: Option<String>,
    pub form: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
}

impl Recorded {
    /// A decoded query parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&self.query)
            .unwrap_or_default()
            .into_iter()
            .find_map(|(k, v)| (k == name).then_some(v))
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find_map(|(k, v)| (k == name).then_some(v.as_str()))
    }

    pub fn field_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.form.iter().map(|(k, _)| k.as_str()).collect();
        names.sort_unstable();
        names
    }
}

/// How `/oauth/token` answers, after `delay`.
#[derive(Debug, Clone)]
pub enum TokenAnswer {
    Issue {
        expires_in: i64,
        delay: Duration,
    },
    Refuse {
        error: &'static str,
        delay: Duration,
    },
}

#[derive(Debug)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    answer: Mutex<TokenAnswer>,
    issued: Mutex<Vec<String>>,
    counter: AtomicUsize,
    /// When set, every API v3 call but `users/me` answers this status with an error body.
    api_failure: Mutex<Option<u16>>,
}

pub struct FakeOpenProject {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeOpenProject {
    pub fn start() -> Self {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            answer: Mutex::new(TokenAnswer::Issue {
                expires_in: 7200,
                delay: Duration::ZERO,
            }),
            issued: Mutex::new(Vec::new()),
            counter: AtomicUsize::new(0),
            api_failure: Mutex::new(None),
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/oauth/token", web::post().to(token))
                .route("/oauth/revoke", web::post().to(revoke))
                .route("/api/v3/users/me", web::get().to(me))
                .route("/api/v3/{tail:.*}", web::route().to(api))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { url, shared }
    }

    pub fn answer_tokens_with(&self, answer: TokenAnswer) {
        *self.shared.answer.lock().unwrap() = answer;
    }

    /// Makes the API v3 endpoints (not `users/me`) answer `status` with an OpenProject error.
    pub fn fail_api_with(&self, status: Option<u16>) {
        *self.shared.api_failure.lock().unwrap() = status;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The requests to one path.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

fn record(shared: &Shared, req: &HttpRequest, body: &[u8]) {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    shared.requests.lock().unwrap().push(Recorded {
        method: req.method().to_string(),
        path: req.path().to_string(),
        query: req.query_string().to_string(),
        json: serde_json::from_slice(body).unwrap_or(serde_json::Value::Null),
        content_type: header("content-type"),
        form: serde_urlencoded::from_bytes(body).unwrap_or_default(),
        authorization: header("authorization"),
        user_agent: header("user-agent"),
    });
}

async fn token(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    record(&shared, &req, &body);
    let answer = shared.answer.lock().unwrap().clone();
    match answer {
        TokenAnswer::Issue { expires_in, delay } => {
            tokio::time::sleep(delay).await;
            let n = shared.counter.fetch_add(1, Ordering::SeqCst) + 1;
            let access = format!("op-access-{n}");
            shared.issued.lock().unwrap().push(access.clone());
            HttpResponse::Ok()
                .insert_header(("Cache-Control", "no-store"))
                .json(OpenProjectTokenResponse {
                    access_token: access,
                    token_type: "Bearer".into(),
                    expires_in,
                    refresh_token: format!("op-refresh-{n}"),
                    scope: "api_v3".into(),
                    created_at: now_millis() / 1000,
                })
        }
        TokenAnswer::Refuse { error, delay } => {
            tokio::time::sleep(delay).await;
            HttpResponse::BadRequest().json(ErrorBody {
                error: error.into(),
                error_description: Some("The provided authorization grant is invalid.".into()),
            })
        }
    }
}

async fn revoke(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    record(&shared, &req, &body);
    HttpResponse::Ok().json(json!({}))
}

async fn me(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    record(&shared, &req, &[]);
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let valid = bearer
        .is_some_and(|token| token == VALID_PAT || shared.issued.lock().unwrap().contains(&token));
    if valid {
        HttpResponse::Ok().json(json!({
            "_type": "User", "id": 7, "name": "Ada Lovelace",
            "firstName": "Ada", "lastName": "Lovelace", "status": "active"
        }))
    } else {
        HttpResponse::Unauthorized().json(json!({
            "_type": "Error",
            "errorIdentifier": "urn:openproject-org:api:v3:errors:Unauthenticated",
            "message": "You did not provide the correct credentials."
        }))
    }
}

fn error(status: u16, identifier: &str, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(json!({
        "_type": "Error",
        "errorIdentifier": format!("urn:openproject-org:api:v3:errors:{identifier}"),
        "message": message
    }))
}

fn collection(elements: Vec<serde_json::Value>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "_type": "Collection", "total": elements.len(), "count": elements.len(),
        "_embedded": {"elements": elements}
    }))
}

fn work_package(id: i64, subject: &str) -> serde_json::Value {
    json!({"_type": "WorkPackage", "id": id, "subject": subject,
           "_links": {"self": {"href": format!("/api/v3/work_packages/{id}"), "title": subject}}})
}

/// The API v3 endpoints of §6 with canned answers; ids `404` are unknown.
async fn api(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    record(&shared, &req, &body);
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let valid = bearer
        .is_some_and(|token| token == VALID_PAT || shared.issued.lock().unwrap().contains(&token));
    if !valid {
        return error(
            401,
            "Unauthenticated",
            "You did not provide the correct credentials.",
        );
    }
    if let Some(status) = *shared.api_failure.lock().unwrap() {
        return error(
            status,
            "MissingPermission",
            "You are not authorized to access this resource.",
        );
    }
    let path = req.path().trim_start_matches("/api/v3/").to_string();
    let segments: Vec<&str> = path.split('/').collect();
    match (req.method().as_str(), segments.as_slice()) {
        ("GET", ["notifications"]) => collection(vec![json!({
            "_type": "Notification", "id": 1, "reason": "assigned", "readIAN": false,
            "_links": {"resource": {"href": "/api/v3/work_packages/42", "title": "Roadmap"}}
        })]),
        ("POST", ["notifications", "read_ian"]) => HttpResponse::NoContent().finish(),
        ("GET", ["work_packages"]) => collection(vec![
            work_package(42, "Roadmap"),
            work_package(42, "Roadmap"),
            work_package(43, "Release"),
        ]),
        ("GET", ["work_packages", "available_projects"]) => collection(vec![
            json!({"_type": "Project", "id": 3, "name": "Demo"}),
            json!({"_type": "Project", "id": 5, "name": "Scrum"}),
        ]),
        ("POST", ["work_packages", "404", "file_links"])
        | ("GET", ["work_packages", "404", "file_links"])
        | ("DELETE", ["file_links", "404"]) => error(
            404,
            "NotFound",
            "The requested resource could not be found.",
        ),
        ("POST", ["work_packages", _, "file_links"]) => {
            let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let count = request["_embedded"]["elements"]
                .as_array()
                .map_or(0, Vec::len);
            let links = (0..count)
                .map(|i| json!({"_type": "FileLink", "id": 501 + i}))
                .collect::<Vec<_>>();
            let mut response = collection(links);
            *response.status_mut() = actix_web::http::StatusCode::CREATED;
            response
        }
        ("GET", ["work_packages", _, "file_links"]) => {
            collection(vec![json!({"_type": "FileLink", "id": 501})])
        }
        ("DELETE", ["file_links", _]) => HttpResponse::NoContent().finish(),
        ("POST", ["projects", "404", "work_packages", "form"])
        | ("GET", ["projects", "404", "available_assignees"]) => error(
            404,
            "NotFound",
            "The requested resource could not be found.",
        ),
        ("POST", ["projects", "500", "work_packages", "form"]) => {
            HttpResponse::Ok().json(json!({"_type": "WorkPackage"}))
        }
        ("POST", ["projects", _, "work_packages", "form"]) => {
            HttpResponse::Ok().json(storage_protocol::fixtures::load("op_work_package_form"))
        }
        ("GET", ["projects", _, "available_assignees"]) => collection(vec![
            json!({"_type": "User", "id": 1, "name": "OpenProject Admin"}),
            json!({"_type": "User", "id": 5, "name": "Alice Adams"}),
        ]),
        ("POST", ["work_packages"]) => {
            let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            match request["subject"].as_str() {
                None | Some("") => error(
                    422,
                    "PropertyConstraintViolation",
                    "Subject can't be blank.",
                ),
                Some("bare") => HttpResponse::Created().json(work_package(44, "bare")),
                Some(_) => HttpResponse::Created()
                    .json(storage_protocol::fixtures::load("op_work_package_created")),
            }
        }
        ("GET", ["configuration"]) => HttpResponse::Ok().json(json!({
            "_type": "Configuration", "maximumAttachmentFileSize": 5242880
        })),
        ("GET", ["statuses", id]) => HttpResponse::Ok()
            .json(json!({"_type": "Status", "id": id.parse::<i64>().unwrap_or(0), "name": "New"})),
        ("GET", ["types", id]) => HttpResponse::Ok()
            .json(json!({"_type": "Type", "id": id.parse::<i64>().unwrap_or(0), "name": "Task"})),
        ("GET", ["users", "404", "avatar"]) => error(
            404,
            "NotFound",
            "The requested resource could not be found.",
        ),
        ("GET", ["users", _, "avatar"]) => HttpResponse::Ok()
            .content_type("image/png")
            .body(&b"\x89PNG fake"[..]),
        _ => error(
            404,
            "NotFound",
            "The requested resource could not be found.",
        ),
    }
}
