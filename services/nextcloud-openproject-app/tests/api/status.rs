use serde_json::Value;
use storage_protocol::fixtures::load;

use crate::helpers::spawn_app;

#[tokio::test]
async fn status_php_is_the_contract_body_readable_from_anywhere() {
    let app = spawn_app().await;
    let response = app.get("/status.php").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert_eq!(response.json::<Value>().await.unwrap(), load("nc_status"));
}

#[tokio::test]
async fn responses_refuse_framing() {
    let app = spawn_app().await;
    let response = app.get("/index.php/login").send().await.unwrap();
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert!(response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}
