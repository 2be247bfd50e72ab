use serde_json::{json, Value};

use crate::helpers::{meta, spawn_app};

#[tokio::test]
async fn the_current_user_is_xml_by_default() {
    let app = spawn_app().await;
    let response = app
        .get_as_admin("/ocs/v1.php/cloud/user")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/xml; charset=utf-8"
    );
    let xml = response.text().await.unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\"?>"));
    assert!(xml.contains("<statuscode>100</statuscode>"));
    assert!(xml.contains("<id>admin</id>"));
}

#[tokio::test]
async fn the_current_user_as_json() {
    let app = spawn_app().await;
    for path in [
        "/ocs/v1.php/cloud/user?format=json",
        "/ocs/v2.php/cloud/user?format=json",
    ] {
        let response = app.get_as_admin(path).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["ocs"]["data"],
            json!({
                "id": "admin", "enabled": true, "email": null, "displayname": "admin",
                "display-name": "admin", "groups": ["admin"], "language": "en",
                "backend": "Database",
                "quota": {"free": -3, "used": 0, "total": -3, "relative": 0.0, "quota": -3}
            })
        );
    }
}

#[tokio::test]
async fn bad_credentials_are_997_and_401() {
    let app = spawn_app().await;
    let requests = [
        app.get_as("/ocs/v1.php/cloud/user?format=json", "admin", "wrong"),
        app.get_as("/ocs/v2.php/cloud/user?format=json", "nobody", "pw"),
        app.get("/ocs/v1.php/cloud/user?format=json")
            .header("Authorization", "Basic !!!"),
        app.get("/ocs/v2.php/cloud/user?format=json")
            .bearer_auth("TESTBEARERTOKEN"),
        app.get("/ocs/v2.php/cloud/user?format=json"),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            meta(&body),
            ("failure", 997, "Current user is not logged in")
        );
    }
    let xml = app
        .get("/ocs/v1.php/cloud/user")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(xml.contains("<statuscode>997</statuscode>"));
}

#[tokio::test]
async fn disabled_users_never_authenticate() {
    let app = spawn_app().await;
    app.create_user("carol", "carol-password").await;
    app.db_set_enabled("carol", false);
    let response = app
        .get_as(
            "/ocs/v2.php/cloud/user?format=json",
            "carol",
            "carol-password",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn users_by_id_for_admins_and_themselves() {
    let app = spawn_app().await;
    app.create_user("alice", "alice-password").await;

    let response = app
        .get_as_admin("/ocs/v2.php/cloud/users/alice?format=json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ocs"]["data"]["id"], "alice");
    assert_eq!(body["ocs"]["data"]["groups"], json!([]));

    let response = app
        .get_as(
            "/ocs/v1.php/cloud/users/alice?format=json",
            "alice",
            "alice-password",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    for (path, status) in [
        ("/ocs/v2.php/cloud/users/admin?format=json", 404),
        ("/ocs/v1.php/cloud/users/admin?format=json", 200),
    ] {
        let response = app
            .get_as(path, "alice", "alice-password")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        let body: Value = response.json().await.unwrap();
        assert_eq!(meta(&body), ("failure", 404, "User does not exist"));
    }
    let response = app
        .get_as_admin("/ocs/v2.php/cloud/users/ghost?format=json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
