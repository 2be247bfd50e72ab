//! The authorization server for OpenProject (oauth.md §3): a browser through login, consent and
//! grant; the token endpoint's seven refusals; PKCE; replay, rotation and reuse; Bearer
//! authentication; what resets do to tokens; digests at rest; throttling.

use diesel::prelude::*;
use oauth_provider::schema::{oauth_codes, oauth_tokens};
use reqwest::{header::LOCATION, Client, Method, Response};
use serde_json::{json, Value};
use service_kit::{
    auth::ThrottlePolicy,
    crypto::{digest, random_alphanumeric},
    time::now_millis,
};
use storage_protocol::{fixtures::load, nextcloud::messages};

use crate::helpers::{
    assert_shape, browser, client_from, hidden_value, is_alphanumeric, spawn_app, spawn_app_with,
    status_and_json, TestApp,
};

pub const AUTHORIZE: &str = "/index.php/apps/oauth2/authorize";
pub const TOKEN: &str = "/index.php/apps/oauth2/api/v1/token";
pub const ALICE: (&str, &str) = ("alice", "alice-password-1");

/// The Nextcloud client OpenProject holds after `POST /setup`.
#[derive(Debug, Clone)]
pub struct NcClient {
    pub id: String,
    pub secret: String,
    pub redirect_uri: String,
}

