//! `POST APP/is-valid-op-instance` (contract §4) against tiny servers started here.

use std::{
    io::{Read, Write},
    net::TcpListener,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use serde_json::{json, Value};
use storage_protocol::fixtures::load;

use crate::helpers::{browser, spawn_app_with, status_and_json, TestApp};

/// A server answering every request with one canned HTTP response; it keeps the request heads.
struct Stub {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
}

impl Stub {
    fn start(status_line: &str, headers: &[(&str, &str)], body: &str) -> Self {
        let mut response = format!(
            "HTTP/1.1 {status_line}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(body);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                accepted.fetch_add(1, Ordering::SeqCst);
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Self {
            url,
            requests,
            connections,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// Connections accepted, whether or not a request came.
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn probe_as(app: &TestApp, user: &str, password: &str, body: Value) -> (u16, Value) {
    let response = app
        .api
        .post(app.app_url("is-valid-op-instance"))
        .basic_auth(user, Some(password))
        .json(&body)
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

async fn probe(app: &TestApp, url: &str) -> Value {
    let (status, body) = probe_as(
        app,
        &app.admin_user,
        &app.admin_password,
        json!({ "url": url }),
    )
    .await;
    assert_eq!(status, 200, "always 200: {body}");
    body
}

async fn local_app() -> TestApp {
    spawn_app_with(|s| s.allow_local_remote_servers = true).await
}

const OP_ERROR: &str = r#"{"_type":"Error","errorIdentifier":"urn:openproject-org:api:v3:errors:Unauthenticated","message":"You did not provide the correct credentials."}"#;

#[tokio::test]
async fn an_openproject_error_or_root_is_a_valid_instance() {
    let app = local_app().await;
    let op = Stub::start(
        "401 Unauthorized",
        &[("Content-Type", "application/hal+json")],
        OP_ERROR,
    );
    assert_eq!(
        probe(&app, &op.url).await,
        load("nc_is_valid_op_instance_true")
    );
    // What was sent: GET <url>/api/v3/ with an empty Bearer token and the app's User-Agent.
    let request = &op.requests()[0];
    let lines: Vec<String> = request.lines().map(|l| l.to_ascii_lowercase()).collect();
    assert_eq!(lines[0], "get /api/v3/ http/1.1");
    assert!(
        lines
            .iter()
            .any(|l| l.trim_end() == "authorization: bearer"),
        "{request}"
    );
    assert!(
        request
            .lines()
            .any(|l| l.eq_ignore_ascii_case("user-agent: Nextcloud OpenProject integration")),
        "{request}"
    );

    // A sub-path, a trailing slash and a query are handled.
    let root = Stub::start(
        "200 OK",
        &[("Content-Type", "application/json")],
        r#"{"_type":"Root","instanceName":"OpenProject"}"#,
    );
    assert_eq!(
        probe(&app, &format!("{}/op/?x=1", root.url)).await,
        json!({"result": true})
    );
    assert!(root.requests()[0].starts_with("GET /op/api/v3/ HTTP/1.1"));
}

#[tokio::test]
async fn a_redirecting_server_is_redirected_with_the_target() {
    let app = local_app().await;
    let redirecting = Stub::start(
        "301 Moved Permanently",
        &[("Location", "https://openproject.example.com/api/v3/")],
        "",
    );
    let answer = probe(&app, &redirecting.url).await;
    assert_eq!(answer, load("nc_is_valid_op_instance_redirected"));
    assert_eq!(
        redirecting.requests().len(),
        1,
        "the redirect is not followed"
    );

    let elsewhere = Stub::start("302 Found", &[("Location", "/login")], "");
    assert_eq!(
        probe(&app, &elsewhere.url).await,
        json!({"result": "redirected", "details": "/login"})
    );
    let nowhere = Stub::start("302 Found", &[], "");
    assert_eq!(
        probe(&app, &nowhere.url).await,
        json!({"result": "unexpected_error"})
    );
}

#[tokio::test]
async fn a_json_server_that_is_not_openproject_is_not_a_valid_body() {
    let app = local_app().await;
    let other = Stub::start(
        "200 OK",
        &[("Content-Type", "application/json")],
        r#"{"hello":"world"}"#,
    );
    assert_eq!(
        probe(&app, &other.url).await,
        load("nc_is_valid_op_instance_not_valid_body")
    );
    let html = Stub::start("200 OK", &[], "<html>hi</html>");
    assert_eq!(
        probe(&app, &html.url).await,
        json!({"result": "not_valid_body", "details": "<html>hi</html>"})
    );
}

#[tokio::test]
async fn client_and_server_errors() {
    let app = local_app().await;
    let missing = Stub::start("404 Not Found", &[], "<html>no</html>");
    assert_eq!(
        probe(&app, &missing.url).await,
        json!({"result": "client_exception", "details": "404 Not Found"})
    );
    let other_error = Stub::start(
        "403 Forbidden",
        &[],
        r#"{"_type":"Error","errorIdentifier":""}"#,
    );
    assert_eq!(
        probe(&app, &other_error.url).await,
        json!({"result": "client_exception", "details": "403 Forbidden"})
    );
    let failing = Stub::start("500 Internal Server Error", &[], OP_ERROR);
    assert_eq!(
        probe(&app, &failing.url).await,
        load("nc_is_valid_op_instance_server_exception")
    );
}

#[tokio::test]
async fn a_closed_port_is_a_network_error() {
    let app = local_app().await;
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let answer = probe(&app, &format!("http://{closed}")).await;
    assert_eq!(answer["result"], "network_error", "{answer}");
    assert!(answer["details"].as_str().is_some_and(|d| !d.is_empty()));
}

#[tokio::test]
async fn invalid_urls_and_bodies() {
    let app = local_app().await;
    for url in [
        "",
        "openproject",
        "ftp://op.example",
        "http://",
        "https:///op",
        "javascript:alert(1)",
    ] {
        assert_eq!(
            probe(&app, url).await,
            load("nc_is_valid_op_instance_invalid"),
            "{url}"
        );
    }
    for body in [json!({}), json!({"url": 5}), json!([])] {
        let (status, answer) = probe_as(&app, &app.admin_user, &app.admin_password, body).await;
        assert_eq!((status, answer), (200, json!({"result": "invalid"})));
    }
    let response = app
        .api
        .post(app.app_url("is-valid-op-instance"))
        .basic_auth(&app.admin_user, Some(&app.admin_password))
        .header("Content-Type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(response).await,
        (200, json!({"result": "invalid"}))
    );
}

#[tokio::test]
async fn local_servers_are_refused_unless_allowed() {
    let app = spawn_app_with(|s| s.allow_local_remote_servers = false).await;
    let op = Stub::start("401 Unauthorized", &[], OP_ERROR);
    let port = op.url.rsplit(':').next().unwrap();
    for url in [
        op.url.clone(),
        format!("http://localhost:{port}"),
        format!("http://[::1]:{port}/"),
        // The IPv4-compatible, IPv4-mapped, NAT64 and 6to4 forms of 127.0.0.1.
        format!("http://[::127.0.0.1]:{port}"),
        format!("http://[::ffff:127.0.0.1]:{port}"),
        format!("http://[64:ff9b::7f00:1]:{port}"),
        "http://[64:ff9b::7f00:1]".to_string(),
        format!("http://[2002:7f00:1::]:{port}"),
        "http://10.0.0.1".to_string(),
        "http://100.64.0.1".to_string(),
        "http://198.18.0.1".to_string(),
        "http://169.254.169.254/latest".to_string(),
        "http://[fe80::1]".to_string(),
        "http://[fec0::1]".to_string(),
        "http://[fd00::1]".to_string(),
    ] {
        assert_eq!(
            probe(&app, &url).await,
            json!({"result": "local_remote_servers_not_allowed"}),
            "{url}"
        );
    }
    assert_eq!(op.connections(), 0, "no connection was made");

    // Allowed, the same server is an OpenProject instance.
    let allowed = local_app().await;
    assert_eq!(probe(&allowed, &op.url).await, json!({"result": true}));
    assert_eq!(op.connections(), 1);
}

#[tokio::test]
async fn any_user_may_ask_and_cookie_sessions_need_a_csrf_token() {
    let app = local_app().await;
    let op = Stub::start("401 Unauthorized", &[], OP_ERROR);
    app.create_user("ursula", "ursula-password").await;
    let (status, answer) =
        probe_as(&app, "ursula", "ursula-password", json!({"url": op.url})).await;
    assert_eq!((status, answer), (200, json!({"result": true})));

    let anonymous = app
        .api
        .post(app.app_url("is-valid-op-instance"))
        .json(&json!({"url": op.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(anonymous).await,
        (401, load("nc_security_not_logged_in"))
    );

    let browser = browser();
    app.login(&browser, "ursula", "ursula-password").await;
    let refused = browser
        .post(app.app_url("is-valid-op-instance"))
        .json(&json!({"url": op.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 412);
    let token = app.page_token(&browser).await;
    let accepted = browser
        .post(app.url("/apps/integration_openproject/is-valid-op-instance"))
        .header("requesttoken", token)
        .json(&json!({"url": op.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(accepted).await,
        (200, json!({"result": true}))
    );
    // A form body works too (the token inside it).
    let token = app.page_token(&browser).await;
    let form = browser
        .post(app.app_url("is-valid-op-instance"))
        .form(&[("url", op.url.as_str()), ("requesttoken", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(status_and_json(form).await, (200, json!({"result": true})));
}
