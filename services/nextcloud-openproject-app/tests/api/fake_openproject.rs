//! A small OpenProject for the client direction: `POST /oauth/token`, `GET /api/v3/users/me`
//! and `POST /oauth/revoke` on port 0, recording every request it gets.

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
    pub path: String,
    pub form: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
}

impl Recorded {
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
        path: req.path().to_string(),
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
