//! A Nextcloud user connecting to OpenProject (oauth.md §5, nextcloud-openproject-app.md §4)
//! against a fake OpenProject: op-oauth-url, oauth-redirect, the lazy single-flight refresh,
//! PUT /config (personal tokens, disconnect with revocation) and the personal settings page.

use std::time::Duration;

use nextcloud_openproject_app::{
    db::user_preferences,
    domain::{
        openproject_connection::{openproject_access_token, AccessTokenError, OpenProject},
        preferences,
    },
};
use reqwest::{Client, Method};
use serde_json::{json, Value};
use service_kit::{crypto::SecretBox, time::now_millis};
use storage_protocol::integration_app::APP_ID;

use crate::{
    fake_openproject::{FakeOpenProject, TokenAnswer, VALID_PAT},
    helpers::{spawn_app, status_and_json, TestApp, APP},
    oauth_server::{location, logged_in, query_param, setup_with, ALICE},
};

const OP_CLIENT_ID: &str = "op-client-id";
const OP_CLIENT_SECRET: &str = "op-client-secret-0123456789";

struct Connected {
    app: TestApp,
    op: FakeOpenProject,
    browser: Client,
    token: String,
}

/// The app set up against a fake OpenProject, alice logged in with her page's CSRF token.
async fn spawn_with_openproject() -> Connected {
    let app = spawn_app().await;
    let op = FakeOpenProject::start();
    app.create_user(ALICE.0, ALICE.1).await;
    setup_with(&app, &op.url, OP_CLIENT_ID).await;
    let browser = logged_in(&app, ALICE).await;
    let token = app.page_token(&browser).await;
    Connected {
        app,
        op,
        browser,
        token,
    }
}

fn secret_box(app: &TestApp) -> SecretBox {
    app.settings
        .common
        .secret_key
        .as_ref()
        .expect("test settings carry a key")
        .secret_box()
}

/// A preference of alice, opened when sealed.
fn pref(app: &TestApp, key: &str) -> Option<String> {
    preferences::get(&mut app.db.get().unwrap(), &secret_box(app), ALICE.0, key).unwrap()
}

/// A preference of alice as stored.
fn raw_pref(app: &TestApp, key: &str) -> Option<String> {
    user_preferences::get(&mut app.db.get().unwrap(), ALICE.0, APP_ID, key).unwrap()
}

fn set_pref(app: &TestApp, key: &str, value: &str) {
    preferences::set(
        &mut app.db.get().unwrap(),
        &secret_box(app),
        ALICE.0,
        key,
        value,
    )
    .unwrap();
}

impl Connected {
    async fn op_oauth_url(&self) -> (u16, Value) {
        let response = self
            .browser
            .get(self.app.url(&format!("{APP}/op-oauth-url")))
            .header("requesttoken", &self.token)
            .send()
            .await
            .unwrap();
        status_and_json(response).await
    }

    async fn put_config(&self, values: Value) -> (u16, Value) {
        let response = self
            .browser
            .put(self.app.url(&format!("{APP}/config")))
            .header("requesttoken", &self.token)
            .json(&json!({ "values": values }))
            .send()
            .await
            .unwrap();
        status_and_json(response).await
    }

