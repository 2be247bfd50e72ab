//! OpenProject as OAuth authorization server (spec/oauth.md §2): a browser signs in, consents,
//! and the client exchanges, refreshes, introspects and revokes.

use diesel::RunQueryDsl;
use reqwest::{header, Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use service_kit::crypto::digest;
use storage_protocol::storages::PROVIDER_NEXTCLOUD;

use crate::{
    fake_nextcloud::{Behaviour, FakeNextcloud},
    helpers::{
        client_from, fixture, spawn_app, spawn_app_configured, spawn_app_with, TestApp, ADMIN,
        ADMIN_PASSWORD, PASSWORD,
    },
};

const INVALID_GRANT: &str = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";

/// A storage's OAuth application: what Nextcloud holds.
struct OAuthApp {
    id: String,
    secret: String,
    redirect_uri: String,
    storage_id: i64,
}

async fn application(app: &TestApp, name: &str) -> OAuthApp {
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let response = app
        .admin_json(
            Method::POST,
            "/api/v3/storages",
            &json!({"name": name, "_links": {"origin": {"href": nextcloud.url}, "type": {"href": PROVIDER_NEXTCLOUD}}}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let storage: Value = response.json().await.unwrap();
    let application = &storage["_embedded"]["oauthApplication"];
    OAuthApp {
        id: application["clientId"].as_str().unwrap().into(),
        secret: application["clientSecret"].as_str().unwrap().into(),
        redirect_uri: application["_links"]["redirectUri"][0]["href"]
            .as_str()
            .unwrap()
            .into(),
        storage_id: storage["id"].as_i64().unwrap(),
    }
}

/// A browser signed in as `login`: keeps cookies, does not follow redirects.
async fn browser(app: &TestApp, login: &str, password: &str) -> Client {
    let browser = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = app.sign_in(&browser, login, password, "/").await;
    assert_eq!(response.status(), 302, "signed in");
    browser
}

fn location(response: &Response) -> url::Url {
    let raw = response.headers()[header::LOCATION].to_str().unwrap();
    url::Url::parse(raw)
        .unwrap_or_else(|_| url::Url::parse(&format!("http://relative{raw}")).unwrap())
}

fn query(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn authorize_url(app: &TestApp, client: &OAuthApp, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&app.url("/oauth/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", &client.redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("state", "xyz");
    for (k, v) in extra {
        url.query_pairs_mut().append_pair(k, v);
    }
    url.to_string()
}

/// The hidden fields of the consent page's approve form.
fn consent_fields(html: &str) -> Vec<(String, String)> {
    let form = html.split("</form>").next().unwrap();
    form.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|input| {
            let attribute = |name: &str| {
                let start = input.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                let end = start + input[start..].find('"').unwrap();
                input[start..end]
                    .replace("&amp;", "&")
                    .replace("&#x2F;", "/")
                    .replace("&quot;", "\"")
            };
            (attribute("name"), attribute("value"))
        })
        .collect()
}

/// Consent and approve; returns the code delivered at the redirect URI.
async fn authorize(
    app: &TestApp,
    browser: &Client,
    client: &OAuthApp,
    extra: &[(&str, &str)],
) -> String {
    let page = browser
        .get(authorize_url(app, client, extra))
        .send()
        .await
        .unwrap();
    let redirect = if page.status() == StatusCode::OK {
        assert_eq!(
            page.headers()["content-security-policy"],
            "frame-ancestors 'none'"
        );
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        let html = page.text().await.unwrap();
        assert!(html.contains("(Nextcloud)"), "names the application");
        browser
            .post(app.url("/oauth/authorize"))
            .form(&consent_fields(&html))
            .send()
            .await
            .unwrap()
    } else {
        page
    };
    assert_eq!(redirect.status(), 302);
    let target = location(&redirect);
    assert!(
        target.as_str().starts_with(&client.redirect_uri),
        "{target}"
    );
    assert_eq!(query(&target, "state").as_deref(), Some("xyz"));
    assert_eq!(
        query(&target, "iss").as_deref(),
        Some(app.base.as_str()),
        "RFC 9207"
    );
    query(&target, "code").expect("a code")
}

async fn token_request(app: &TestApp, client: &OAuthApp, form: &[(&str, &str)]) -> Response {
    app.client
        .post(app.url("/oauth/token"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn exchange(
    app: &TestApp,
    client: &OAuthApp,
    code: &str,
    verifier: Option<&str>,
) -> Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", client.redirect_uri.as_str()),
    ];
    if let Some(verifier) = verifier {
        form.push(("code_verifier", verifier));
    }
    token_request(app, client, &form).await
}

async fn tokens(response: Response) -> (String, String) {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    (
        body["access_token"].as_str().unwrap().into(),
        body["refresh_token"].as_str().unwrap().into(),
    )
}

async fn me(app: &TestApp, access_token: &str) -> StatusCode {
    app.get("/api/v3/users/me")
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn error_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_user_authorizes_nextcloud_and_the_token_works_on_the_api() {
    let app = spawn_app().await;
    let client = application(&app, "Nextcloud").await;
    let alice = app.create_user("alice").await;

    // Without a session: to the login page and back.
    let response = app
        .client
        .get(authorize_url(&app, &client, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let login = location(&response);
    assert_eq!(login.path(), "/login");
    assert_eq!(
        query(&login, "back_url").unwrap(),
        authorize_url(&app, &client, &[])
    );

    let browser = browser(&app, "alice", PASSWORD).await;
    let code = authorize(&app, &browser, &client, &[]).await;
    assert_eq!(code.len(), 43);

    let response = exchange(&app, &client, &code, None).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 7200);
    assert_eq!(body["scope"], "api_v3");
    assert!(body["created_at"].as_i64().unwrap() > 1_700_000_000);
    let access = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(access.len(), 43);

    let user: Value = app
        .get("/api/v3/users/me")
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["id"], alice);

    // Token info and introspection.
    let info: Value = app
        .get("/oauth/token/info")
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["resource_owner_id"], alice);
    assert_eq!(info["scope"], json!(["api_v3"]));
    assert_eq!(info["application"]["uid"], client.id);
    assert!(info["expires_in"].as_i64().unwrap() > 7000);
    let introspection: Value = app
        .client
        .post(app.url("/oauth/introspect"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspection["active"], true);
    assert_eq!(introspection["client_id"], client.id);
    assert_eq!(introspection["scope"], "api_v3");
    // The token itself may authenticate the introspection call.
    let introspection: Value = app
        .client
        .post(app.url("/oauth/introspect"))
        .bearer_auth(&access)
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspection["active"], true);

    // The second authorization skips the consent page.
    let response = browser
        .get(authorize_url(&app, &client, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302, "consent remembered");
    assert!(query(&location(&response), "code").is_some());

    // Only digests are stored: of the token's verifier, after its 11-character selector (the
    // pair's id, by which it is found).
    let token_digest = digest(&access[11..]);
    let count = app
        .db
        .query(move |conn| {
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            diesel::sql_query(format!(
                "SELECT COUNT(*) AS n FROM oauth_tokens WHERE access_digest = '{token_digest}'"
            ))
            .get_result::<Row>(conn)
        })
        .await
        .unwrap();
    assert_eq!(count.n, 1);
}

#[tokio::test]
async fn the_authorize_checks_come_in_the_contracts_order() {
    let app = spawn_app().await;
    let client = application(&app, "Nextcloud").await;
    let browser = browser(&app, ADMIN, ADMIN_PASSWORD).await;
    let get = |url: String| {
        let browser = browser.clone();
        async move { browser.get(url).send().await.unwrap() }
    };
    let base = app.url("/oauth/authorize");

    // Unknown client and wrong redirect URI: an error page, no redirect.
    for url in [
        format!(
            "{base}?client_id=unknown&redirect_uri={}&response_type=code",
            client.redirect_uri
        ),
        format!("{base}?response_type=code"),
        format!(
            "{base}?client_id={}&redirect_uri=https://evil.example/cb&response_type=code",
            client.id
        ),
        format!(
            "{base}?client_id={}&redirect_uri={}/&response_type=code",
            client.id, client.redirect_uri
        ),
    ] {
        let response = get(url.clone()).await;
        assert_eq!(response.status(), 400, "{url}");
        assert!(response.headers().get(header::LOCATION).is_none());
        let html = response.text().await.unwrap();
        assert!(
            html.contains("invalid_client") || html.contains("invalid_redirect_uri"),
            "{html}"
        );
    }

    let redirected_error = |response: Response| {
        assert_eq!(response.status(), 302);
        let target = location(&response);
        assert!(target.as_str().starts_with(&client.redirect_uri));
        assert_eq!(
            query(&target, "iss").as_deref(),
            Some(app.base.as_str()),
            "RFC 9207"
        );
        (
            query(&target, "error").unwrap(),
            query(&target, "error_description").unwrap(),
            query(&target, "state"),
        )
    };
    let url = format!(
        "{base}?client_id={}&redirect_uri={}&response_type=token&state=s1",
        client.id, client.redirect_uri
    );
    assert_eq!(
        redirected_error(get(url).await),
        (
            "unsupported_response_type".into(),
            "The authorization server does not support this response type.".into(),
            Some("s1".into())
        )
    );
    let url = format!(
        "{base}?client_id={}&redirect_uri={}&response_type=code&scope=admin",
        client.id, client.redirect_uri
    );
    assert_eq!(
        redirected_error(get(url).await),
        (
            "invalid_scope".into(),
            "The requested scope is invalid, unknown, or malformed.".into(),
            None
        )
    );
    let url = format!("{base}?client_id={}&redirect_uri={}&response_type=code&code_challenge=abc&code_challenge_method=S512", client.id, client.redirect_uri);
    assert_eq!(
        redirected_error(get(url).await),
        (
            "invalid_request".into(),
            "The code challenge method must be S256.".into(),
            None
        )
    );
    // Without redirect_uri the single registered one is used.
    let url = format!("{base}?client_id={}&response_type=code", client.id);
    let page = get(url).await;
    assert_eq!(page.status(), 200);

    // Deny, from the form or with DELETE.
    let html = browser
        .get(authorize_url(&app, &client, &[]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut fields = consent_fields(&html);
    fields.push(("_method".into(), "delete".into()));
    let denied = browser
        .post(app.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(
        redirected_error(denied),
        (
            "access_denied".into(),
            "The resource owner or authorization server denied the request.".into(),
            Some("xyz".into())
        )
    );
    let denied = browser
        .delete(app.url("/oauth/authorize"))
        .form(&consent_fields(&html))
        .send()
        .await
        .unwrap();
    assert_eq!(redirected_error(denied).0, "access_denied");

    // A consent form without its token is refused.
    let forged: Vec<_> = consent_fields(&html)
        .into_iter()
        .filter(|(k, _)| k != "authenticity_token")
        .collect();
    let response = browser
        .post(app.url("/oauth/authorize"))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn pkce_is_enforced_when_a_challenge_was_given() {
    let app = spawn_app().await;
    let client = application(&app, "Nextcloud").await;
    let browser = browser(&app, ADMIN, ADMIN_PASSWORD).await;
    let verifier = "a-verifier-of-at-least-forty-three-characters-xyz";
    let challenge = oauth_provider::s256_challenge(verifier);
    let extra = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = authorize(&app, &browser, &client, &extra).await;
    let (status, body) = error_of(exchange(&app, &client, &code, None).await).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_grant"),
        "without verifier"
    );
    let (_, body) = error_of(exchange(&app, &client, &code, Some("wrong-verifier")).await).await;
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": INVALID_GRANT})
    );
    let (access, _) = tokens(exchange(&app, &client, &code, Some(verifier)).await).await;
    assert_eq!(me(&app, &access).await, 200);
}

/// RFC 9700 §2.1.1: `plain` is refused (S256 is what Nextcloud's app sends), a challenge must
/// have RFC 7636's shape, and a verifier for a code issued without a challenge is a downgrade.
#[tokio::test]
async fn pkce_is_s256_only_well_formed_and_never_downgraded() {
    let app = spawn_app().await;
    let client = application(&app, "Nextcloud").await;
    let browser = browser(&app, ADMIN, ADMIN_PASSWORD).await;
    let verifier = "a-verifier-of-at-least-forty-three-characters-xyz";
    let method_refused = "The code challenge method must be S256.";
    let malformed = "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.";
    let too_long = "a".repeat(129);
    let bad_alphabet = format!("{}+/=", "a".repeat(43));
    let s256 = oauth_provider::s256_challenge(verifier);
    for (challenge, method, description) in [
        (verifier, Some("plain"), method_refused),
        (verifier, None, method_refused),
        ("short", Some("S256"), malformed),
        (too_long.as_str(), Some("S256"), malformed),
        (bad_alphabet.as_str(), Some("S256"), malformed),
    ] {
        let mut extra = vec![("code_challenge", challenge)];
        extra.extend(method.map(|m| ("code_challenge_method", m)));
        let response = browser
            .get(authorize_url(&app, &client, &extra))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "{challenge} {method:?}");
        let target = location(&response);
        assert!(target.as_str().starts_with(&client.redirect_uri));
        assert_eq!(
            query(&target, "error").as_deref(),
            Some("invalid_request"),
            "{challenge} {method:?}"
        );
        assert_eq!(
            query(&target, "error_description").as_deref(),
            Some(description)
        );
        assert_eq!(query(&target, "code"), None);
    }
    // The consent form cannot smuggle `plain` in either.
    let html = browser
        .get(authorize_url(
            &app,
            &client,
            &[("code_challenge", &s256), ("code_challenge_method", "S256")],
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let fields: Vec<_> = consent_fields(&html)
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "code_challenge" => (k, verifier.to_string()),
            "code_challenge_method" => (k, "plain".to_string()),
            _ => (k, v),
        })
        .collect();
    let response = browser
        .post(app.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(
        query(&location(&response), "error").as_deref(),
        Some("invalid_request")
    );

    // Downgrade: a code issued without a challenge, redeemed with a verifier.
    let code = authorize(&app, &browser, &client, &[]).await;
    let (status, body) = error_of(exchange(&app, &client, &code, Some(verifier)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": INVALID_GRANT})
    );
    // A client that did not use PKCE is not affected.
    let (access, _) = tokens(exchange(&app, &client, &code, None).await).await;
    assert_eq!(me(&app, &access).await, 200);
}

#[tokio::test]
async fn a_replayed_code_fails_and_revokes_what_it_produced() {
    let app = spawn_app().await;
    let client = application(&app, "Nextcloud").await;
    let browser = browser(&app, ADMIN, ADMIN_PASSWORD).await;
    let code = authorize(&app, &browser, &client, &[]).await;
    let (access, refresh) = tokens(exchange(&app, &client, &code, None).await).await;
    assert_eq!(me(&app, &access).await, 200);

    let (status, body) = error_of(exchange(&app, &client, &code, None).await).await;
    assert_eq!(status, 400);
    assert_eq!(body, fixture("op_oauth_error_invalid_grant"));
    assert_eq!(me(&app, &access).await, 401);
    let (_, body) = error_of(
        token_request(
            &app,
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await,
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");

    // A code bound to another redirect URI, or presented by another client.
    let other = application(&app, "Other").await;
    let code = authorize(&app, &browser, &client, &[]).await;
    let (_, body) = error_of(exchange(&app, &other, &code, None).await).await;
    assert_eq!(body["error"], "invalid_grant");
    let (_, body) = error_of(
        token_request(
            &app,
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://elsewhere.example/cb"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn the_token_endpoint_answers_each_malformed_request_as_specified() {
    let app = spawn_app().await;
    let client = application(&app, "Nextcloud").await;

    let response = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&client.id, Some(&client.secret))
        .json(&json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));

    let (status, body) = error_of(token_request(&app, &client, &[]).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": "Missing required parameter: grant_type."})
    );
    let (_, body) = error_of(
        token_request(
            &app,
            &client,
            &[("grant_type", "authorization_code"), ("redirect_uri", "x")],
        )
        .await,
    )
    .await;
    assert_eq!(
        body["error_description"],
        "Missing required parameter: code."
    );
    let (_, body) =
        error_of(token_request(&app, &client, &[("grant_type", "refresh_token")]).await).await;
    assert_eq!(
        body["error_description"],
        "Missing required parameter: refresh_token."
    );
    for grant in ["client_credentials", "password", "implicit"] {
        let (status, body) =
            error_of(token_request(&app, &client, &[("grant_type", grant)]).await).await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported by the authorization server."})
        );
    }

    // Client authentication: wrong secret, none at all, unknown client.
    let invalid_client = json!({"error": "invalid_client", "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."});
    for request in [
        app.client
            .post(app.url("/oauth/token"))
            .basic_auth(&client.id, Some("wrong")),
        app.client.post(app.url("/oauth/token")),
        app.client
            .post(app.url("/oauth/token"))
            .basic_auth("unknown", Some(&client.secret)),
    ] {
        let response = request
            .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_some());
        assert_eq!(response.json::<Value>().await.unwrap(), invalid_client);
    }
    // Form fields authenticate too.
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "unknown"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1["error"], "invalid_grant");
}

#[tokio::test]
async fn refresh_rotates_with_a_grace_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let client = application(&app, "Nextcloud").await;
    let other = application(&app, "Other").await;
    let browser = browser(&app, ADMIN, ADMIN_PASSWORD).await;
    let code = authorize(&app, &browser, &client, &[]).await;
    let (access1, refresh1) = tokens(exchange(&app, &client, &code, None).await).await;

    // Another client cannot use this refresh token; nothing is revoked by the attempt.
    let (_, body) = error_of(
        token_request(
            &app,
            &other,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh1),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(me(&app, &access1).await, 200);
    // Scope beyond the grant.
    let (_, body) = error_of(
        token_request(
            &app,
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh1),
                ("scope", "api_v3 admin"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(body["error"], "invalid_scope");

    let (access2, refresh2) = tokens(
        token_request(
            &app,
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh1),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        me(&app, &access1).await,
        200,
        "the old pair lives until the new one is used"
    );
    assert_eq!(me(&app, &access2).await, 200);
    assert_eq!(
        me(&app, &access1).await,
        401,
        "retired by the first use of its successor"
    );

    // The retired refresh token comes back: the whole family is revoked.
    let (_, body) = error_of(
        token_request(
            &app,
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh1),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(me(&app, &access2).await, 401);
    let (_, body) = error_of(
        token_request(
            &app,
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh2),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");
}

async fn refresh_with(app: &TestApp, client: &OAuthApp, refresh_token: &str) -> Response {
    token_request(
        app,
        client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// RFC 9700 §4.14.2: a replayed refresh token never starts a second live chain. Within the
/// grace window, while the successor is unused, it gets that same successor (a client whose
/// response was lost retries safely); afterwards, or once the successor was used, the family
/// is revoked.
#[tokio::test]
async fn a_replayed_refresh_token_gets_the_same_successor_never_a_second_chain() {
    let app = spawn_app().await;
    let client = application(&app, "Nextcloud").await;
    let browser = browser(&app, ADMIN, ADMIN_PASSWORD).await;
    let code = authorize(&app, &browser, &client, &[]).await;
    let (_, refresh1) = tokens(exchange(&app, &client, &code, None).await).await;

    let first = refresh_with(&app, &client, &refresh1).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    // The response was lost (or the token was stolen): the same request again, twice.
    for _ in 0..2 {
        let again = refresh_with(&app, &client, &refresh1).await;
        assert_eq!(again.status(), 200);
        assert_eq!(again.headers()["cache-control"], "no-store");
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["access_token"], first["access_token"]);
        assert_eq!(again["refresh_token"], first["refresh_token"]);
        assert_eq!(again["scope"], "api_v3");
        assert_eq!(again["created_at"], first["created_at"]);
    }
    // The successor is kept only sealed, and never as plaintext.
    let refresh2 = first["refresh_token"].as_str().unwrap().to_string();
    let stored = app
        .db
        .query(|conn| {
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
                successor_sealed: Option<String>,
            }
            diesel::sql_query("SELECT successor_sealed FROM oauth_tokens").load::<Row>(conn)
        })
        .await
        .unwrap();
    assert_eq!(
        stored
            .iter()
            .filter(|r| r.successor_sealed.is_some())
            .count(),
        1
    );
    assert!(stored
        .iter()
        .flat_map(|r| r.successor_sealed.as_deref())
        .all(|sealed| sealed.starts_with("v1.") && !sealed.contains(&refresh2)));

    // Once the successor is used, the old token is a replay: the family dies.
    let access2 = first["access_token"].as_str().unwrap();
    assert_eq!(me(&app, access2).await, 200);
    let (_, body) = error_of(refresh_with(&app, &client, &refresh1).await).await;
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(me(&app, access2).await, 401);
    let (_, body) = error_of(refresh_with(&app, &client, &refresh2).await).await;
    assert_eq!(body["error"], "invalid_grant");

    // After the grace window, a replay of the unused successor's predecessor revokes too.
    let code = authorize(&app, &browser, &client, &[]).await;
    let (_, refresh1) = tokens(exchange(&app, &client, &code, None).await).await;
    let (access2, refresh2) = tokens(refresh_with(&app, &client, &refresh1).await).await;
    app.db
        .query(|conn| {
            diesel::sql_query(
                "UPDATE oauth_tokens SET retry_until = 1 WHERE retry_until IS NOT NULL",
            )
            .execute(conn)
        })
        .await
        .unwrap();
    let (_, body) = error_of(refresh_with(&app, &client, &refresh1).await).await;
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(me(&app, &access2).await, 401);
    let (_, body) = error_of(refresh_with(&app, &client, &refresh2).await).await;
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn revocation_and_the_application_lifecycle_end_tokens_at_once() {
    let app = spawn_app().await;
    let client = application(&app, "Nextcloud").await;
    let other = application(&app, "Other").await;
    let browser = browser(&app, ADMIN, ADMIN_PASSWORD).await;

    let code = authorize(&app, &browser, &client, &[]).await;
    let (access, refresh) = tokens(exchange(&app, &client, &code, None).await).await;
    let revoke = |by: &OAuthApp, token: &str| {
        app.client
            .post(app.url("/oauth/revoke"))
            .basic_auth(&by.id, Some(&by.secret))
            .form(&[("token", token)])
            .send()
    };
    let (status, body) = error_of(revoke(&other, &refresh).await.unwrap()).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error": "unauthorized_client", "error_description": "You are not authorized to revoke this token"})
    );
    assert_eq!(me(&app, &access).await, 200);
    let (status, body) = error_of(revoke(&client, &refresh).await.unwrap()).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert_eq!(
        me(&app, &access).await,
        401,
        "revoking the refresh token revokes its pair"
    );
    let (status, _) = error_of(revoke(&client, "unknown-token").await.unwrap()).await;
    assert_eq!(status, 200);
    let response = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // Replacing the application: every token of the old one is refused at once.
    let code = authorize(&app, &browser, &client, &[]).await;
    let (access, _) = tokens(exchange(&app, &client, &code, None).await).await;
    let replaced = app
        .as_admin(app.client.post(app.url(&format!(
            "/api/v3/storages/{}/oauth_application",
            client.storage_id
        ))))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 201);
    assert_eq!(me(&app, &access).await, 401);

    // Deleting the storage: the same.
    let code = authorize(&app, &browser, &other, &[]).await;
    let (access, _) = tokens(exchange(&app, &other, &code, None).await).await;
    let deleted = app
        .as_admin(
            app.client
                .delete(app.url(&format!("/api/v3/storages/{}", other.storage_id))),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(me(&app, &access).await, 401);
    let info = app
        .get("/oauth/token/info")
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 401);
    assert_eq!(
        info.json::<Value>().await.unwrap(),
        json!({"error": "invalid_token", "error_description": "The access token is invalid"})
    );
}

#[tokio::test]
async fn a_locked_users_tokens_are_refused_and_bearer_cannot_make_api_keys() {
    let app = spawn_app().await;
    let client = application(&app, "Nextcloud").await;
    let alice = app.create_user("alice").await;
    let browser = browser(&app, "alice", PASSWORD).await;
    let code = authorize(&app, &browser, &client, &[]).await;
    let (access, refresh) = tokens(exchange(&app, &client, &code, None).await).await;

    let response = app
        .client
        .post(app.url("/api/v3/users/me/api_token"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    let locked = app
        .admin_json(
            Method::PATCH,
            &format!("/api/v3/users/{alice}"),
            &json!({"status": "locked"}),
        )
        .await;
    assert_eq!(locked.status(), 200);
    assert_eq!(me(&app, &access).await, 401);
    let (_, body) = error_of(
        token_request(
            &app,
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await,
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");
    // Unknown bearer tokens are anonymous, not failed logins.
    let response = app
        .get("/api/v3/configuration")
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn metadata_describes_the_server() {
    let app = spawn_app().await;
    let body: Value = app
        .get("/.well-known/oauth-authorization-server")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected = serde_json::to_string(&fixture("op_oauth_server_metadata"))
        .unwrap()
        .replace("https://op.example.com", &app.base);
    assert_eq!(body, serde_json::from_str::<Value>(&expected).unwrap());
}

/// Failed client authentication, sent by `from`: a refresh with `client_id` and a wrong secret.
async fn wrong_secret(app: &TestApp, from: &Client, client_id: &str) -> (StatusCode, Value) {
    let response = from
        .post(app.url("/oauth/token"))
        .basic_auth(client_id, Some("wrong"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    error_of(response).await
}

/// A refresh with the client's correct secret, sent by `from`.
async fn refresh_from(app: &TestApp, from: &Client, client: &OAuthApp, refresh: &str) -> Response {
    from.post(app.url("/oauth/token"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .send()
        .await
        .unwrap()
}

fn too_many_requests() -> Value {
    json!({"error": "too_many_requests",
           "error_description": "Too many failed requests. Please try again later."})
}

/// A client id is public (every authorize URL shows it): wrong secrets sent under it, from any
/// address, must not make the real client's correct secret fail.
#[tokio::test]
async fn wrong_secrets_never_lock_out_the_client_that_has_the_right_one() {
    let app = spawn_app_with(|settings| {
        settings.common.throttle.free_failures = 30;
        settings.common.throttle.max_failures = 30;
    })
    .await;
    let client = application(&app, "Nextcloud").await;
    let browser = browser(&app, ADMIN, ADMIN_PASSWORD).await;
    let code = authorize(&app, &browser, &client, &[]).await;
    let (_, refresh) = tokens(exchange(&app, &client, &code, None).await).await;

    // 31 wrong secrets from each of two addresses, one of them the real client's own.
    for attacker in ["127.0.0.3", "127.0.0.1"] {
        let from = client_from(attacker);
        for attempt in 1..=30 {
            let (status, body) = wrong_secret(&app, &from, &client.id).await;
            assert_eq!(status, 401, "{attacker}, attempt {attempt}");
            assert_eq!(body["error"], "invalid_client");
        }
        assert_eq!(
            wrong_secret(&app, &from, &client.id).await,
            (StatusCode::TOO_MANY_REQUESTS, too_many_requests()),
            "{attacker}: the failures are throttled"
        );
    }

    // The real client, from another address and from the attackers' own, is served.
    let mut refresh = refresh;
    for real in ["127.0.0.2", "127.0.0.1", "127.0.0.3"] {
        let response = refresh_from(&app, &client_from(real), &client, &refresh).await;
        assert_eq!(response.status(), 200, "{real}");
        let (access, next) = tokens(response).await;
        assert_eq!(me(&app, &access).await, 200, "{real}: the new token works");
        refresh = next;
    }
    // The attackers are still refused: the real client's success resets nothing for them.
    assert_eq!(
        wrong_secret(&app, &client_from("127.0.0.3"), &client.id)
            .await
            .0,
        429
    );
    assert_eq!(
        wrong_secret(&app, &client_from("127.0.0.4"), &client.id)
            .await
            .0,
        401,
        "counted per address"
    );
}

/// Revocation and introspection authenticate the client too; their failures are throttled per
/// address like the token endpoint's, and share its count.
#[tokio::test]
async fn revoke_and_introspect_failures_are_throttled_per_address() {
    let app = spawn_app_with(|settings| {
        settings.common.throttle.free_failures = 3;
        settings.common.throttle.max_failures = 3;
    })
    .await;
    let client = application(&app, "Nextcloud").await;
    let browser = browser(&app, ADMIN, ADMIN_PASSWORD).await;
    let code = authorize(&app, &browser, &client, &[]).await;
    let (access, refresh) = tokens(exchange(&app, &client, &code, None).await).await;

    let attacker = client_from("127.0.0.3");
    let call = |endpoint: &'static str, secret: &'static str, token: String| {
        attacker
            .post(app.url(endpoint))
            .basic_auth(&client.id, Some(secret))
            .form(&[("token", token)])
            .send()
    };
    for endpoint in ["/oauth/revoke", "/oauth/introspect", "/oauth/revoke"] {
        let (status, body) = error_of(call(endpoint, "wrong", access.clone()).await.unwrap()).await;
        assert_eq!(status, 401, "{endpoint}");
        assert_eq!(body["error"], "invalid_client");
    }
    for endpoint in ["/oauth/revoke", "/oauth/introspect"] {
        assert_eq!(
            error_of(call(endpoint, "wrong", access.clone()).await.unwrap()).await,
            (StatusCode::TOO_MANY_REQUESTS, too_many_requests()),
            "{endpoint}"
        );
    }
    assert_eq!(
        wrong_secret(&app, &attacker, &client.id).await.0,
        429,
        "the token endpoint shares the count"
    );
    assert_eq!(me(&app, &access).await, 200, "nothing was revoked");

    // The correct secret from that very address is served.
    let right = |endpoint: &'static str, token: String| {
        attacker
            .post(app.url(endpoint))
            .basic_auth(&client.id, Some(client.secret.as_str()))
            .form(&[("token", token)])
            .send()
    };
    let introspection: Value = right("/oauth/introspect", access.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspection["active"], true);
    assert_eq!(introspection["client_id"], client.id.as_str());
    let response = right("/oauth/revoke", refresh).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(me(&app, &access).await, 401, "revoked");
    // Another address's failures are its own.
    let (status, _) = error_of(
        client_from("127.0.0.2")
            .post(app.url("/oauth/introspect"))
            .basic_auth(&client.id, Some("wrong"))
            .form(&[("token", "x")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
}

/// Request fields are bounded before anything is stored, and what the throttle stores is a
/// fixed-size digest whatever a request sent.
#[tokio::test]
async fn huge_client_ids_store_nothing_and_throttle_rows_have_a_fixed_size() {
    let app = spawn_app().await;
    let client = application(&app, "Nextcloud").await;
    let huge = service_kit::crypto::random_alphanumeric(900 * 1024);
    let before = app.database_bytes();
    for _ in 0..30 {
        let response = app
            .client
            .post(app.url("/oauth/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_id", huge.as_str()),
                ("client_secret", "wrong"),
            ])
            .send()
            .await
            .unwrap();
        let (status, body) = error_of(response).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"], "invalid_request");
    }
    for endpoint in ["/oauth/revoke", "/oauth/introspect"] {
        let response = app
            .client
            .post(app.url(endpoint))
            .form(&[("token", huge.as_str()), ("client_id", client.id.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{endpoint}");
    }
    let grown = app.database_bytes() - before;
    assert!(grown < 512 * 1024, "the database grew by {grown} bytes");
    assert!(app.throttle_keys().is_empty(), "nothing was counted");

    // Failures that count are stored under one 64-digit digest per address, whatever the ids.
    for n in 0..5 {
        let id = format!("{}{n}", "c".repeat(250));
        assert_eq!(wrong_secret(&app, &app.client, &id).await.0, 401);
    }
    let keys = app.throttle_keys();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].len() == 64 && keys[0].bytes().all(|b| b.is_ascii_hexdigit()));
}

/// `X-Forwarded-For` names the client only when a trusted proxy sent it.
#[tokio::test]
async fn forwarded_for_counts_only_from_trusted_proxies() {
    let tight = |settings: &mut openproject_storages::config::Settings| {
        settings.common.throttle.free_failures = 3;
        settings.common.throttle.max_failures = 3;
    };
    let wrong_via = |app: &TestApp, from: &Client, forwarded_for: &str| {
        from.post(app.url("/oauth/token"))
            .header("X-Forwarded-For", forwarded_for)
            .basic_auth("some-client", Some("wrong"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
            .send()
    };

    // No trusted proxies: a client cannot choose the address it is counted under.
    let app = spawn_app_with(tight).await;
    for n in 1..=3 {
        let response = wrong_via(&app, &app.client, &format!("203.0.113.{n}")).await;
        assert_eq!(response.unwrap().status(), 401);
    }
    let response = wrong_via(&app, &app.client, "203.0.113.9").await.unwrap();
    assert_eq!(response.status(), 429, "all counted as the peer");

    // 127.0.0.1 is a trusted proxy: the client it names is counted.
    let app = spawn_app_configured(&[("trusted_proxies", "127.0.0.1/32")], tight).await;
    for _ in 1..=3 {
        let response = wrong_via(&app, &app.client, "203.0.113.1").await.unwrap();
        assert_eq!(response.status(), 401);
    }
    let response = wrong_via(&app, &app.client, "198.51.100.7, 203.0.113.1").await;
    assert_eq!(
        response.unwrap().status(),
        429,
        "203.0.113.1 is over the limit"
    );
    let response = wrong_via(&app, &app.client, "203.0.113.2").await.unwrap();
    assert_eq!(response.status(), 401, "203.0.113.2 is another client");
    // 127.0.0.2 is not a proxy: its header is ignored.
    let direct = client_from("127.0.0.2");
    for n in 1..=3 {
        let response = wrong_via(&app, &direct, &format!("198.51.100.{n}")).await;
        assert_eq!(response.unwrap().status(), 401);
    }
    let response = wrong_via(&app, &direct, "198.51.100.9").await.unwrap();
    assert_eq!(response.status(), 429, "counted as 127.0.0.2");
}
