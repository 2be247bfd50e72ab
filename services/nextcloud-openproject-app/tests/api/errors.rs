use serde_json::{json, Value};

use crate::helpers::{meta, spawn_app};

#[tokio::test]
async fn unknown_routes_and_methods_are_404() {
    let app = spawn_app().await;
    let response = app.get("/nope").send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "Not found"})
    );
    let response = app.api.post(app.url("/status.php")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let response = app
        .get("/index.php/apps/integration_openproject/nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = app
        .get("/ocs/v2.php/cloud/nope?format=json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(meta(&body).1, 998);
}

#[tokio::test]
async fn oversized_bodies_are_413_in_the_family_format() {
    let app = spawn_app().await;
    let big = "x".repeat(1024 * 1024 + 1);
    for version in ["v1", "v2"] {
        let response = app
            .api
            .post(app.url(&format!("/ocs/{version}.php/cloud/users?format=json")))
            .basic_auth(&app.admin_user, Some(&app.admin_password))
            .header("Content-Type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            meta(&body),
            ("failure", 413, "The request body is too large.")
        );
    }
    let response = app
        .api
        .post(app.url("/index.php/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "The request body is too large."})
    );
}

#[tokio::test]
async fn malformed_query_strings_are_400_in_the_family_format() {
    let app = spawn_app().await;
    let response = app
        .get("/index.php/login?redirect_url=/a&redirect_url=/b")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "The query string is not valid."})
    );
}