    /// Where the redirect sends the browser.
    async fn redirect(&self, query: &str) -> String {
        let response = self
            .browser
            .get(self.app.url(&format!("{APP}/oauth-redirect?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        location(&response)
    }

    /// The whole journey from the settings page; the authorize URL it used.
    async fn connect(&self) -> String {
        let (status, url) = self.op_oauth_url().await;
        assert_eq!(status, 200, "{url}");
        let url = url.as_str().unwrap().to_string();
        let (status, _) = self
            .put_config(json!({"oauth_journey_starting_page": "{\"page\":\"settings\"}"}))
            .await;
        assert_eq!(status, 200);
        let state = query_param(&url, "state").unwrap();
        assert_eq!(
            self.redirect(&format!("code=the-code&state={state}")).await,
            "/index.php/settings/user/openproject"
        );
        url
    }

    async fn settings_page(&self) -> String {
        let response = self
            .browser
            .get(self.app.url("/index.php/settings/user/openproject"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        response.text().await.unwrap()
    }

    fn openproject(&self) -> (SecretBox, reqwest::Client) {
        (
            secret_box(&self.app),
            service_kit::http_client::build(
                service_kit::http_client::Destinations::AnyAddress,
                Duration::from_secs(5),
                Duration::from_secs(10),
            ),
        )
    }
}

async fn access_token(
    app: &TestApp,
    secret_box: &SecretBox,
    http: &reqwest::Client,
) -> Result<String, AccessTokenError> {
    let op = OpenProject {
        db: &app.db,
        secret_box,
        http,
        public_url: &app.address,
    };
    openproject_access_token(op, ALICE.0)
        .await
        .map(|t| t.expose().to_string())
}

#[tokio::test]
async fn op_oauth_url_builds_the_authorize_url_and_keeps_state_and_verifier() {
    let c = spawn_with_openproject().await;
    let (status, url) = c.op_oauth_url().await;
    assert_eq!(status, 200);
    let url = url.as_str().unwrap();
    let state = pref(&c.app, "oauth_state").unwrap();
    assert_eq!(state.len(), 32);
    assert!(state
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    let verifier = pref(&c.app, "code_verifier").unwrap();
    assert_eq!(verifier.len(), 128);
    assert!(verifier
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    // The verifier is sealed at rest.
    assert!(!raw_pref(&c.app, "code_verifier")
        .unwrap()
        .contains(&verifier));
    let redirect: String = url::form_urlencoded::byte_serialize(
        format!(
            "{}/index.php/apps/integration_openproject/oauth-redirect",
            c.app.address
        )
        .as_bytes(),
    )
    .collect();
    assert_eq!(
        url,
        format!(
            "{}/oauth/authorize?client_id={OP_CLIENT_ID}&redirect_uri={redirect}&response_type=code&state={state}&code_challenge={}&code_challenge_method=S256",
            c.op.url,
            oauth_provider::s256_challenge(&verifier)
        )
    );
    assert!(!url.contains("scope"));
    // A second call makes a new state.
    let (_, again) = c.op_oauth_url().await;
    assert_ne!(
        query_param(again.as_str().unwrap(), "state").unwrap(),
        state
    );

    // Cookie sessions need the CSRF token; anonymous callers a login.
    let response = c
        .browser
        .get(c.app.url(&format!("{APP}/op-oauth-url")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 412);
    let response = c
        .app
        .get(&format!("{APP}/op-oauth-url"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn op_oauth_url_needs_a_complete_admin_config() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let response = app
        .get_as(&format!("{APP}/op-oauth-url"), ALICE.0, ALICE.1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(response).await,
        (
            400,
            json!({"error": "OpenProject admin config is not valid!"})
        )
    );
    // URL and credentials set, but no Nextcloud client yet: still incomplete.
    let (status, _) = app
        .admin_call(
            Method::PUT,
            "admin-config",
            Some(
                json!({"values": {"openproject_instance_url": "http://op.example",
                "openproject_client_id": "id", "openproject_client_secret": "secret-0123456789",
                "setup_project_folder": false, "setup_app_password": false}}),
            ),
        )
        .await;
    assert_eq!(status, 200);
    let response = app
        .get_as(&format!("{APP}/op-oauth-url"), ALICE.0, ALICE.1)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (status, _) = app.admin_call(Method::POST, "nc-oauth", None).await;
    assert_eq!(status, 200);
    let response = app
        .get_as(&format!("{APP}/op-oauth-url"), ALICE.0, ALICE.1)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_redirect_exchanges_the_code_and_stores_the_connection() {
    let c = spawn_with_openproject().await;
    let authorize = c.connect().await;
    let challenge = query_param(&authorize, "code_challenge").unwrap();

    let exchanges = c.op.requests_to("/oauth/token");
    assert_eq!(exchanges.len(), 1);
    let exchange = &exchanges[0];
    assert_eq!(
        exchange.field_names(),
        [
            "client_id",
            "client_secret",
            "code",
            "code_verifier",
            "grant_type",
            "redirect_uri"
        ]
    );
    assert_eq!(exchange.field("grant_type"), Some("authorization_code"));
    assert_eq!(exchange.field("code"), Some("the-code"));
    assert_eq!(exchange.field("client_id"), Some(OP_CLIENT_ID));
    assert_eq!(exchange.field("client_secret"), Some(OP_CLIENT_SECRET));
    assert_eq!(
        exchange.field("redirect_uri"),
        query_param(&authorize, "redirect_uri").as_deref()
    );
    assert_eq!(
        oauth_provider::s256_challenge(exchange.field("code_verifier").unwrap()),
        challenge
    );
    assert_eq!(exchange.authorization, None);

    let me = c.op.requests_to("/api/v3/users/me");
    assert_eq!(me.len(), 1);
    assert_eq!(me[0].authorization.as_deref(), Some("Bearer op-access-1"));
    assert_eq!(
        me[0].user_agent.as_deref(),
        Some("Nextcloud OpenProject integration")
    );

    assert_eq!(pref(&c.app, "token").as_deref(), Some("op-access-1"));
    assert_eq!(
        pref(&c.app, "refresh_token").as_deref(),
        Some("op-refresh-1")
    );
    // Stored sealed: the plaintext is nowhere in the row (a sealed value is URL-safe base64,
    // which may contain "op-" by chance, so the whole token is what must be absent).
    for (key, plaintext) in [("token", "op-access-1"), ("refresh_token", "op-refresh-1")] {
        let raw = raw_pref(&c.app, key).unwrap();
        assert!(raw.starts_with("v1."), "{key} is not sealed");
        assert!(!raw.contains(plaintext), "{key}");
    }
    let expires_at: i64 = pref(&c.app, "token_expires_at").unwrap().parse().unwrap();
    assert!((expires_at - (now_millis() / 1000 + 7200)).abs() <= 5);
    assert_eq!(pref(&c.app, "user_id").as_deref(), Some("7"));
    assert_eq!(pref(&c.app, "user_name").as_deref(), Some("Ada Lovelace"));
    assert_eq!(pref(&c.app, "oauth_state"), None);
    assert_eq!(pref(&c.app, "code_verifier"), None);

    // The settings page shows the connection, and the outcome once.
    let page = c.settings_page().await;
    assert!(page.contains("Connected as <strong id=\"openproject-user\">Ada Lovelace</strong>"));
    assert!(page.contains("Successfully connected to OpenProject."));
    assert!(page.contains("id=\"disconnect\""));
    let page = c.settings_page().await;
    assert!(!page.contains("Successfully connected"));
    assert_eq!(pref(&c.app, "oauth_connection_result"), None);

    // The same state cannot be used twice.
    let state = query_param(&authorize, "state").unwrap();
    c.redirect(&format!("code=again&state={state}")).await;
    assert_eq!(c.op.requests_to("/oauth/token").len(), 1);
    assert_eq!(
        pref(&c.app, "oauth_connection_error_message").as_deref(),
        Some("Error during OAuth exchanges")
    );
}

#[tokio::test]
async fn redirect_failures_are_reported_once_on_the_settings_page() {
    let c = spawn_with_openproject().await;

    // Wrong state: no call to OpenProject.
    c.op_oauth_url().await;
    assert_eq!(
        c.redirect("code=c&state=00000000000000000000000000000000")
            .await,
        "/index.php/apps/files/"
    );
    assert!(c.op.requests().is_empty());
    assert_eq!(
        pref(&c.app, "oauth_connection_result").as_deref(),
        Some("error")
    );
    assert_eq!(pref(&c.app, "oauth_state"), None);
    // Shown once, in plain words rather than the stored protocol message.
    let page = c.settings_page().await;
    assert!(page.contains("the attempt expired"), "{page}");
    assert!(!page.contains("Error during OAuth exchanges"), "{page}");
    assert!(page.contains("id=\"connect\""));
    assert!(!c.settings_page().await.contains("the attempt expired"));

    // OpenProject refuses the code.
    c.op.answer_tokens_with(TokenAnswer::Refuse {
        error: "invalid_grant",
        delay: Duration::ZERO,
    });
    let (_, url) = c.op_oauth_url().await;
    let state = query_param(url.as_str().unwrap(), "state").unwrap();
    c.redirect(&format!("code=c&state={state}")).await;
    assert_eq!(
        pref(&c.app, "oauth_connection_error_message").as_deref(),
        Some("Error getting OAuth access token. invalid_grant")
    );
    assert_eq!(pref(&c.app, "token"), None);

    // The user denied at OpenProject: no code.
    let (_, url) = c.op_oauth_url().await;
    let state = query_param(url.as_str().unwrap(), "state").unwrap();
    c.redirect(&format!("error=access_denied&state={state}"))
        .await;
    assert_eq!(
        pref(&c.app, "oauth_connection_error_message").as_deref(),
        Some("Error getting OAuth access token. access_denied")
    );
    assert_eq!(c.op.requests_to("/oauth/token").len(), 1);
    let page = c.settings_page().await;
    assert!(
        page.contains("You cancelled the connection to OpenProject"),
        "{page}"
    );

    // Anonymous browsers log in first.
    let response = c
        .app
        .get(&format!("{APP}/oauth-redirect?code=c&state=s"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/index.php/login?redirect_url="));
}

#[tokio::test]
async fn an_unreachable_openproject_is_an_error_too() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    setup_with(&app, &url, OP_CLIENT_ID).await;
    let browser = logged_in(&app, ALICE).await;
    let token = app.page_token(&browser).await;
    let response = browser
        .get(app.url(&format!("{APP}/op-oauth-url")))
        .header("requesttoken", &token)
        .send()
        .await
        .unwrap();
    let url: Value = response.json().await.unwrap();
    let state = query_param(url.as_str().unwrap(), "state").unwrap();
    let response = browser
        .get(app.url(&format!("{APP}/oauth-redirect?code=c&state={state}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        pref(&app, "oauth_connection_error_message").as_deref(),
        Some("Error getting OAuth access token. OpenProject could not be reached")
    );
}

#[tokio::test]
async fn the_journey_returns_to_where_it_started() {
    let c = spawn_with_openproject().await;
    for (page, target) in [
        (json!({"page": "dashboard"}), "/index.php/apps/dashboard/"),
        (
            json!({"page": "settings"}),
            "/index.php/settings/user/openproject",
        ),
        (
            json!({"page": "files", "file": {"dir": "/Docs", "name": "plan.pdf"}}),
            "/index.php/apps/files/?dir=%2FDocs&scrollto=plan.pdf",
        ),
        (json!({"page": "elsewhere"}), "/index.php/apps/files/"),
    ] {
        c.put_config(json!({"oauth_journey_starting_page": page.to_string()}))
            .await;
        let (_, url) = c.op_oauth_url().await;
        let state = query_param(url.as_str().unwrap(), "state").unwrap();
        assert_eq!(c.redirect(&format!("code=c&state={state}")).await, target);
    }
}

#[tokio::test]
async fn tokens_are_refreshed_lazily_once_per_user() {
    let c = spawn_with_openproject().await;
    c.connect().await;
    let (secret_box, http) = c.openproject();

    // Fresh: no call.
    assert_eq!(
        access_token(&c.app, &secret_box, &http).await.unwrap(),
        "op-access-1"
    );
    assert_eq!(c.op.requests_to("/oauth/token").len(), 1);

    // Within 60 s of expiry: refreshed, by one caller only, however many ask at once.
    set_pref(
        &c.app,
        "token_expires_at",
        &(now_millis() / 1000 + 30).to_string(),
    );
    c.op.answer_tokens_with(TokenAnswer::Issue {
        expires_in: 7200,
        // Long enough that every caller arrives while the refresh runs, even on a loaded machine.
        delay: Duration::from_millis(1500),
    });
    let callers = (0..6).map(|_| access_token(&c.app, &secret_box, &http));
    let results = futures_util::future::join_all(callers).await;
    for result in results {
        assert_eq!(result.unwrap(), "op-access-2");
    }
    let refreshes = c.op.requests_to("/oauth/token");
    assert_eq!(refreshes.len(), 2);
    let refresh = &refreshes[1];
    assert_eq!(
        refresh.field_names(),
        ["client_id", "client_secret", "grant_type", "refresh_token"]
    );
    assert_eq!(refresh.field("grant_type"), Some("refresh_token"));
    assert_eq!(refresh.field("refresh_token"), Some("op-refresh-1"));
    assert_eq!(refresh.field("client_id"), Some(OP_CLIENT_ID));
    assert_eq!(refresh.field("client_secret"), Some(OP_CLIENT_SECRET));
    assert_eq!(pref(&c.app, "token").as_deref(), Some("op-access-2"));
    assert_eq!(
        pref(&c.app, "refresh_token").as_deref(),
        Some("op-refresh-2")
    );
    let expires_at: i64 = pref(&c.app, "token_expires_at").unwrap().parse().unwrap();
    assert!(expires_at > now_millis() / 1000 + 7000);

    // Expired: refreshed as well.
    set_pref(
        &c.app,
        "token_expires_at",
        &(now_millis() / 1000 - 10).to_string(),
    );
    assert_eq!(
        access_token(&c.app, &secret_box, &http).await.unwrap(),
        "op-access-3"
    );
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_tokens_and_tries_again_next_time() {
    let c = spawn_with_openproject().await;
    c.connect().await;
    let (secret_box, http) = c.openproject();
    let expired = (now_millis() / 1000 - 10).to_string();
    set_pref(&c.app, "token_expires_at", &expired);
    c.op.answer_tokens_with(TokenAnswer::Refuse {
        error: "invalid_grant",
        delay: Duration::ZERO,
    });

    for attempt in 1..=2 {
        assert!(matches!(
            access_token(&c.app, &secret_box, &http).await,
            Err(AccessTokenError::RefreshFailed)
        ));
        assert_eq!(c.op.requests_to("/oauth/token").len(), 1 + attempt);
        assert_eq!(pref(&c.app, "token").as_deref(), Some("op-access-1"));
        assert_eq!(
            pref(&c.app, "refresh_token").as_deref(),
            Some("op-refresh-1")
        );
        assert_eq!(pref(&c.app, "token_expires_at"), Some(expired.clone()));
    }
    c.op.answer_tokens_with(TokenAnswer::Issue {
        expires_in: 7200,
        delay: Duration::ZERO,
    });
    assert!(access_token(&c.app, &secret_box, &http).await.is_ok());

    // Not connected at all.
    c.put_config(json!({"token": ""})).await;
    assert!(matches!(
        access_token(&c.app, &secret_box, &http).await,
        Err(AccessTokenError::NotConnected)
    ));
}

/// Log lines of the current thread (the test's runtime runs the refresh on it).
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn concurrent_callers_share_one_failed_refresh_and_nothing_secret_is_logged() {
    let c = spawn_with_openproject().await;
    c.connect().await;
    let (secret_box, http) = c.openproject();
    set_pref(
        &c.app,
        "token_expires_at",
        &(now_millis() / 1000 - 10).to_string(),
    );
    c.op.answer_tokens_with(TokenAnswer::Refuse {
        error: "invalid_grant",
        // Long enough that every caller arrives while the refresh runs, even on a loaded machine.
        delay: Duration::from_millis(1500),
    });
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let callers = (0..5).map(|_| access_token(&c.app, &secret_box, &http));
    for result in futures_util::future::join_all(callers).await {
        assert!(matches!(result, Err(AccessTokenError::RefreshFailed)));
    }
    assert_eq!(c.op.requests_to("/oauth/token").len(), 2);
    let text = logs.text();
    assert_eq!(
        text.matches("Failed to refresh token: invalid_grant")
            .count(),
        1,
        "{text}"
    );
    for secret in ["op-refresh-1", "op-access-1", OP_CLIENT_SECRET] {
        assert!(!text.contains(secret), "{text}");
    }
    assert_eq!(
        pref(&c.app, "refresh_token").as_deref(),
        Some("op-refresh-1")
    );
}

#[tokio::test]
async fn put_config_stores_preferences_but_not_the_connection_keys() {
    let c = spawn_with_openproject().await;
    c.connect().await;
    let (status, body) = c
        .put_config(json!({
            "search_enabled": true, "navigation_enabled": false, "link_preview_enabled": "1",
            "user_id": "999", "user_name": "Mallory", "refresh_token": "forged",
            "oauth_state": "forged", "oauth_connection_result": "success"
        }))
        .await;
    assert_eq!((status, body), (200, json!({})));
    assert_eq!(pref(&c.app, "search_enabled").as_deref(), Some("1"));
    assert_eq!(pref(&c.app, "navigation_enabled").as_deref(), Some("0"));
    assert_eq!(pref(&c.app, "user_id").as_deref(), Some("7"));
    assert_eq!(pref(&c.app, "user_name").as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        pref(&c.app, "refresh_token").as_deref(),
        Some("op-refresh-1")
    );
    assert_eq!(pref(&c.app, "oauth_state"), None);
    // null deletes.
    c.put_config(json!({"search_enabled": null})).await;
    assert_eq!(pref(&c.app, "search_enabled"), None);

    // Cookie sessions need the CSRF token; bodies are checked.
    let response = c
        .browser
        .put(c.app.url(&format!("{APP}/config")))
        .json(&json!({"values": {"search_enabled": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 412);
    let response = c
        .browser
        .put(c.app.url(&format!("{APP}/config")))
        .header("requesttoken", &c.token)
        .json(&json!({"nothing": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(response).await,
        (400, json!({"error": "Invalid settings."}))
    );
}

#[tokio::test]
async fn an_empty_token_disconnects_and_revokes_at_openproject() {
    let c = spawn_with_openproject().await;
    c.connect().await;
    set_pref(&c.app, "search_enabled", "1");
    let (status, body) = c.put_config(json!({"token": ""})).await;
    assert_eq!((status, body), (200, json!({"user_name": ""})));
    for key in [
        "token",
        "refresh_token",
        "token_expires_at",
        "user_id",
        "user_name",
    ] {
        assert_eq!(pref(&c.app, key), None, "{key}");
    }
    assert_eq!(pref(&c.app, "search_enabled").as_deref(), Some("1"));
    let revocations = c.op.requests_to("/oauth/revoke");
    assert_eq!(revocations.len(), 1);
    let revocation = &revocations[0];
    assert_eq!(revocation.field("token"), Some("op-refresh-1"));
    assert_eq!(revocation.field("token_type_hint"), Some("refresh_token"));
    assert_eq!(revocation.field("client_id"), Some(OP_CLIENT_ID));
    assert_eq!(revocation.field("client_secret"), Some(OP_CLIENT_SECRET));
    let page = c.settings_page().await;
    assert!(page.contains("Not connected to OpenProject."));

    // Disconnecting again needs nothing at OpenProject.
    let (status, _) = c.put_config(json!({"token": ""})).await;
    assert_eq!(status, 200);
    assert_eq!(c.op.requests_to("/oauth/revoke").len(), 1);
}

#[tokio::test]
async fn a_personal_access_token_is_checked_with_users_me() {
    let c = spawn_with_openproject().await;
    let (status, body) = c.put_config(json!({"token": VALID_PAT})).await;
    assert_eq!((status, body), (200, json!({"user_name": "Ada Lovelace"})));
    assert_eq!(pref(&c.app, "token").as_deref(), Some(VALID_PAT));
    assert_eq!(pref(&c.app, "refresh_token"), None);
    assert_eq!(pref(&c.app, "token_expires_at"), None);
    assert_eq!(pref(&c.app, "user_id").as_deref(), Some("7"));
    let me = c.op.requests_to("/api/v3/users/me");
    assert_eq!(
        me.last().unwrap().authorization.as_deref(),
        Some(format!("Bearer {VALID_PAT}").as_str())
    );
    // A personal token never needs a refresh.
    let (secret_box, http) = c.openproject();
    assert_eq!(
        access_token(&c.app, &secret_box, &http).await.unwrap(),
        VALID_PAT
    );
    assert!(c.op.requests_to("/oauth/token").is_empty());

    let (status, body) = c.put_config(json!({"token": "wrong"})).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"error": "You did not provide the correct credentials."})
        )
    );
    assert_eq!(pref(&c.app, "token"), None);
    assert_eq!(pref(&c.app, "user_id"), None);
}

#[tokio::test]
async fn admin_changes_clear_connections_as_the_effects_table_says() {
    let c = spawn_with_openproject().await;
    c.connect().await;

    // URL changed only: the connection stays.
    let (status, _) = c
        .app
        .setup(
            Method::PATCH,
            json!({"openproject_instance_url": format!("{}/", c.op.url)}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(pref(&c.app, "token").as_deref(), Some("op-access-1"));

    // OpenProject's client secret changed: every connection is cleared, no call is made.
    let calls = c.op.requests().len();
    let (status, _) = c
        .app
        .setup(
            Method::PATCH,
            json!({"openproject_client_secret": "another-secret-0123456789"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(pref(&c.app, "token"), None);
    assert_eq!(pref(&c.app, "user_name"), None);
    assert_eq!(c.op.requests().len(), calls);

    // Connect again, then DELETE /setup clears it as well.
    c.connect().await;
    assert!(pref(&c.app, "token").is_some());
    let (status, _) = c.app.admin_call(Method::DELETE, "setup", None).await;
    assert_eq!(status, 200);
    assert_eq!(pref(&c.app, "token"), None);
    assert_eq!(c.op.requests_to("/oauth/revoke").len(), 0);
}

#[tokio::test]
async fn tokens_openproject_no_longer_accepts_are_shown_as_a_broken_connection() {
    let c = spawn_with_openproject().await;
    c.connect().await;
    assert!(c.settings_page().await.contains("id=\"disconnect\""));

    // OpenProject forgot the token (its storage was deleted or its OAuth values replaced).
    set_pref(&c.app, "token", "a-token-openproject-revoked");
    let page = c.settings_page().await;
    assert!(
        page.contains("Your connection to OpenProject no longer works."),
        "{page}"
    );
    assert!(page.contains("id=\"connect\""), "{page}");
    assert!(!page.contains("id=\"disconnect\""), "{page}");
    assert!(!page.contains("Connected as"), "{page}");
}
