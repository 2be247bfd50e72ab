use serde_json::Value;

use crate::helpers::{
    body, client_from, fixture, spawn_app, spawn_app_with, TestApp, ADMIN, ADMIN_PASSWORD, PASSWORD,
};

#[tokio::test]
async fn root_shows_core_version_only_to_admins() {
    let app = spawn_app().await;
    let response = app.as_admin(app.get("/api/v3")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers().get("link").unwrap(),
        "</api/v3/openapi.json>; rel=\"service-desc\""
    );
    let mut admin_root = body(response).await;
    let mut expected = fixture("op_root_admin");
    expected["_links"]["user"]["title"] = Value::from("OpenProject Admin");
    assert_eq!(admin_root, expected);

    let id = app.create_user("bo").await;
    let user_root = body(
        app.get("/api/v3/")
            .basic_auth("bo", Some(PASSWORD))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(user_root.get("coreVersion").is_none());
    assert_eq!(
        user_root["_links"]["user"]["href"],
        format!("/api/v3/users/{id}")
    );
    admin_root.as_object_mut().unwrap().remove("coreVersion");
    assert_eq!(admin_root["_type"], user_root["_type"]);
}

#[tokio::test]
async fn anonymous_and_wrong_credentials_get_401() {
    let app = spawn_app().await;
    let anonymous = app.get("/api/v3").send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(body(anonymous).await, fixture("op_error_unauthenticated"));

    for (user, password) in [
        (ADMIN, "wrong-password"),
        ("nobody", ADMIN_PASSWORD),
        ("apikey", "no-such-token"),
    ] {
        let response = app
            .get("/api/v3")
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{user}");
        assert_eq!(
            response.headers().get("www-authenticate").unwrap(),
            "Basic realm=\"OpenProject API\""
        );
        assert_eq!(body(response).await, fixture("op_error_wrong_credentials"));
    }

    let malformed = app
        .get("/api/v3")
        .header("Authorization", "Basic !!!notbase64")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 401);
    assert_eq!(body(malformed).await, fixture("op_error_wrong_credentials"));

    let custom_scheme = app
        .get("/api/v3")
        .basic_auth(ADMIN, Some("wrong"))
        .header("X-Authentication-Scheme", "Session")
        .send()
        .await
        .unwrap();
    assert_eq!(
        custom_scheme.headers().get("www-authenticate").unwrap(),
        "Session realm=\"OpenProject API\""
    );

    let unknown_bearer = app
        .get("/api/v3")
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_bearer.status(), 401);
    assert_eq!(
        body(unknown_bearer).await,
        fixture("op_error_unauthenticated")
    );
}

#[tokio::test]
async fn configuration_is_open_to_anonymous_callers_but_not_to_wrong_credentials() {
    let app = spawn_app().await;
    let response = app.get("/api/v3/configuration").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut expected = fixture("op_configuration");
    expected["hostName"] = Value::from(app.base.trim_start_matches("http://"));
    assert_eq!(body(response).await, expected);

    let wrong = app
        .get("/api/v3/configuration")
        .basic_auth(ADMIN, Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn openapi_document_lists_the_api() {
    let app = spawn_app().await;
    let response = app.get("/api/v3/openapi.json").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v3",
        "/api/v3/configuration",
        "/api/v3/users",
        "/api/v3/users/{id}",
        "/api/v3/users/me/api_token",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys()
        );
    }
    assert!(paths["/api/v3/users"].get("post").is_some());
}

