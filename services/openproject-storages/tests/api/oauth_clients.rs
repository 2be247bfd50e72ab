//! OpenProject users authorizing OpenProject at Nextcloud (oauth.md §4): ensure_connection, the
//! callback's checks and messages, the state's binding, token use with refresh, and what removes
//! the tokens. Against a fake Nextcloud whose OAuth server the test steers, with a signed-in
//! browser that keeps cookies.

use diesel::RunQueryDsl;
use openproject_storages::db::{
    oauth_client_states::OAuthClientState, oauth_client_tokens::OAuthClientToken,
};
use percent_encoding::percent_decode_str;
use reqwest::{header, Response};
use serde_json::{json, Value};
use service_kit::{crypto::digest, time::now_millis};
use storage_protocol::oauth::openproject_client::messages;

use crate::{
    fake_nextcloud::{
        closed_port_url, Behaviour, FakeNextcloud, TokenEndpoint, CLIENT_ID, CLIENT_SECRET,
        NEXTCLOUD_USER,
    },
    helpers::{body, spawn_app, Browser, TestApp, ADMIN, ADMIN_PASSWORD, PASSWORD},
};

const URN: &str = "urn:openproject-org:api:v3:storages:authorization:";

/// An app with a storage on a fake Nextcloud, its client credentials, and the admin signed in.
struct Setup {
    app: TestApp,
    nextcloud: FakeNextcloud,
    storage_id: i64,
    credentials_id: i64,
    admin_id: i64,
    admin: Browser,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let storage = app.create_storage("Nextcloud", &nextcloud.url).await;
    let storage_id = storage["id"].as_i64().unwrap();
    let response = app
        .add_client_credentials(storage_id, CLIENT_ID, CLIENT_SECRET)
        .await;
    assert_eq!(response.status(), 201);
    let credentials_id = body(response).await["id"].as_i64().unwrap();
    let me = body(
        app.as_admin(app.get("/api/v3/users/me"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let admin = app.browser(ADMIN, ADMIN_PASSWORD).await;
    Setup {
        admin_id: me["id"].as_i64().unwrap(),
        app,
        nextcloud,
        storage_id,
        credentials_id,
        admin,
    }
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn location(response: &Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_string()
}

/// The `Set-Cookie` header setting `name`.
fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// The flash message a response leaves for the home page.
fn flash(response: &Response) -> Option<String> {
    let cookie = set_cookie(response, "_open_project_flash")?;
    let value = cookie.split(';').next()?.split_once('=')?.1.to_string();
    Some(
        percent_decode_str(&value)
            .decode_utf8()
            .unwrap()
            .into_owned(),
    )
}

fn query_value(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl Setup {
    fn ensure_path(&self, destination: &str) -> String {
        format!(
            "/oauth_clients/{CLIENT_ID}/ensure_connection?integration_id={}&destination_url={}",
            self.storage_id,
            encode(destination)
        )
    }

    fn callback_url(&self) -> String {
        format!("{}/oauth_clients/{CLIENT_ID}/callback", self.app.base)
    }

    /// `ensure_connection` in `browser`: the new state and its challenge.
    async fn start(&self, browser: &Browser, destination: &str) -> Started {
        let response = browser
            .client
            .get(self.app.url(&self.ensure_path(destination)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        let authorize_url = location(&response);
        let state = query_value(&authorize_url, "state").expect("a state");
        let challenge = query_value(&authorize_url, "code_challenge").expect("a challenge");
        let cookie = set_cookie(&response, &format!("oauth_state_{state}")).expect("state cookie");
        Started {
            state,
            challenge,
            authorize_url,
            cookie,
        }
    }

    /// Nextcloud sends `browser` back to the callback with `query`.
    async fn callback(
        &self,
        browser: &Browser,
        client_id: &str,
        query: &[(&str, &str)],
    ) -> Response {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        browser
            .client
            .get(
                self.app
                    .url(&format!("/oauth_clients/{client_id}/callback?{query}")),
            )
            .send()
            .await
            .unwrap()
    }

    /// The whole flow in `browser`, as a user who grants access.
    async fn connect(&self, browser: &Browser) {
        let started = self.start(browser, "/").await;
        let code = self.nextcloud.issue_code(Some(&started.challenge));
        let response = self
            .callback(
                browser,
                CLIENT_ID,
                &[("state", &started.state), ("code", &code)],
            )
            .await;
        assert_eq!(response.status(), 302);
        assert_eq!(flash(&response), None, "connected");
    }

    /// The admin's `authorizationState` of the storage, by its URN suffix.
    async fn authorization_state(&self) -> String {
        let storage = self.storage().await;
        storage["_links"]["authorizationState"]["href"]
            .as_str()
            .unwrap()
            .strip_prefix(URN)
            .unwrap()
            .to_string()
    }

    async fn storage(&self) -> Value {
        body(
            self.app
                .as_admin(
                    self.app
                        .get(&format!("/api/v3/storages/{}", self.storage_id)),
                )
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn token_of(&self, user_id: i64) -> Option<OAuthClientToken> {
        let credentials_id = self.credentials_id;
        self.app
            .db
            .query(move |conn| OAuthClientToken::find(conn, user_id, credentials_id))
            .await
            .unwrap()
    }

    async fn state_record(&self, state: &str) -> Option<OAuthClientState> {
        let state_digest = digest(state);
        self.app
            .db
            .query(move |conn| OAuthClientState::find_by_digest(conn, &state_digest))
            .await
            .unwrap()
    }

    async fn execute(&self, sql: String) {
        self.app
            .db
            .query(move |conn| diesel::sql_query(sql).execute(conn))
            .await
            .unwrap();
    }

    async fn count(&self, table: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        self.app
            .db
            .query(move |conn| diesel::sql_query(sql).get_result::<Count>(conn))
            .await
            .unwrap()
            .n
    }

    /// Puts a cookie into `browser` as a front end (or a replaying attacker) would.
    fn set_browser_cookie(&self, browser: &Browser, name: &str, json: &Value) {
        let value: String = percent_encoding::utf8_percent_encode(
            &json.to_string(),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        browser.jar.add_cookie_str(
            &format!("{name}={value}; Path=/"),
            &url::Url::parse(&self.app.base).unwrap(),
        );
    }

    fn browser_cookies(&self, browser: &Browser) -> String {
        use reqwest::cookie::CookieStore;
        browser
            .jar
            .cookies(&url::Url::parse(&self.app.base).unwrap())
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

struct Started {
    state: String,
    challenge: String,
    authorize_url: String,
    /// Its `Set-Cookie` header.
    cookie: String,
}

#[tokio::test]
async fn both_endpoints_need_a_session() {
    let s = setup().await;
    for path in [
        s.ensure_path("/projects"),
        format!("/oauth_clients/{CLIENT_ID}/callback?code=c&state=s"),
    ] {
        let response = s.app.get(&path).send().await.unwrap();
        assert_eq!(response.status(), 302, "{path}");
        assert_eq!(
            location(&response),
            format!("/login?back_url={}", encode(&s.app.url(&path))),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_user_connects_with_pkce_and_the_storage_shows_connected() {
    let s = setup().await;
    assert_eq!(s.authorization_state().await, "NotConnected");
    assert!(s.storage().await["_links"]["authorize"].is_object());

    let started = s.start(&s.admin, "/projects/demo?tab=files").await;

    // Exactly the authorize URL of oauth.md §4.1, with a UUID v4 state and an S256 challenge.
    let uuid = uuid::Uuid::parse_str(&started.state).expect("the state is a UUID");
    assert_eq!(uuid.get_version_num(), 4);
    assert_eq!(started.challenge.len(), 43);
    assert_eq!(
        started.authorize_url,
        format!(
            "{}/index.php/apps/oauth2/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri={}&state={}&code_challenge={}&code_challenge_method=S256",
            s.nextcloud.url,
            encode(&s.callback_url()),
            started.state,
            started.challenge
        )
    );

    // The cookie: URL-encoded JSON with the destination and the storage.
    let attributes: Vec<&str> = started.cookie.split("; ").collect();
    let value = attributes[0]
        .strip_prefix(&format!("oauth_state_{}=", started.state))
        .unwrap();
    let json: Value =
        serde_json::from_str(&percent_decode_str(value).decode_utf8().unwrap()).unwrap();
    assert_eq!(
        json,
        json!({"href": s.app.url("/projects/demo?tab=files"), "storageId": s.storage_id.to_string()})
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=3600"] {
        assert!(attributes.contains(&attribute), "{}", started.cookie);
    }
    assert!(!started.cookie.contains("Secure"), "plain http public URL");

    // The server keeps the state's digest, the user, the storage and the sealed verifier.
    let record = s.state_record(&started.state).await.expect("stored");
    assert_eq!(record.state_digest, digest(&started.state));
    assert_eq!(
        (record.user_id, record.storage_id),
        (s.admin_id, s.storage_id)
    );
    let sealed_verifier = record.code_verifier_sealed.clone().unwrap();
    assert!(sealed_verifier.starts_with("v1."));
    assert!(record.expires_at - record.created_at == 10 * 60 * 1000);

    // Nextcloud grants and sends the browser back.
    let code = s.nextcloud.issue_code(Some(&started.challenge));
    let response = s
        .callback(
            &s.admin,
            CLIENT_ID,
            &[("state", &started.state), ("code", &code)],
        )
        .await;
    assert_eq!(response.status(), 302);
    assert_eq!(location(&response), s.app.url("/projects/demo?tab=files"));
    assert_eq!(flash(&response), None);
    let removal = set_cookie(&response, &format!("oauth_state_{}", started.state)).unwrap();
    assert!(removal.contains("Max-Age=0"), "{removal}");
    assert!(!s.browser_cookies(&s.admin).contains("oauth_state_"));

    // The exchange: a form with the verifier whose S256 is the challenge.
    let exchange = s.nextcloud.oauth().token_requests[0].clone();
    assert_eq!(exchange["grant_type"], "authorization_code");
    assert_eq!(exchange["code"], code);
    assert_eq!(exchange["redirect_uri"], s.callback_url());
    assert_eq!(exchange["client_id"], CLIENT_ID);
    assert_eq!(exchange["client_secret"], CLIENT_SECRET);
    let verifier = &exchange["code_verifier"];
    assert!((43..=128).contains(&verifier.len()));
    assert!(verifier
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
    assert_eq!(
        oauth2::PkceCodeChallenge::from_code_verifier_sha256(&oauth2::PkceCodeVerifier::new(
            verifier.clone()
        ))
        .as_str(),
        started.challenge
    );
    assert!(!sealed_verifier.contains(verifier.as_str()));

    // The state is used up; its verifier is gone.
    let used = s.state_record(&started.state).await.unwrap();
    assert!(used.consumed_at.is_some());
    assert_eq!(used.code_verifier_sealed, None);

    // Tokens stored sealed, with the remote identity from cloud/user.
    let (access, refresh) = s.nextcloud.live_tokens();
    let token = s.token_of(s.admin_id).await.expect("token stored");
    assert!(token.access_token_sealed.starts_with("v1."));
    assert!(!token.access_token_sealed.contains(&access.unwrap()));
    let sealed_refresh = token.refresh_token_sealed.unwrap();
    assert!(!sealed_refresh.contains(&refresh.unwrap()));
    assert_eq!(token.origin_user_id.as_deref(), Some(NEXTCLOUD_USER));
    let expires_in = token.expires_at.unwrap() - now_millis();
    assert!(
        (3_500_000..=3_600_000).contains(&expires_in),
        "{expires_in}"
    );

    let storage = s.storage().await;
    assert_eq!(
        storage["_links"]["authorizationState"],
        json!({"href": format!("{URN}Connected"), "title": "Connected"})
    );
    assert!(storage["_links"].get("authorize").is_none());

    // Connected: ensure_connection goes straight to the destination, with no new state.
    let states = s.count("oauth_client_states").await;
    let response = s
        .admin
        .client
        .get(s.app.url(&s.ensure_path("/projects/demo")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(location(&response), s.app.url("/projects/demo"));
    assert_eq!(s.count("oauth_client_states").await, states);
}

#[tokio::test]
async fn ensure_connection_keeps_destinations_on_this_origin_and_knows_its_clients() {
    let s = setup().await;
    let href_of = |started: &Started| -> Value {
        let value = started
            .cookie
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1;
        serde_json::from_str::<Value>(&percent_decode_str(value).decode_utf8().unwrap()).unwrap()
            ["href"]
            .clone()
    };
    for (destination, expected) in [
        ("https://evil.example/steal", s.app.url("/")),
        ("//evil.example/steal", s.app.url("/")),
        (&s.app.url("/same/origin"), s.app.url("/same/origin")),
        ("", s.app.url("/")),
    ] {
        let started = s.start(&s.admin, destination).await;
        assert_eq!(href_of(&started), json!(expected), "{destination}");
    }
    // `storage_id` names the storage too; no destination means the root.
    let response = s
        .admin
        .client
        .get(s.app.url(&format!(
            "/oauth_clients/{CLIENT_ID}/ensure_connection?storage_id={}",
            s.storage_id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert!(location(&response).starts_with(&s.nextcloud.url));

    // Unknown client id, storage of another client, no or unknown storage: to `/` with a flash.
    for path in [
        format!(
            "/oauth_clients/other-client/ensure_connection?integration_id={}&destination_url=/x",
            s.storage_id
        ),
        format!("/oauth_clients/{CLIENT_ID}/ensure_connection?destination_url=/x"),
        format!(
            "/oauth_clients/{CLIENT_ID}/ensure_connection?integration_id=999&destination_url=/x"
        ),
        format!("/oauth_clients/{CLIENT_ID}/ensure_connection?integration_id=abc"),
    ] {
        let response = s.admin.client.get(s.app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 302, "{path}");
        assert_eq!(location(&response), "/", "{path}");
        assert_eq!(
            flash(&response).as_deref(),
            Some(messages::CLIENT_NOT_FOUND),
            "{path}"
        );
    }

    // The home page shows the flash once.
    let home = s.admin.client.get(s.app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let removal = set_cookie(&home, "_open_project_flash").expect("flash removed");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    let html = home.text().await.unwrap();
    assert!(
        html.contains(&messages::CLIENT_NOT_FOUND.replace('\'', "&#x27;")),
        "{html}"
    );
    let again = s.admin.client.get(s.app.url("/")).send().await.unwrap();
    assert!(!again.text().await.unwrap().contains("role=\"alert\""));
}

#[tokio::test]
async fn each_callback_check_fails_in_order_with_its_message() {
    let s = setup().await;
    let destination = s.app.url("/projects/demo");
    let other = "other-client";

    // 1. No code (a denial at Nextcloud looks like this): to the cookie's href; the state is
    //    used up and its cookie removed.
    let started = s.start(&s.admin, "/projects/demo").await;
    let response = s
        .callback(
            &s.admin,
            CLIENT_ID,
            &[("state", &started.state), ("error", "access_denied")],
        )
        .await;
    assert_eq!(location(&response), destination);
    assert_eq!(flash(&response).as_deref(), Some(messages::CODE_NOT_FOUND));
    assert!(set_cookie(&response, &format!("oauth_state_{}", started.state)).is_some());
    assert!(s
        .state_record(&started.state)
        .await
        .unwrap()
        .consumed_at
        .is_some());
    // Code comes before state.
    let response = s.callback(&s.admin, other, &[]).await;
    assert_eq!(location(&response), "/");
    assert_eq!(flash(&response).as_deref(), Some(messages::CODE_NOT_FOUND));

    // 2. No state, a state without its cookie, an unreadable cookie: to `/`. State comes before
    //    the client.
    let started = s.start(&s.admin, "/projects/demo").await;
    for query in [
        vec![("code", "c")],
        vec![
            ("code", "c"),
            ("state", "f81d4fae-7dec-41d0-a765-00a0c91e6bf6"),
        ],
    ] {
        let response = s.callback(&s.admin, other, &query).await;
        assert_eq!(location(&response), "/");
        assert_eq!(flash(&response).as_deref(), Some(messages::STATE_NOT_FOUND));
    }
    s.admin.jar.add_cookie_str(
        "oauth_state_garbled=%7Bnot-json; Path=/",
        &url::Url::parse(&s.app.base).unwrap(),
    );
    let response = s
        .callback(&s.admin, other, &[("code", "c"), ("state", "garbled")])
        .await;
    assert_eq!(location(&response), "/");
    assert_eq!(flash(&response).as_deref(), Some(messages::STATE_NOT_FOUND));

    // 3. Credentials with this client id for the cookie's storage.
    let response = s
        .callback(&s.admin, other, &[("state", &started.state), ("code", "c")])
        .await;
    assert_eq!(location(&response), destination);
    assert_eq!(
        flash(&response).as_deref(),
        Some(messages::CLIENT_NOT_FOUND)
    );

    // 4. The exchange, with the provider's answer in the message.
    let reauthorize = |error: &str| {
        messages::grant_unsuccessful(&format!(
            "The OAuth2 Authorization Server asks you to reauthorize ({error})."
        ))
    };
    let cases = [
        (TokenEndpoint::Refuses("invalid_grant"), reauthorize("invalid_grant")),
        (TokenEndpoint::Refuses("invalid_request"), reauthorize("invalid_request")),
        (
            TokenEndpoint::Refuses("invalid_client"),
            "OAuth2 Authorization grant unsuccessful: OAuth2 provider reported: The OAuth2 Authorization Server doesn't recognize OpenProject (invalid_client).".to_string(),
        ),
        (TokenEndpoint::Broken, messages::grant_unsuccessful(messages::INVALID_RESPONSE)),
        (TokenEndpoint::Garbage, messages::grant_unsuccessful(messages::INVALID_RESPONSE)),
    ];
    for (endpoint, message) in cases {
        s.nextcloud.oauth().token_endpoint = endpoint.clone();
        let started = s.start(&s.admin, "/projects/demo").await;
        let code = s.nextcloud.issue_code(Some(&started.challenge));
        let response = s
            .callback(
                &s.admin,
                CLIENT_ID,
                &[("state", &started.state), ("code", &code)],
            )
            .await;
        assert_eq!(location(&response), destination, "{endpoint:?}");
        assert_eq!(flash(&response), Some(message), "{endpoint:?}");
        assert!(s.token_of(s.admin_id).await.is_none());
    }

    // A wrong verifier is Nextcloud's invalid_grant (the fake checks S256 like Nextcloud).
    s.nextcloud.oauth().token_endpoint = TokenEndpoint::Nextcloud;
    let started = s.start(&s.admin, "/projects/demo").await;
    let code = s.nextcloud.issue_code(Some("A".repeat(43).as_str()));
    let response = s
        .callback(
            &s.admin,
            CLIENT_ID,
            &[("state", &started.state), ("code", &code)],
        )
        .await;
    assert_eq!(flash(&response), Some(reauthorize("invalid_grant")));

    // Nextcloud unreachable.
    let started = s.start(&s.admin, "/projects/demo").await;
    s.execute(format!(
        "UPDATE storages SET host = '{}/' WHERE id = {}",
        closed_port_url(),
        s.storage_id
    ))
    .await;
    let response = s
        .callback(
            &s.admin,
            CLIENT_ID,
            &[("state", &started.state), ("code", "c")],
        )
        .await;
    assert_eq!(location(&response), destination);
    assert_eq!(
        flash(&response).as_deref(),
        Some("OAuth2 Authorization grant unsuccessful: OAuth2 provider reported: The OAuth2 Authorization Server could not be reached.")
    );
    assert!(s.token_of(s.admin_id).await.is_none());
}

#[tokio::test]
async fn the_cookies_href_is_checked_again_at_the_callback() {
    let s = setup().await;
    for href in [
        "https://evil.example/steal",
        "//evil.example/steal",
        "javascript:alert(1)",
    ] {
        let nonce = uuid::Uuid::new_v4().to_string();
        s.set_browser_cookie(
            &s.admin,
            &format!("oauth_state_{nonce}"),
            &json!({"href": href, "storageId": s.storage_id.to_string()}),
        );
        // A failure and a success both stay on this origin.
        let response = s.callback(&s.admin, CLIENT_ID, &[("state", &nonce)]).await;
        assert_eq!(location(&response), "/", "{href}");
        let code = s.nextcloud.issue_code(None);
        let nonce = uuid::Uuid::new_v4().to_string();
        s.set_browser_cookie(
            &s.admin,
            &format!("oauth_state_{nonce}"),
            &json!({"href": href, "storageId": s.storage_id.to_string()}),
        );
        let response = s
            .callback(&s.admin, CLIENT_ID, &[("state", &nonce), ("code", &code)])
            .await;
        assert_eq!(location(&response), "/", "{href}");
        assert_eq!(flash(&response), None, "{href}");
    }
}

#[tokio::test]
async fn a_state_is_single_use_and_bound_to_the_user_who_started_it() {
    let s = setup().await;
    let alice_id = s.app.create_user("alice").await;
    let alice = s.app.browser("alice", PASSWORD).await;
    let started = s.start(&s.admin, "/projects/demo").await;
    let code = s.nextcloud.issue_code(Some(&started.challenge));
    let cookie =
        json!({"href": s.app.url("/projects/demo"), "storageId": s.storage_id.to_string()});

    // Alice got hold of the admin's state and cookie: refused, nothing exchanged.
    s.set_browser_cookie(&alice, &format!("oauth_state_{}", started.state), &cookie);
    let response = s
        .callback(
            &alice,
            CLIENT_ID,
            &[("state", &started.state), ("code", &code)],
        )
        .await;
    assert_eq!(flash(&response).as_deref(), Some(messages::STATE_NOT_FOUND));
    assert_eq!(s.nextcloud.token_requests_of("authorization_code"), 0);
    assert!(s.token_of(alice_id).await.is_none());

    // The admin finishes; a replay with the cookie put back is refused before any exchange.
    let response = s
        .callback(
            &s.admin,
            CLIENT_ID,
            &[("state", &started.state), ("code", &code)],
        )
        .await;
    assert_eq!(flash(&response), None);
    s.set_browser_cookie(&s.admin, &format!("oauth_state_{}", started.state), &cookie);
    let again = s.nextcloud.issue_code(Some(&started.challenge));
    let response = s
        .callback(
            &s.admin,
            CLIENT_ID,
            &[("state", &started.state), ("code", &again)],
        )
        .await;
    assert_eq!(location(&response), s.app.url("/projects/demo"));
    assert_eq!(flash(&response).as_deref(), Some(messages::STATE_NOT_FOUND));
    assert_eq!(s.nextcloud.token_requests_of("authorization_code"), 1);

    // A state older than ten minutes is refused.
    let started = s.start(&alice, "/").await;
    s.execute(format!(
        "UPDATE oauth_client_states SET expires_at = {} WHERE state_digest = '{}'",
        now_millis() - 1,
        digest(&started.state)
    ))
    .await;
    let code = s.nextcloud.issue_code(Some(&started.challenge));
    let response = s
        .callback(
            &alice,
            CLIENT_ID,
            &[("state", &started.state), ("code", &code)],
        )
        .await;
    assert_eq!(flash(&response).as_deref(), Some(messages::STATE_NOT_FOUND));
    assert!(s.token_of(alice_id).await.is_none());
}

#[tokio::test]
async fn the_front_end_path_connects_without_pkce() {
    let s = setup().await;
    let authorize = s.storage().await["_links"]["authorize"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        authorize,
        format!(
            "{}/index.php/apps/oauth2/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri={}",
            s.nextcloud.url,
            encode(&s.callback_url())
        )
    );
    // The front end sets its cookie (a numeric storageId, as a front end may) and appends its
    // nonce to the link; Nextcloud issues a code without challenge.
    let nonce = uuid::Uuid::new_v4().to_string();
    let cookie = json!({"href": s.app.url("/projects/demo"), "storageId": s.storage_id});
    s.set_browser_cookie(&s.admin, &format!("oauth_state_{nonce}"), &cookie);
    let code = s.nextcloud.issue_code(None);
    let response = s
        .callback(&s.admin, CLIENT_ID, &[("state", &nonce), ("code", &code)])
        .await;
    assert_eq!(location(&response), s.app.url("/projects/demo"));
    assert_eq!(flash(&response), None);
    let exchange = s.nextcloud.oauth().token_requests[0].clone();
    assert!(!exchange.contains_key("code_verifier"));
    assert_eq!(s.authorization_state().await, "Connected");

    // Single use as well.
    s.set_browser_cookie(&s.admin, &format!("oauth_state_{nonce}"), &cookie);
    let code = s.nextcloud.issue_code(None);
    let response = s
        .callback(&s.admin, CLIENT_ID, &[("state", &nonce), ("code", &code)])
        .await;
    assert_eq!(flash(&response).as_deref(), Some(messages::STATE_NOT_FOUND));
    assert_eq!(s.nextcloud.token_requests_of("authorization_code"), 1);
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_call_retried() {
    let s = setup().await;
    s.connect(&s.admin).await;
    let (_, first_refresh) = s.nextcloud.live_tokens();
    let before = s.token_of(s.admin_id).await.unwrap();

    s.nextcloud.expire_access_token();
    assert_eq!(s.authorization_state().await, "Connected");
    let requests = s.nextcloud.oauth().token_requests.clone();
    assert_eq!(requests.len(), 2);
    let refresh = &requests[1];
    assert_eq!(refresh["grant_type"], "refresh_token");
    assert_eq!(Some(&refresh["refresh_token"]), first_refresh.as_ref());
    assert_eq!(refresh["client_id"], CLIENT_ID);
    assert_eq!(refresh["client_secret"], CLIENT_SECRET);
    // Both new tokens are stored.
    let after = s.token_of(s.admin_id).await.unwrap();
    assert_ne!(after.access_token_sealed, before.access_token_sealed);
    assert_ne!(after.refresh_token_sealed, before.refresh_token_sealed);
    assert!(after.refreshed_at.is_some());
    assert_eq!(after.origin_user_id.as_deref(), Some(NEXTCLOUD_USER));

    // Refused again right away: a pair refreshed in the last 10 s is not refreshed again.
    s.nextcloud.expire_access_token();
    assert_eq!(s.authorization_state().await, "FailedAuthorization");
    assert_eq!(s.nextcloud.token_requests_of("refresh_token"), 1);
    assert!(s.token_of(s.admin_id).await.is_some(), "kept");

    // Later, the rotated refresh token works.
    s.execute(format!(
        "UPDATE oauth_client_tokens SET refreshed_at = refreshed_at - 20000 WHERE user_id = {}",
        s.admin_id
    ))
    .await;
    let (_, second_refresh) = s.nextcloud.live_tokens();
    assert_eq!(s.authorization_state().await, "Connected");
    let requests = s.nextcloud.oauth().token_requests.clone();
    assert_eq!(Some(&requests[2]["refresh_token"]), second_refresh.as_ref());
}

#[tokio::test]
async fn concurrent_callers_share_one_refresh() {
    let s = setup().await;
    s.connect(&s.admin).await;
    s.nextcloud.expire_access_token();
    let states = futures_util::future::join_all((0..8).map(|_| s.authorization_state())).await;
    assert!(
        states.iter().all(|state| state == "Connected"),
        "{states:?}"
    );
    // Nextcloud rotates at every refresh: a second refresh with the old token would have failed.
    assert_eq!(s.nextcloud.token_requests_of("refresh_token"), 1);
}

#[tokio::test]
async fn a_failed_refresh_deletes_the_token() {
    let s = setup().await;
    for failure in [
        TokenEndpoint::Nextcloud,
        TokenEndpoint::Broken,
        TokenEndpoint::Garbage,
        TokenEndpoint::Refuses("invalid_client"),
    ] {
        s.nextcloud.oauth().token_endpoint = TokenEndpoint::Nextcloud;
        s.connect(&s.admin).await;
        assert_eq!(s.authorization_state().await, "Connected");
        // Nextcloud's client was rotated: neither token works any more.
        s.nextcloud.revoke_tokens();
        s.nextcloud.oauth().token_endpoint = failure.clone();
        assert_eq!(
            s.authorization_state().await,
            "FailedAuthorization",
            "{failure:?}"
        );
        assert!(s.token_of(s.admin_id).await.is_none(), "{failure:?}");
        let storage = s.storage().await;
        assert_eq!(
            storage["_links"]["authorizationState"]["href"],
            format!("{URN}NotConnected")
        );
        assert!(storage["_links"]["authorize"].is_object());
    }
}

#[tokio::test]
async fn replacing_credentials_or_deleting_the_storage_removes_the_users_tokens() {
    let s = setup().await;
    let alice_id = s.app.create_user("alice").await;
    let alice = s.app.browser("alice", PASSWORD).await;
    s.connect(&s.admin).await;
    s.connect(&alice).await;
    assert!(s.token_of(alice_id).await.is_some());
    assert_eq!(s.count("oauth_client_tokens").await, 2);

    let response = s
        .app
        .add_client_credentials(s.storage_id, CLIENT_ID, CLIENT_SECRET)
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(s.count("oauth_client_tokens").await, 0);
    assert_eq!(s.authorization_state().await, "NotConnected");

    // Users connect again with the new credentials; a pending state waits too.
    let new_credentials_id = body(response).await["id"].as_i64().unwrap();
    let s = Setup {
        credentials_id: new_credentials_id,
        ..s
    };
    s.connect(&s.admin).await;
    assert_eq!(s.authorization_state().await, "Connected");
    s.start(&alice, "/").await;
    assert!(s.count("oauth_client_states").await > 0);

    let response = s
        .app
        .as_admin(
            s.app
                .client
                .delete(s.app.url(&format!("/api/v3/storages/{}", s.storage_id))),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(s.count("oauth_client_tokens").await, 0);
    assert_eq!(s.count("oauth_client_states").await, 0);
}

#[tokio::test]
async fn a_user_disconnects_from_a_storage_which_keeps_its_setup() {
    let s = setup().await;
    s.connect(&s.admin).await;
    assert_eq!(s.authorization_state().await, "Connected");
    let disconnect = |id: String| {
        s.app.as_admin(
            s.app
                .client
                .delete(s.app.url(&format!("/api/v3/storages/{id}/authorization"))),
        )
    };

    let response = disconnect(s.storage_id.to_string()).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert!(s.token_of(s.admin_id).await.is_none());
    assert_eq!(s.authorization_state().await, "NotConnected");
    assert_eq!(
        s.count("oauth_client_credentials").await,
        1,
        "the storage keeps its setup"
    );
    // Nothing is sent to Nextcloud, and a second time is as good as the first.
    assert_eq!(s.nextcloud.token_requests_of("refresh_token"), 0);
    let again = disconnect(s.storage_id.to_string()).send().await.unwrap();
    assert_eq!(again.status(), 204);

    let unknown = disconnect("999".into()).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}
