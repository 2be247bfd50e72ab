use serde_json::{json, Value};

use crate::helpers::{assert_shape, meta, spawn_app};

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
        let data = &body["ocs"]["data"];
        assert_shape(data, "nc_cloud_user");
        for (key, value) in [
            ("id", json!("admin")),
            ("enabled", json!(true)),
            ("email", json!(null)),
            ("displayname", json!("admin")),
            ("display-name", json!("admin")),
            ("groups", json!(["admin"])),
            ("subadmin", json!([])),
            ("language", json!("en")),
            ("locale", json!("")),
            ("backend", json!("Database")),
            ("emailScope", json!("v2-federated")),
            ("avatarScope", json!("v2-federated")),
            ("phoneScope", json!("v2-local")),
            ("additional_mail", json!([])),
            (
                "backendCapabilities",
                json!({"setDisplayName": true, "setPassword": true}),
            ),
            (
                "quota",
                json!({"free": -3, "used": 0, "total": -3, "relative": 0.0, "quota": -3}),
            ),
        ] {
            assert_eq!(data[key], value, "{key}");
        }
    }
}

#[tokio::test]
async fn no_or_unknown_tokens_are_997_in_the_asked_format() {
    let app = spawn_app().await;
    let requests = [
        app.get("/ocs/v2.php/cloud/user?format=json")
            .bearer_auth("TESTBEARERTOKEN"),
        app.get("/ocs/v2.php/cloud/user?format=json"),
        app.get("/ocs/v1.php/cloud/user?format=json"),
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

/// Nextcloud logs Basic credentials in before it routes an OCS request: when they fail, the
/// answer is its fixed XML document, whatever the path or the format asked for.
#[tokio::test]
async fn wrong_basic_credentials_are_an_xml_401_before_routing() {
    let app = spawn_app().await;
    let requests = [
        app.get_as("/ocs/v1.php/cloud/user?format=json", "admin", "wrong"),
        app.get_as("/ocs/v2.php/cloud/user?format=json", "nobody", "pw"),
        app.get_as("/ocs/v2.php/cloud/user", "admin", "wrong")
            .header("Accept", "application/json"),
        app.get("/ocs/v1.php/cloud/user?format=json")
            .header("Authorization", "Basic !!!"),
        app.get_as("/ocs/v2.php/no/such/route?format=json", "admin", "wrong"),
        app.get_as(
            "/ocs/v1.php/cloud/capabilities?format=json",
            "admin",
            "wrong",
        ),
        app.get_as(
            "/ocs/v2.php/apps/integration_openproject/api/v1/notifications?format=json",
            "admin",
            "wrong",
        ),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"Authorisation Required\""
        );
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml"));
        let xml = response.text().await.unwrap();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\"?>\n<ocs>\n <meta>\n  <status>failure</status>\n  <statuscode>997</statuscode>\n  <message>Unauthorised</message>\n </meta>\n <data/>\n</ocs>\n"
        );
        assert!(!xml.contains("totalitems") && !xml.contains("itemsperpage"));
    }
    // Right credentials on an unknown route are still 998.
    let response = app
        .get_as_admin("/ocs/v2.php/no/such/route?format=json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ocs"]["meta"]["statuscode"], 998);
}

#[tokio::test]
async fn another_user_reads_the_same_fields_as_an_admin() {
    let app = spawn_app().await;
    app.create_user("alice", "alice-password-1").await;
    for (login, password) in [
        (app.admin_user.as_str(), app.admin_password.as_str()),
        ("alice", "alice-password-1"),
    ] {
        let response = app
            .get_as("/ocs/v2.php/cloud/users/alice?format=json", login, password)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{login}");
        let body: Value = response.json().await.unwrap();
        assert_shape(&body["ocs"]["data"], "nc_cloud_user");
        assert_eq!(body["ocs"]["data"]["id"], "alice");
    }
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