#[tokio::test]
async fn login_throttling_refuses_after_the_limit() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.common.throttle = service_kit::auth::ThrottlePolicy {
            free_failures: 3,
            max_failures: 3,
            window_millis: 60_000,
        };
    })
    .await;
    for _ in 0..3 {
        let r = app
            .get("/api/v3")
            .basic_auth(ADMIN, Some("wrong"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let refused = app.as_admin(app.get("/api/v3")).send().await.unwrap();
    assert_eq!(
        refused.status(),
        429,
        "even the right password waits out the window"
    );
    assert_eq!(
        body(refused).await["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:TooManyRequests"
    );
    // An unknown Bearer token is not a failed login.
    let bearer = app
        .get("/api/v3/configuration")
        .bearer_auth("unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
}

/// `GET /api/v3/users/me` with Basic credentials, sent by `from`: the status and the login.
async fn me_as(
    app: &TestApp,
    from: &reqwest::Client,
    login: &str,
    password: &str,
) -> (u16, Option<String>) {
    let response = from
        .get(app.url("/api/v3/users/me"))
        .basic_auth(login, Some(password))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body["login"].as_str().map(str::to_string))
}

/// After 30 failed sign-ins from one address, the other accounts of that address (the admin's
/// Basic API calls, a colleague signing in) are still served.
#[tokio::test]
async fn failures_of_other_accounts_never_refuse_a_correct_password() {
    let app = spawn_app_with(|s| {
        s.common.throttle = service_kit::auth::ThrottlePolicy {
            free_failures: 30,
            max_failures: 30,
            window_millis: 60_000,
        };
    })
    .await;
    app.create_user("bob").await;
    app.create_user("carol").await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for attempt in 1..=30 {
        let response = app.sign_in(&browser, "bob", "wrong-password", "/").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    let response = app.sign_in(&browser, "bob", PASSWORD, "/").await;
    assert_eq!(response.status(), 429, "bob's pair is over the limit");
    assert_eq!(
        me_as(&app, &app.client, "bob", PASSWORD).await.0,
        429,
        "the same count for Basic"
    );

    // The admin's Basic calls and Carol's sign-in from that address are served.
    assert_eq!(
        me_as(&app, &app.client, ADMIN, ADMIN_PASSWORD).await,
        (200, Some(ADMIN.to_string()))
    );
    let carol = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = app.sign_in(&carol, "carol", PASSWORD, "/").await;
    assert_eq!(response.status(), 302);
    // Unknown accounts fail like wrong passwords, and do not count against anyone else.
    for n in 0..5 {
        let (status, _) = me_as(&app, &app.client, &format!("ghost{n}"), "x").await;
        assert_eq!(status, 401);
    }
    assert_eq!(me_as(&app, &app.client, "carol", PASSWORD).await.0, 200);
    // Bob from an address that has not failed for him is served too.
    assert_eq!(
        me_as(&app, &client_from("127.0.0.2"), "bob", PASSWORD).await,
        (200, Some("bob".to_string()))
    );
}

/// An account guessed at from many addresses: each address that has failed for it meets the
/// account's count; one that never failed for it does not. A success from an address clears
/// that address's count for the account.
#[tokio::test]
async fn an_account_guessed_at_from_many_addresses_is_throttled_where_it_failed() {
    let app = spawn_app_with(|s| {
        s.common.throttle = service_kit::auth::ThrottlePolicy {
            free_failures: 3,
            max_failures: 3,
            window_millis: 60_000,
        };
    })
    .await;
    app.create_user("bob").await;
    for n in 2..=4 {
        let from = client_from(&format!("127.0.0.{n}"));
        assert_eq!(
            me_as(&app, &from, "bob", "guess").await.0,
            401,
            "127.0.0.{n}"
        );
    }
    // 127.0.0.2 failed once for Bob, and Bob's account has failed 3 times: refused there.
    let guesser = client_from("127.0.0.2");
    assert_eq!(me_as(&app, &guesser, "bob", "guess").await.0, 429);
    assert_eq!(me_as(&app, &guesser, "bob", PASSWORD).await.0, 429);
    // Bob at an address that never failed for him signs in.
    let bob = client_from("127.0.0.5");
    assert_eq!(me_as(&app, &bob, "bob", PASSWORD).await.0, 200);
    // One typo there: now Bob's account count applies to that address, until the window ends.
    assert_eq!(me_as(&app, &bob, "bob", "typo").await.0, 401);
    assert_eq!(me_as(&app, &bob, "bob", PASSWORD).await.0, 429);
    // The admin, from the guessers' addresses, is unaffected.
    assert_eq!(me_as(&app, &guesser, ADMIN, ADMIN_PASSWORD).await.0, 200);
}

/// Each failed login past the free ones costs a growing delay before the answer.
#[tokio::test]
async fn failed_logins_back_off() {
    let app = spawn_app_with(|s| {
        s.common.throttle = service_kit::auth::ThrottlePolicy {
            free_failures: 1,
            max_failures: 10,
            window_millis: 60_000,
        };
    })
    .await;
    // API keys are checked by digest: no password hashing to hide the delays.
    let mut took = Vec::new();
    for _ in 0..4 {
        let started = std::time::Instant::now();
        assert_eq!(me_as(&app, &app.client, "apikey", "wrong").await.0, 401);
        took.push(started.elapsed());
    }
    assert!(took[2] >= std::time::Duration::from_millis(100), "{took:?}");
    assert!(took[3] >= std::time::Duration::from_millis(400), "{took:?}");
    // Another account from the same address is served.
    assert_eq!(me_as(&app, &app.client, ADMIN, ADMIN_PASSWORD).await.0, 200);
}

/// API keys are long random values, like client secrets: wrong ones from an address are
/// refused past the limit, and a right one from that very address is still served.
#[tokio::test]
async fn wrong_api_keys_never_refuse_a_right_one() {
    let app = spawn_app_with(|s| {
        s.common.throttle = service_kit::auth::ThrottlePolicy {
            free_failures: 3,
            max_failures: 3,
            window_millis: 60_000,
        };
    })
    .await;
    let created = app
        .as_admin(app.client.post(app.url("/api/v3/users/me/api_token")))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let key = body(created).await["token"].as_str().unwrap().to_string();
    for _ in 0..3 {
        assert_eq!(me_as(&app, &app.client, "apikey", "wrong").await.0, 401);
    }
    assert_eq!(me_as(&app, &app.client, "apikey", "wrong").await.0, 429);
    assert_eq!(
        me_as(&app, &app.client, "apikey", &key).await,
        (200, Some(ADMIN.to_string()))
    );
    assert_eq!(
        me_as(&app, &client_from("127.0.0.2"), "apikey", "wrong")
            .await
            .0,
        401,
        "counted per address"
    );
}
