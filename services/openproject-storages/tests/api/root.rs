use serde_json::Value;

use crate::helpers::{body, fixture, spawn_app, ADMIN, ADMIN_PASSWORD, PASSWORD};

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