/// `POST /setup` naming `op_url` and OpenProject's client `op_client_id`; the new NC client.
pub async fn setup_with(app: &TestApp, op_url: &str, op_client_id: &str) -> NcClient {
    let (status, body) = app
        .setup(
            Method::POST,
            json!({
                "openproject_instance_url": op_url,
                "openproject_client_id": op_client_id,
                "openproject_client_secret": "op-client-secret-0123456789",
                "default_enable_navigation": false,
                "default_enable_unified_search": false,
                "setup_project_folder": false,
                "setup_app_password": false
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    NcClient {
        id: body["nextcloud_client_id"].as_str().unwrap().to_string(),
        secret: body["nextcloud_client_secret"]
            .as_str()
            .unwrap()
            .to_string(),
        redirect_uri: body["openproject_redirect_uri"]
            .as_str()
            .unwrap()
            .to_string(),
    }
}

pub async fn setup(app: &TestApp) -> NcClient {
    setup_with(app, "http://op.example", "op-client-id").await
}

pub fn location(response: &Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_string()
}

/// The value of query parameter `name` in a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url)
        .or_else(|_| url::Url::parse(&format!("http://x{url}")))
        .unwrap();
    parsed
        .query_pairs()
        .find_map(|(k, v)| (k == name).then(|| v.into_owned()))
}

pub fn authorize_path(client_id: &str, state: &str, challenge: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", "https://evil.example/steal")
        .append_pair("state", state);
    if let Some(challenge) = challenge {
        query
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
    }
    format!("{AUTHORIZE}?{}", query.finish())
}

/// A browser logged in as `user`.
pub async fn logged_in(app: &TestApp, user: (&str, &str)) -> Client {
    let browser = browser();
    let response = app.login(&browser, user.0, user.1).await;
    assert_eq!(response.status(), 303);
    browser
}

/// From a logged-in browser's authorize request to the consent page: the page's CSRF token and
/// pending request id.
pub async fn consent_form(app: &TestApp, browser: &Client, path: &str) -> (String, String) {
    let response = browser.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let consent = location(&response);
    assert!(
        consent.starts_with("/index.php/login/flow?clientIdentifier="),
        "{consent}"
    );
    let page = browser.get(app.url(&consent)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    (
        hidden_value(&page, "requesttoken"),
        hidden_value(&page, "request"),
    )
}

/// Approves the pending request: the 303 to the client's registered URI.
pub async fn grant(app: &TestApp, browser: &Client, form: &(String, String)) -> String {
    let response = browser
        .post(app.url("/index.php/login/flow/grant"))
        .form(&[
            ("requesttoken", form.0.as_str()),
            ("request", form.1.as_str()),
            ("decision", "grant"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    location(&response)
}

/// A code for `user` (already logged in as `browser`), with an S256 challenge when given.
pub async fn code_for(
    app: &TestApp,
    browser: &Client,
    client: &NcClient,
    challenge: Option<&str>,
) -> String {
    let form = consent_form(app, browser, &authorize_path(&client.id, "st", challenge)).await;
    let redirect = grant(app, browser, &form).await;
    query_param(&redirect, "code").expect("a code")
}

/// `POST token` with form fields; status and JSON body, after checking the no-store headers.
pub async fn token_call(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let response = app
        .api
        .post(app.url(TOKEN))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    status_and_json(response).await
}

pub async fn exchange(
    app: &TestApp,
    client: &NcClient,
    code: &str,
    verifier: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", client.id.as_str()),
        ("client_secret", client.secret.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
    ];
    if let Some(verifier) = verifier {
        form.push(("code_verifier", verifier));
    }
    token_call(app, &form).await
}

pub async fn refresh(app: &TestApp, client: &NcClient, refresh_token: &str) -> (u16, Value) {
    token_call(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_str()),
        ],
    )
    .await
}

/// A fresh token pair for alice.
pub async fn tokens(app: &TestApp, client: &NcClient) -> Value {
    let browser = logged_in(app, ALICE).await;
    let code = code_for(app, &browser, client, None).await;
    let (status, body) = exchange(app, client, &code, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// `GET /ocs/v2.php/cloud/user` with a Bearer token: the HTTP status and the user id.
pub async fn whoami(app: &TestApp, access_token: &str) -> (u16, Option<String>) {
    let response = app
        .get("/ocs/v2.php/cloud/user?format=json")
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["ocs"]["data"]["id"].as_str().map(str::to_string),
    )
}

/// This server's issuer identifier as it appears, form-encoded, in a redirect (RFC 9207).
fn iss(app: &TestApp) -> String {
    url::form_urlencoded::byte_serialize(app.address.as_bytes()).collect()
}

fn str_of<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key].as_str().unwrap()
}

fn error(code: &str) -> Value {
    json!({ "error": code })
}

#[tokio::test]
async fn a_browser_logs_in_consents_and_openproject_gets_tokens() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let verifier = random_alphanumeric(64);
    let challenge = oauth_provider::s256_challenge(&verifier);
    let authorize = authorize_path(&client.id, "state 1/2", Some(&challenge));
    let browser = browser();

    // No session: to the login page, which comes back here.
    let response = browser.get(app.url(&authorize)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let login = location(&response);
    assert_eq!(
        login,
        format!(
            "/index.php/login?redirect_url={}",
            percent_encoding::utf8_percent_encode(&authorize, percent_encoding::NON_ALPHANUMERIC)
        )
    );
    let page = browser.get(app.url(&login)).send().await.unwrap();
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let page = page.text().await.unwrap();
    assert_eq!(
        hidden_value(&page, "redirect_url").replace("&amp;", "&"),
        authorize
    );
    let response = app.login_with(&browser, ALICE.0, ALICE.1, &authorize).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), authorize);

    // Consent: the page names the client and keeps the request server-side.
    let response = browser.get(app.url(&authorize)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let consent = location(&response);
    assert_eq!(
        query_param(&consent, "clientIdentifier").as_deref(),
        Some(client.id.as_str())
    );
    let page = browser.get(app.url(&consent)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    // Browsers apply form-action to the redirect the form ends in: the client's origin.
    let client_origin = url::Url::parse(&client.redirect_uri)
        .unwrap()
        .origin()
        .ascii_serialization();
    assert!(
        csp.contains(&format!("form-action 'self' {client_origin};")),
        "{csp}"
    );
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Connect <span id=\"client-name\">OpenProject client</span> to your account"),
        "{page}"
    );
    assert!(!page.contains(&challenge) && !page.contains("state 1/2"));
    let form = (
        hidden_value(&page, "requesttoken"),
        hidden_value(&page, "request"),
    );

    // Grant: to the registered URI (the request's redirect_uri is ignored).
    let redirect = grant(&app, &browser, &form).await;
    assert!(
        redirect.starts_with(&format!("{}?state=state+1%2F2&code=", client.redirect_uri)),
        "{redirect}"
    );
    let code = query_param(&redirect, "code").unwrap();
    assert!(is_alphanumeric(&json!(code), 128));

    let (status, body) = exchange(&app, &client, &code, Some(&verifier)).await;
    assert_eq!(status, 200, "{body}");
    assert_shape(&body, "nc_oauth_token_response");
    assert!(is_alphanumeric(&body["access_token"], 72));
    assert!(is_alphanumeric(&body["refresh_token"], 128));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["user_id"], "alice");

    // The access token authenticates alice on OCS and the app routes.
    let access = str_of(&body, "access_token");
    assert_eq!(whoami(&app, access).await, (200, Some("alice".into())));
    let response = app
        .get("/ocs/v1.php/cloud/user")
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert!(response.text().await.unwrap().contains("<id>alice</id>"));
    let response = app
        .get("/index.php/apps/integration_openproject/check-config")
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap()["user_id"], "alice");
    // A user route, without CSRF token (Bearer is never refused for CSRF).
    let response = app
        .get("/index.php/apps/integration_openproject/op-oauth-url")
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response
        .json::<Value>()
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .starts_with("http://op.example/oauth/authorize?client_id=op-client-id&"));
    // Not an admin.
    let response = app
        .get("/index.php/apps/integration_openproject/check-admin-config")
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn authorize_checks_come_in_order() {
    let app = spawn_app().await;
    let client = setup(&app).await;

    for path in [
        format!("{AUTHORIZE}?client_id=unknown&response_type=code&state=s"),
        format!("{AUTHORIZE}?response_type=code"),
    ] {
        let response = app.get(&path).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        let page = response.text().await.unwrap();
        assert!(page.contains(
            "Your client is not authorized to connect. Please inform the administrator of your client."
        ));
    }

    let id = &client.id;
    let good = "a".repeat(43);
    let cases = [
        (
            format!("{AUTHORIZE}?client_id={id}&response_type=token&state=x%26y"),
            "?error=unsupported_response_type&state=x%26y",
        ),
        (
            format!("{AUTHORIZE}?client_id={id}&state=s"),
            "?error=unsupported_response_type&state=s",
        ),
        // `plain` (stated, or absent) is refused; so is a challenge of the wrong shape.
        (
            format!("{AUTHORIZE}?client_id={id}&response_type=code&state=s&code_challenge={good}"),
            "?error=invalid_request&state=s",
        ),
        (
            format!("{AUTHORIZE}?client_id={id}&response_type=code&state=s&code_challenge={good}&code_challenge_method=plain"),
            "?error=invalid_request&state=s",
        ),
        (
            format!("{AUTHORIZE}?client_id={id}&response_type=code&state=s&code_challenge=short&code_challenge_method=S256"),
            "?error=invalid_request&state=s",
        ),
        (
            format!("{AUTHORIZE}?client_id={id}&response_type=code&state=s&code_challenge={good}%2B&code_challenge_method=S256"),
            "?error=invalid_request&state=s",
        ),
    ];
    for (path, suffix) in cases {
        // The checks come before the session check.
        let response = app
            .get(&format!("{path}&redirect_uri=https%3A%2F%2Fevil.example"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(
            location(&response),
            format!("{}{suffix}&iss={}", client.redirect_uri, iss(&app)),
            "RFC 9207: the issuer is named"
        );
    }

    // Valid, no session: login first. The same without /index.php.
    let path = format!("/apps/oauth2/authorize?client_id={id}&response_type=code");
    let response = app.get(&path).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/index.php/login?redirect_url=%2Fapps%2Foauth2"));

    // Basic credentials are no browser session either.
    let response = app.get_as_admin(&path).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/index.php/login?redirect_url="));
}

#[tokio::test]
async fn consent_can_be_denied_and_is_single_use_per_user() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    app.create_user("bob", "bob-password-1").await;
    let client = setup(&app).await;
    let alice = logged_in(&app, ALICE).await;
    let bob = logged_in(&app, ("bob", "bob-password-1")).await;

    // Deny.
    let form = consent_form(&app, &alice, &authorize_path(&client.id, "s1", None)).await;
    let response = alice
        .post(app.url("/index.php/login/flow/grant"))
        .form(&[
            ("requesttoken", form.0.as_str()),
            ("request", form.1.as_str()),
            ("decision", "deny"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        format!(
            "{}?error=access_denied&state=s1&iss={}",
            client.redirect_uri,
            iss(&app)
        )
    );
    // Decided once: a second answer finds nothing.
    let response = alice
        .post(app.url("/index.php/login/flow/grant"))
        .form(&[
            ("requesttoken", form.0.as_str()),
            ("request", form.1.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // Without the page's CSRF token: refused, and the request stays pending.
    let form = consent_form(&app, &alice, &authorize_path(&client.id, "s2", None)).await;
    let response = alice
        .post(app.url("/index.php/login/flow/grant"))
        .form(&[("request", form.1.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 412);
    // Another user cannot see or decide alice's request.
    let consent = format!(
        "/index.php/login/flow?clientIdentifier={}&request={}",
        client.id, form.1
    );
    assert_eq!(
        bob.get(app.url(&consent)).send().await.unwrap().status(),
        400
    );
    let bob_token = consent_form(&app, &bob, &authorize_path(&client.id, "b", None))
        .await
        .0;
    let response = bob
        .post(app.url("/index.php/login/flow/grant"))
        .form(&[
            ("requesttoken", bob_token.as_str()),
            ("request", form.1.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // Alice still can.
    let redirect = grant(&app, &alice, &form).await;
    assert!(redirect.starts_with(&format!("{}?state=s2&code=", client.redirect_uri)));
    assert_eq!(
        query_param(&redirect, "iss").as_deref(),
        Some(app.address.as_str()),
        "RFC 9207"
    );

    // Only its digest is stored.
    let stored: Vec<String> = {
        use nextcloud_openproject_app::db::schema::oauth_pending_authorizations as pending;
        pending::table
            .select(pending::id_digest)
            .load(&mut app.db.get().unwrap())
            .unwrap()
    };
    assert!(stored.iter().all(|d| d.len() == 64 && *d != form.1));
    assert!(!stored.contains(&form.1));
}

#[tokio::test]
async fn pkce_is_enforced() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let browser = logged_in(&app, ALICE).await;
    let verifier = random_alphanumeric(64);
    let challenge = oauth_provider::s256_challenge(&verifier);
    let code = code_for(&app, &browser, &client, Some(&challenge)).await;

    // Row 4: challenge, no verifier.
    assert_eq!(
        exchange(&app, &client, &code, None).await,
        (400, error("invalid_request"))
    );
    // Row 5: wrong verifier (the challenge itself, as `plain` would have it).
    assert_eq!(
        exchange(&app, &client, &code, Some(&challenge)).await,
        (400, error("invalid_grant"))
    );
    let (status, body) = exchange(&app, &client, &code, Some(&verifier)).await;
    assert_eq!(status, 200, "{body}");

    // Without a challenge, a verifier is a downgrade: refused like a wrong one. A client that
    // did not use PKCE is not affected.
    let code = code_for(&app, &browser, &client, None).await;
    assert_eq!(
        exchange(&app, &client, &code, Some(&verifier)).await,
        (400, error("invalid_grant"))
    );
    let (status, _) = exchange(&app, &client, &code, None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn each_token_refusal_has_its_exact_body() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let browser = logged_in(&app, ALICE).await;
    let code = code_for(&app, &browser, &client, None).await;

    // Row 1, for every other grant type (checked before anything else).
    for grant_type in ["password", "client_credentials", ""] {
        let (status, body) = token_call(
            &app,
            &[
                ("grant_type", grant_type),
                ("code", &code),
                ("client_id", &client.id),
                ("client_secret", &client.secret),
            ],
        )
        .await;
        assert_eq!((status, &body), (400, &error("invalid_grant")));
        assert_eq!(body, load("nc_oauth_error_invalid_grant"));
    }
    let (status, body) = token_call(&app, &[]).await;
    assert_eq!((status, body), (400, error("invalid_grant")));

    // Row 2: unknown code, unknown refresh token.
    let (status, body) = exchange(&app, &client, "nope", None).await;
    assert_eq!((status, &body), (400, &error("invalid_request")));
    assert_eq!(body, load("nc_oauth_error_invalid_request"));
    assert_eq!(
        refresh(&app, &client, "nope").await,
        (400, error("invalid_request"))
    );

    // Row 7: the client id or secret does not match; Basic replaces the body's values.
    let wrong_secret = NcClient {
        secret: "wrong".into(),
        ..client.clone()
    };
    let (status, body) = exchange(&app, &wrong_secret, &code, None).await;
    assert_eq!((status, &body), (400, &error("invalid_client")));
    assert_eq!(body, load("nc_oauth_error_invalid_client"));
    let wrong_id = NcClient {
        id: "other".into(),
        ..client.clone()
    };
    assert_eq!(
        exchange(&app, &wrong_id, &code, None).await,
        (400, error("invalid_client"))
    );
    let response = app
        .api
        .post(app.url(TOKEN))
        .basic_auth(&client.id, Some("wrong"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(response).await,
        (400, error("invalid_client"))
    );
    // The refusals did not use the code up: Basic with the right values, bad body values.
    let response = app
        .api
        .post(app.url(TOKEN))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_secret", "ignored"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200, "{body}");

    // Row 3: older than 600 s, and then gone.
    let code = code_for(&app, &browser, &client, None).await;
    diesel::update(oauth_codes::table.filter(oauth_codes::code_digest.eq(digest(&code))))
        .set(oauth_codes::expires_at.eq(now_millis() - 1))
        .execute(&mut app.db.get().unwrap())
        .unwrap();
    assert_eq!(
        exchange(&app, &client, &code, None).await,
        (400, error("invalid_request"))
    );
    let left: i64 = oauth_codes::table
        .filter(oauth_codes::code_digest.eq(digest(&code)))
        .count()
        .get_result(&mut app.db.get().unwrap())
        .unwrap();
    assert_eq!(left, 0);

    // Row 6: a code whose client is gone. Deleting the client deletes its codes with it (the
    // foreign key), so the code is not found either: invalid_request.
    let code = code_for(&app, &browser, &client, None).await;
    let (status, _) = app.admin_call(Method::POST, "nc-oauth", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        exchange(&app, &client, &code, None).await,
        (400, error("invalid_request"))
    );
}

#[tokio::test]
async fn parameters_come_from_json_bodies_and_query_strings() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let browser = logged_in(&app, ALICE).await;

    let code = code_for(&app, &browser, &client, None).await;
    let response = app
        .api
        .post(app.url(TOKEN))
        .json(&json!({"grant_type": "authorization_code", "code": code,
            "client_id": client.id, "client_secret": client.secret, "scope": "ignored"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200, "{body}");

    // Client credentials, codes, refresh tokens and verifiers in the URL are refused (they end
    // up in logs and histories), even when the body has them too; `grant_type` may be there.
    let code = code_for(&app, &browser, &client, None).await;
    for (key, value) in [
        ("client_id", client.id.as_str()),
        ("client_secret", client.secret.as_str()),
        ("code", code.as_str()),
        ("refresh_token", "x"),
        ("code_verifier", "x"),
    ] {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(key, value)
            .finish();
        let response = app
            .api
            .post(app.url(&format!("{TOKEN}?{query}")))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("client_id", client.id.as_str()),
                ("client_secret", client.secret.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            status_and_json(response).await,
            (400, error("invalid_request")),
            "{key} in the query"
        );
    }
    let response = app
        .api
        .post(app.url(&format!("{TOKEN}?grant_type=authorization_code")))
        .form(&[
            ("code", code.as_str()),
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(
        status, 200,
        "the code was not spent by the refusals: {body}"
    );
    // The same route without /index.php.
    let response = app
        .api
        .post(app.url("/apps/oauth2/api/v1/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", str_of(&body, "refresh_token")),
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_replayed_code_fails_and_revokes_what_it_produced() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let browser = logged_in(&app, ALICE).await;
    let code = code_for(&app, &browser, &client, None).await;
    let (status, first) = exchange(&app, &client, &code, None).await;
    assert_eq!(status, 200);
    assert_eq!(whoami(&app, str_of(&first, "access_token")).await.0, 200);

    assert_eq!(
        exchange(&app, &client, &code, None).await,
        (400, error("invalid_request"))
    );
    assert_eq!(whoami(&app, str_of(&first, "access_token")).await.0, 401);
    assert_eq!(
        refresh(&app, &client, str_of(&first, "refresh_token")).await,
        (400, error("invalid_request"))
    );
}

#[tokio::test]
async fn both_tokens_rotate_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let first = tokens(&app, &client).await;

    let (status, second) = refresh(&app, &client, str_of(&first, "refresh_token")).await;
    assert_eq!(status, 200, "{second}");
    assert_shape(&second, "nc_oauth_token_response");
    assert_eq!(second["user_id"], "alice");
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    // The old access token stops at once; the new one works.
    assert_eq!(whoami(&app, str_of(&first, "access_token")).await.0, 401);
    assert_eq!(
        whoami(&app, str_of(&second, "access_token")).await,
        (200, Some("alice".into()))
    );

    // Refresh works after the access token expired, and rotates again.
    diesel::update(oauth_tokens::table)
        .set(oauth_tokens::access_expires_at.eq(now_millis() - 1))
        .execute(&mut app.db.get().unwrap())
        .unwrap();
    assert_eq!(whoami(&app, str_of(&second, "access_token")).await.0, 401);
    let (status, third) = refresh(&app, &client, str_of(&second, "refresh_token")).await;
    assert_eq!(status, 200);
    assert_eq!(whoami(&app, str_of(&third, "access_token")).await.0, 200);

    // The rotated-out refresh token presented again: refused, and the live pair dies too.
    assert_eq!(
        refresh(&app, &client, str_of(&first, "refresh_token")).await,
        (400, error("invalid_request"))
    );
    assert_eq!(whoami(&app, str_of(&third, "access_token")).await.0, 401);
    assert_eq!(
        refresh(&app, &client, str_of(&third, "refresh_token")).await,
        (400, error("invalid_request"))
    );

    // A new authorization is unaffected by the old family.
    let fourth = tokens(&app, &client).await;
    assert_eq!(whoami(&app, str_of(&fourth, "access_token")).await.0, 200);
}

/// A crash between commit and response used to cost the user their connection: the retried
/// refresh found its token rotated out and the family revoked. Now a retry within the window,
/// while the new pair is unused, gets the same new pair; nothing else changes.
#[tokio::test]
async fn a_retried_refresh_gets_the_same_pair_and_reuse_still_revokes() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let first = tokens(&app, &client).await;

    let (status, second) = refresh(&app, &client, str_of(&first, "refresh_token")).await;
    assert_eq!(status, 200, "{second}");
    for _ in 0..2 {
        let (status, again) = refresh(&app, &client, str_of(&first, "refresh_token")).await;
        assert_eq!(status, 200, "{again}");
        assert_shape(&again, "nc_oauth_token_response");
        assert_eq!(again["access_token"], second["access_token"]);
        assert_eq!(again["refresh_token"], second["refresh_token"]);
        assert_eq!(again["user_id"], "alice");
    }
    // The old access token still stopped at once.
    assert_eq!(whoami(&app, str_of(&first, "access_token")).await.0, 401);

    // Once the new pair is used, the old refresh token is a replay: the family dies.
    assert_eq!(whoami(&app, str_of(&second, "access_token")).await.0, 200);
    assert_eq!(
        refresh(&app, &client, str_of(&first, "refresh_token")).await,
        (400, error("invalid_request"))
    );
    assert_eq!(whoami(&app, str_of(&second, "access_token")).await.0, 401);

    // Past the window, an unused new pair does not save the old token either.
    let first = tokens(&app, &client).await;
    let (_, second) = refresh(&app, &client, str_of(&first, "refresh_token")).await;
    diesel::update(oauth_tokens::table.filter(oauth_tokens::retry_until.is_not_null()))
        .set(oauth_tokens::retry_until.eq(Some(now_millis() - 1)))
        .execute(&mut app.db.get().unwrap())
        .unwrap();
    assert_eq!(
        refresh(&app, &client, str_of(&first, "refresh_token")).await,
        (400, error("invalid_request"))
    );
    assert_eq!(
        refresh(&app, &client, str_of(&second, "refresh_token")).await,
        (400, error("invalid_request"))
    );
}

#[tokio::test]
async fn a_refresh_token_of_another_client_is_refused() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let pair = tokens(&app, &client).await;
    // A second client, written straight to the table (the app keeps at most one).
    let other_secret = random_alphanumeric(64);
    nextcloud_openproject_app::db::oauth_clients::insert(
        &mut app.db.get().unwrap(),
        &nextcloud_openproject_app::db::oauth_clients::NewOAuthClientRow {
            name: "Other",
            client_identifier: "other-client",
            secret_digest: &digest(&other_secret),
            redirect_uri: "https://other.example/cb",
            created_at: now_millis(),
        },
    )
    .unwrap();
    let other = NcClient {
        id: "other-client".into(),
        secret: other_secret,
        redirect_uri: "https://other.example/cb".into(),
    };
    assert_eq!(
        refresh(&app, &other, str_of(&pair, "refresh_token")).await,
        (400, error("invalid_client"))
    );
    // Its own client still refreshes it.
    let (status, _) = refresh(&app, &client, str_of(&pair, "refresh_token")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bearer_tokens_that_do_not_authenticate_leave_requests_anonymous() {
    let app = spawn_app_with(|s| {
        s.common.throttle = ThrottlePolicy {
            free_failures: 1,
            max_failures: 2,
            window_millis: 60_000,
        }
    })
    .await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let pair = tokens(&app, &client).await;
    let access = str_of(&pair, "access_token").to_string();
    diesel::update(oauth_tokens::table)
        .set(oauth_tokens::access_expires_at.eq(now_millis() - 1))
        .execute(&mut app.db.get().unwrap())
        .unwrap();

    for token in [access.as_str(), "unknown-token", "TESTBEARERTOKEN"] {
        for _ in 0..3 {
            let (status, _) = whoami(&app, token).await;
            assert_eq!(status, 401);
            let response = app
                .get("/index.php/apps/integration_openproject/op-oauth-url")
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(
                status_and_json(response).await,
                (401, json!({ "message": messages::NOT_LOGGED_IN }))
            );
            let response = app
                .get("/index.php/apps/integration_openproject/check-config")
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let (status, body) = status_and_json(response).await;
            assert_eq!(status, 200);
            assert_eq!(body["user_id"], "");
        }
    }
    // None of them counted as a failed login.
    let response = app
        .get_as("/ocs/v2.php/cloud/user?format=json", ALICE.0, ALICE.1)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn disabled_users_authenticate_nowhere() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let pair = tokens(&app, &client).await;
    let access = str_of(&pair, "access_token");
    assert_eq!(whoami(&app, access).await.0, 200);
    app.db_set_enabled(ALICE.0, false);
    assert_eq!(whoami(&app, access).await.0, 401);
    app.db_set_enabled(ALICE.0, true);
    assert_eq!(whoami(&app, access).await.0, 200);
}

#[tokio::test]
async fn resets_end_every_token_of_the_old_client_at_once() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;

    // A second POST /setup, POST /nc-oauth and DELETE /setup each rotate or delete the client.
    for action in ["setup", "nc-oauth", "delete"] {
        let client = setup(&app).await;
        let pair = tokens(&app, &client).await;
        let browser = logged_in(&app, ALICE).await;
        let pending_code = code_for(&app, &browser, &client, None).await;
        assert_eq!(whoami(&app, str_of(&pair, "access_token")).await.0, 200);
        match action {
            "setup" => {
                setup(&app).await;
            }
            "nc-oauth" => {
                let (status, body) = app.admin_call(Method::POST, "nc-oauth", None).await;
                assert_eq!(status, 200, "{body}");
            }
            _ => {
                let (status, _) = app.admin_call(Method::DELETE, "setup", None).await;
                assert_eq!(status, 200);
            }
        }
        assert_eq!(
            whoami(&app, str_of(&pair, "access_token")).await.0,
            401,
            "{action}"
        );
        assert_eq!(
            refresh(&app, &client, str_of(&pair, "refresh_token")).await,
            (400, error("invalid_request")),
            "{action}"
        );
        assert_eq!(
            exchange(&app, &client, &pending_code, None).await,
            (400, error("invalid_request")),
            "{action}"
        );
        let conn = &mut app.db.get().unwrap();
        let tokens_left: i64 = oauth_tokens::table.count().get_result(conn).unwrap();
        let codes_left: i64 = oauth_codes::table.count().get_result(conn).unwrap();
        assert_eq!((tokens_left, codes_left), (0, 0), "{action}");
    }
    // After a new setup, users connect again.
    let client = setup(&app).await;
    let pair = tokens(&app, &client).await;
    assert_eq!(whoami(&app, str_of(&pair, "access_token")).await.0, 200);
}

#[tokio::test]
async fn codes_and_tokens_are_stored_only_as_digests() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let browser = logged_in(&app, ALICE).await;
    let verifier = random_alphanumeric(64);
    let challenge = oauth_provider::s256_challenge(&verifier);
    let code = code_for(&app, &browser, &client, Some(&challenge)).await;
    let (status, pair) = exchange(&app, &client, &code, Some(&verifier)).await;
    assert_eq!(status, 200);
    let conn = &mut app.db.get().unwrap();

    let codes: Vec<(String, Option<String>)> = oauth_codes::table
        .select((oauth_codes::code_digest, oauth_codes::code_challenge))
        .load(conn)
        .unwrap();
    assert_eq!(codes, vec![(digest(&code), Some(challenge))]);
    let tokens: Vec<(String, Option<String>, String)> = oauth_tokens::table
        .select((
            oauth_tokens::access_digest,
            oauth_tokens::refresh_digest,
            oauth_tokens::subject,
        ))
        .load(conn)
        .unwrap();
    // Of each token's verifier, after its 11-character selector (the pair's id, by which it is
    // found).
    let verifier = |token: &str| digest(&str_of(&pair, token)[11..]);
    assert_eq!(
        tokens,
        vec![(
            verifier("access_token"),
            Some(verifier("refresh_token")),
            "alice".to_string()
        )]
    );
    // The client secret too.
    let clients = app.db_oauth_clients();
    assert!(
        clients[0].secret_digest.starts_with("hmac-sha256:"),
        "keyed"
    );
    assert_ne!(
        clients[0].secret_digest,
        format!("hmac-sha256:{}", digest(&client.secret))
    );
    // No plaintext anywhere in the database file's tables we own.
    let dump = format!("{codes:?}{tokens:?}{clients:?}");
    for secret in [
        code.as_str(),
        &str_of(&pair, "access_token")[11..],
        &str_of(&pair, "refresh_token")[11..],
        client.secret.as_str(),
    ] {
        assert!(!dump.contains(secret));
    }
}

/// A token call sent by `from`; status and JSON body.
async fn token_call_from(from: &Client, app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    status_and_json(from.post(app.url(TOKEN)).form(form).send().await.unwrap()).await
}

fn too_many_requests() -> (u16, Value) {
    (429, json!({ "message": messages::TOO_MANY_REQUESTS }))
}

/// The client id is public; requests without the secret, from any address, never make the real
/// client's grants fail, nor anyone's password.
#[tokio::test]
async fn failures_without_the_secret_never_refuse_a_valid_grant() {
    let app = spawn_app_with(|s| {
        s.common.throttle = ThrottlePolicy {
            free_failures: 30,
            max_failures: 30,
            window_millis: 60_000,
        }
    })
    .await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let browser = logged_in(&app, ALICE).await;
    let code = code_for(&app, &browser, &client, None).await;
    let guesses = [
        ("grant_type", "authorization_code"),
        ("code", "guessed-code"),
        ("client_id", client.id.as_str()),
        ("client_secret", "wrong"),
    ];
    for attacker in ["127.0.0.3", "127.0.0.1"] {
        let from = client_from(attacker);
        for attempt in 1..=30 {
            let (status, body) = token_call_from(&from, &app, &guesses).await;
            assert_eq!(
                (status, body),
                (400, error("invalid_request")),
                "{attacker}, attempt {attempt}"
            );
        }
        assert_eq!(
            token_call_from(&from, &app, &guesses).await,
            too_many_requests(),
            "{attacker}: the failures are throttled"
        );
    }
    // The real client from the attacker's address: its code, then a refresh, from another.
    let (status, pair) = token_call_from(
        &client_from("127.0.0.1"),
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_str()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(whoami(&app, str_of(&pair, "access_token")).await.0, 200);
    let (status, pair) = token_call_from(
        &client_from("127.0.0.3"),
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", str_of(&pair, "refresh_token")),
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_str()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(
        whoami(&app, str_of(&pair, "access_token")).await,
        (200, Some(ALICE.0.to_string()))
    );
    // Password logins from that address are not token failures.
    let response = app
        .get_as("/ocs/v2.php/cloud/user?format=json", ALICE.0, ALICE.1)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// OpenProject refreshes every stored token from its one address; many of them may be stale
/// (a user disconnected, a reset). It holds the secret: each failure gets its real answer, so
/// it can drop the token, and its valid grants go on.
#[tokio::test]
async fn stale_refreshes_of_the_real_client_never_refuse_its_valid_grants() {
    let app = spawn_app_with(|s| {
        s.common.throttle = ThrottlePolicy {
            free_failures: 2,
            max_failures: 3,
            window_millis: 60_000,
        }
    })
    .await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let fresh = tokens(&app, &client).await;
    for n in 0..10 {
        let unknown = format!("stale-refresh-token-{n}");
        assert_eq!(
            refresh(&app, &client, &unknown).await,
            (400, error("invalid_request")),
            "stale token {n}"
        );
    }
    let (status, body) = refresh(&app, &client, str_of(&fresh, "refresh_token")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(whoami(&app, str_of(&body, "access_token")).await.0, 200);
    assert!(app.db_throttle_keys().is_empty(), "nothing was counted");
}

/// Request fields are bounded before anything is stored; what the throttle stores is a
/// fixed-size digest whatever a request sent.
#[tokio::test]
async fn huge_client_ids_store_nothing_and_throttle_rows_have_a_fixed_size() {
    let app = spawn_app().await;
    let huge = random_alphanumeric(900 * 1024);
    let before = app.db_bytes();
    for _ in 0..30 {
        let (status, body) = token_call(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("client_id", huge.as_str()),
                ("client_secret", "wrong"),
            ],
        )
        .await;
        assert_eq!((status, body), (400, error("invalid_request")));
    }
    let grown = app.db_bytes() - before;
    assert!(grown < 512 * 1024, "the database grew by {grown} bytes");
    assert!(app.db_throttle_keys().is_empty(), "nothing was counted");
    for n in 0..5 {
        let id = format!("{}{n}", "c".repeat(250));
        let (status, _) = token_call(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("client_id", id.as_str()),
                ("client_secret", "wrong"),
            ],
        )
        .await;
        assert_eq!(status, 400);
    }
    let keys = app.db_throttle_keys();
    assert_eq!(keys.len(), 1, "one per address: {keys:?}");
    assert!(keys[0].len() == 64 && keys[0].bytes().all(|b| b.is_ascii_hexdigit()));
}

/// `X-Forwarded-For` names the client only when a trusted proxy sent it.
#[tokio::test]
async fn forwarded_for_counts_only_from_trusted_proxies() {
    let policy = ThrottlePolicy {
        free_failures: 3,
        max_failures: 3,
        window_millis: 60_000,
    };
    let guess_via = |app: &TestApp, from: &Client, forwarded_for: &str| {
        from.post(app.url(TOKEN))
            .header("X-Forwarded-For", forwarded_for)
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
    };

    let app = spawn_app_with(|s| s.common.throttle = policy).await;
    for n in 1..=3 {
        let response = guess_via(&app, &app.api, &format!("203.0.113.{n}")).await;
        assert_eq!(response.unwrap().status(), 400);
    }
    let response = guess_via(&app, &app.api, "203.0.113.9").await.unwrap();
    assert_eq!(response.status(), 429, "all counted as the peer");

    let app = spawn_app_with(|s| {
        s.common.throttle = policy;
        s.common.trusted_proxies =
            service_kit::client_address::TrustedProxies::parse("127.0.0.1/32").unwrap();
    })
    .await;
    for _ in 1..=3 {
        let response = guess_via(&app, &app.api, "203.0.113.1").await.unwrap();
        assert_eq!(response.status(), 400);
    }
    let response = guess_via(&app, &app.api, "198.51.100.7, 203.0.113.1").await;
    assert_eq!(
        response.unwrap().status(),
        429,
        "203.0.113.1 is over the limit"
    );
    let response = guess_via(&app, &app.api, "203.0.113.2").await.unwrap();
    assert_eq!(response.status(), 400, "203.0.113.2 is another client");
    let direct = client_from("127.0.0.2");
    for n in 1..=3 {
        let response = guess_via(&app, &direct, &format!("198.51.100.{n}")).await;
        assert_eq!(response.unwrap().status(), 400);
    }
    let response = guess_via(&app, &direct, "198.51.100.9").await.unwrap();
    assert_eq!(response.status(), 429, "counted as 127.0.0.2");
}

#[tokio::test]
async fn a_new_openproject_url_moves_the_redirect_uri_and_keeps_the_tokens() {
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup(&app).await;
    let pair = tokens(&app, &client).await;
    let (status, body) = app
        .setup(
            Method::PATCH,
            json!({"openproject_instance_url": "https://op.example.org/"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let moved = format!(
        "https://op.example.org/oauth_clients/{}/callback",
        client.id
    );
    assert_eq!(body["openproject_redirect_uri"], moved.as_str());
    // No token changes.
    assert_eq!(whoami(&app, str_of(&pair, "access_token")).await.0, 200);
    let (status, _) = refresh(&app, &client, str_of(&pair, "refresh_token")).await;
    assert_eq!(status, 200);
    // New grants go to the new URI.
    let browser = logged_in(&app, ALICE).await;
    let form = consent_form(&app, &browser, &authorize_path(&client.id, "s", None)).await;
    assert!(grant(&app, &browser, &form)
        .await
        .starts_with(&format!("{moved}?state=s&code=")));
}
