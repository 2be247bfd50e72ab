use serde_json::{json, Value};
use service_kit::auth::ThrottlePolicy;

use crate::helpers::{spawn_app, spawn_app_with};

const PATHS: [&str; 2] = [
    "/index.php/apps/integration_openproject/check-config",
    "/apps/integration_openproject/check-config",
];

#[tokio::test]
async fn anonymous_requests_echo_nothing() {
    let app = spawn_app().await;
    for path in PATHS {
        let response = app.get(path).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"user_id": "", "authorization_header": ""})
        );
    }
}

#[tokio::test]
async fn basic_requests_name_the_user_and_echo_the_header() {
    let app = spawn_app().await;
    for path in PATHS {
        let response = app.get_as_admin(path).send().await.unwrap();
        let header = response_header(&app.admin_user, &app.admin_password);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"user_id": "admin", "authorization_header": header})
        );
    }
    // Wrong credentials leave a public route anonymous.
    let response = app.get_as(PATHS[0], "admin", "wrong").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["user_id"], "");
}

#[tokio::test]
async fn unknown_bearer_tokens_stay_anonymous_and_are_never_throttled() {
    let app = spawn_app_with(|s| {
        s.common.throttle = ThrottlePolicy {
            free_failures: 1,
            max_failures: 2,
            window_millis: 60_000,
        }
    })
    .await;
    for _ in 0..5 {
        let response = app
            .get(PATHS[1])
            .bearer_auth("TESTBEARERTOKEN")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"user_id": "", "authorization_header": "Bearer TESTBEARERTOKEN"})
        );
    }
    let response = app.get_as_admin(PATHS[1]).send().await.unwrap();
    assert_eq!(response.json::<Value>().await.unwrap()["user_id"], "admin");
}

fn response_header(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}
