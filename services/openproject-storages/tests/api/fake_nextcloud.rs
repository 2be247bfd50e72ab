//! HTTP servers that answer like a broken, old, or partly set-up Nextcloud, for the host check's
//! failure paths; the happy paths use a real `nextcloud-openproject-app` process.

use std::net::TcpListener;

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

async fn answer(req: HttpRequest, behaviour: web::Data<Behaviour>) -> HttpResponse {
    let path = req.path();
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

impl FakeNextcloud {
    pub fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let behaviour = web::Data::new(behaviour);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(behaviour.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .disable_signals()
        .run();
        tokio::spawn(server);
        Self { url }
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
