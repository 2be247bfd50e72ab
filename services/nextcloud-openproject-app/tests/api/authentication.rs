use serde_json::{json, Value};
use service_kit::auth::ThrottlePolicy;

use crate::helpers::{spawn_app, spawn_app_with};

const USER: &str = "/ocs/v2.php/cloud/user?format=json";

#[tokio::test]
async fn app_passwords_work_as_basic_passwords() {
    let app = spawn_app().await;
    app.create_user("ivan", "ivan-password").await;
    let app_password = app.db_create_app_password("ivan", "OpenProject");
    assert_eq!(app_password.len(), 72);
    let response = app
        .get_as(USER, "ivan", &app_password)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ocs"]["data"]["id"], "ivan");
    // Only for its owner.
    let response = app
        .get_as(USER, "admin", &app_password)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_password_change_ends_cached_logins_at_once() {
    let app = spawn_app().await;
    app.create_user("judy", "old-password").await;
    for _ in 0..2 {
        let response = app
            .get_as(USER, "judy", "old-password")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    app.db_set_password("judy", "new-password");
    let response = app
        .get_as(USER, "judy", "old-password")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = app
        .get_as(USER, "judy", "new-password")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn logins_are_case_insensitive() {
    let app = spawn_app().await;
    let response = app
        .get_as(USER, "ADMIN", &app.admin_password)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ocs"]["data"]["id"], "admin");
}

#[tokio::test]
async fn failed_logins_are_throttled_then_refused() {
    let app = spawn_app_with(|s| {
        s.throttle = ThrottlePolicy {
            free_failures: 2,
            max_failures: 4,
            window_millis: 60_000,
        }
    })
    .await;
    for _ in 0..4 {
        let response = app.get_as(USER, "admin", "wrong").send().await.unwrap();
        assert_eq!(response.status(), 401);
    }
    // Refused even with the right password, on every family.
    let response = app
        .get_as_admin("/apps/integration_openproject/check-config")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"message": "Too many failed login attempts. Try again later."})
    );
    let response = app.get_as_admin(USER).send().await.unwrap();
    assert_eq!(response.status(), 429);
    // Anonymous and Bearer requests are not logins.
    let response = app.get("/status.php").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let response = app
        .get("/apps/integration_openproject/check-config")
        .bearer_auth("TESTBEARERTOKEN")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
