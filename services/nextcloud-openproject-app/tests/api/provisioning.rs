use serde_json::{json, Value};
use storage_protocol::nextcloud::messages;

use crate::helpers::{meta, spawn_app};

#[tokio::test]
async fn a_provisioned_user_can_log_in() {
    let app = spawn_app().await;
    let response = app
        .provision(
            "v1",
            &[
                ("userid", "Bob"),
                ("password", "bob-password"),
                ("displayName", "Bob B"),
                ("email", "bob@example.com"),
                ("groups[]", "admin"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(meta(&body), ("ok", 100, "OK"));
    assert_eq!(body["ocs"]["data"], json!({"id": "Bob"}));

    let response = app
        .get_as("/ocs/v2.php/cloud/user?format=json", "Bob", "bob-password")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let data = &body["ocs"]["data"];
    for (key, value) in [
        ("id", json!("Bob")),
        ("enabled", json!(true)),
        ("email", json!("bob@example.com")),
        ("displayname", json!("Bob B")),
        ("display-name", json!("Bob B")),
        ("groups", json!(["admin"])),
        ("language", json!("en")),
        ("backend", json!("Database")),
        (
            "quota",
            json!({"free": -3, "used": 0, "total": -3, "relative": 0.0, "quota": -3}),
        ),
    ] {
        assert_eq!(data[key], value, "{key}");
    }
}

#[tokio::test]
async fn json_bodies_work() {
    let app = spawn_app().await;
    let response = app
        .api
        .post(app.url("/ocs/v2.php/cloud/users?format=json"))
        .basic_auth(&app.admin_user, Some(&app.admin_password))
        .json(&json!({"userid": "dora", "password": "dora-password", "groups": ["admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(meta(&body), ("ok", 200, "OK"));
    let response = app
        .get_as(
            "/ocs/v2.php/cloud/user?format=json",
            "dora",
            "dora-password",
        )
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ocs"]["data"]["groups"], json!(["admin"]));
}

/// Form, OCS code, message.
type Refusal = (&'static [(&'static str, &'static str)], u64, &'static str);

#[tokio::test]
async fn refusals_in_table_order() {
    let app = spawn_app().await;
    app.create_user("erin", "erin-password").await;
    let invalid = messages::INVALID_USER_ID;
    let cases: [Refusal; 6] = [
        (
            &[("userid", "ERIN"), ("password", "x")],
            102,
            "User already exists",
        ),
        // An existing id wins over the empty password.
        (&[("userid", "erin")], 102, "User already exists"),
        (&[("userid", "a/b"), ("password", "x")], 101, invalid),
        (&[("password", "x")], 101, invalid),
        (
            &[("userid", "fred"), ("password", "x"), ("groups[]", "staff")],
            104,
            "group staff does not exist",
        ),
        (
            &[("userid", "fred"), ("password", "")],
            108,
            "To send a password link to the user an email address is required.",
        ),
    ];
    for (form, code, message) in cases {
        // Codes 101-108 are HTTP 400 with v2.
        for (version, status) in [("v1", 200), ("v2", 400)] {
            let response = app.provision(version, form).await;
            assert_eq!(response.status(), status, "{version} {form:?}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                meta(&body),
                ("failure", code, message),
                "{version} {form:?}"
            );
        }
    }
}

#[tokio::test]
async fn only_admins_provision() {
    let app = spawn_app().await;
    app.create_user("gina", "gina-password").await;
    for (version, status) in [("v1", 200), ("v2", 403)] {
        let response = app
            .api
            .post(app.url(&format!("/ocs/{version}.php/cloud/users?format=json")))
            .basic_auth("gina", Some("gina-password"))
            // Invalid as well: the 403 comes first.
            .form(&[("userid", "a/b")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            meta(&body),
            (
                "failure",
                403,
                "Logged in account must be at least a sub admin"
            )
        );
    }
    let response = app
        .api
        .post(app.url("/ocs/v2.php/cloud/users?format=json"))
        .form(&[("userid", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn malformed_json_is_ocs_400() {
    let app = spawn_app().await;
    for (version, status) in [("v1", 200), ("v2", 400)] {
        let response = app
            .api
            .post(app.url(&format!("/ocs/{version}.php/cloud/users?format=json")))
            .basic_auth(&app.admin_user, Some(&app.admin_password))
            .header("Content-Type", "application/json")
            .body("{\"userid\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        let body: Value = response.json().await.unwrap();
        assert_eq!(meta(&body).1, 400);
    }
}

#[tokio::test]
async fn query_parameters_work() {
    let app = spawn_app().await;
    let response = app
        .api
        .post(app.url(
            "/ocs/v1.php/cloud/users?format=json&userid=hank&password=hank-password&groups[]=admin",
        ))
        .basic_auth(&app.admin_user, Some(&app.admin_password))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(meta(&body), ("ok", 100, "OK"));
    let response = app
        .get_as(
            "/ocs/v1.php/cloud/user?format=json",
            "hank",
            "hank-password",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
