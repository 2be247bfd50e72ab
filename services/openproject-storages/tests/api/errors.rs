use reqwest::Method;
use serde_json::json;

use crate::helpers::{body, fixture, spawn_app, ADMIN, ADMIN_PASSWORD};

#[tokio::test]
async fn unknown_paths_methods_and_ids_are_not_found() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/v3/nothing-here"),
        (Method::DELETE, "/api/v3/configuration"),
        (Method::GET, "/api/v3/users/abc"),
        (Method::GET, "/api/v3/users/0"),
        (Method::GET, "/api/v3/users/999999"),
    ] {
        let response = app
            .as_admin(app.client.request(method.clone(), app.url(path)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_eq!(
            body(response).await,
            fixture("op_error_not_found"),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn write_bodies_need_json_content_type() {
    let app = spawn_app().await;
    let missing = app
        .as_admin(app.client.post(app.url("/api/v3/users")))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 406);
    assert_eq!(missing.text().await.unwrap(), "Missing content-type header");

    let wrong = app
        .as_admin(app.client.post(app.url("/api/v3/users")))
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 415);
    assert_eq!(body(wrong).await, fixture("op_error_type_not_supported"));
}

#[tokio::test]
async fn malformed_json_is_invalid_request_body() {
    let app = spawn_app().await;
    let response = app
        .as_admin(app.client.post(app.url("/api/v3/users")))
        .header("Content-Type", "application/json; charset=utf-8")
        .body("{\"login\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error = body(response).await;
    assert_eq!(
        error["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:InvalidRequestBody"
    );
    assert_eq!(error["message"], "The request could not be parsed as JSON.");
    assert!(error["_embedded"]["details"]["parseError"].is_string());
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = crate::helpers::spawn_app_with(|s| s.common.max_body_bytes = 4096).await;
    let big = json!({"login": "x".repeat(5000)});
    let response = app
        .client
        .post(app.url("/api/v3/users"))
        .basic_auth(ADMIN, Some(ADMIN_PASSWORD))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(body(response).await, fixture("op_error_body_too_large"));
}
