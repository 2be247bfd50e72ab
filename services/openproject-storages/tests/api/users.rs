use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{body, fixture, spawn_app, ADMIN, ADMIN_PASSWORD, PASSWORD};

fn messages(error: &Value) -> Vec<(String, String)> {
    let list = match error["errorIdentifier"].as_str().unwrap() {
        "urn:openproject-org:api:v3:errors:MultipleErrors" => {
            error["_embedded"]["errors"].as_array().unwrap().clone()
        }
        _ => vec![error.clone()],
    };
    list.iter()
        .map(|e| {
            (
                e["_embedded"]["details"]["attribute"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn admin_creates_a_user_who_can_then_sign_in() {
    let app = spawn_app().await;
    let request = fixture("op_create_user");
    let response = app
        .admin_json(Method::POST, "/api/v3/users", &request)
        .await;
    assert_eq!(response.status(), 201);
    let created = body(response).await;
    assert_eq!(created["_type"], "User");
    assert_eq!(created["name"], "Bo User");
    assert_eq!(created["login"], "bo");
    assert_eq!(created["email"], "bo@example.com");
    assert_eq!(created["admin"], false);
    assert_eq!(created["status"], "active");
    assert_eq!(created["avatar"], "");
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(created.get("password").is_none() && created.get("passwordHash").is_none());

    let me = body(
        app.get("/api/v3/users/me")
            .basic_auth("BO", Some("a-long-password"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["id"], created["id"], "logins are case-insensitive");
}

#[tokio::test]
async fn validation_messages_come_in_the_contract_order() {
    let app = spawn_app().await;
    let response = app
        .admin_json(
            Method::POST,
            "/api/v3/users",
            &json!({"login": 12, "admin": "yes"}),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        messages(&body(response).await),
        vec![
            ("login".into(), "Username can't be blank.".into()),
            (
                "password".into(),
                "Password is too short (minimum is 10 characters).".into()
            ),
            ("firstName".into(), "First name can't be blank.".into()),
            ("lastName".into(), "Last name can't be blank.".into()),
            ("email".into(), "Email can't be blank.".into()),
            (
                "admin".into(),
                "Admin is not set to one of the allowed values.".into()
            ),
        ]
    );

    app.create_user("carla").await;
    let duplicate = app
        .admin_json(
            Method::POST,
            "/api/v3/users",
            &json!({"login": "CARLA", "password": PASSWORD, "firstName": "C", "lastName": "D", "email": "CARLA@example.com"}),
        )
        .await;
    assert_eq!(
        messages(&body(duplicate).await),
        vec![
            ("login".into(), "Username has already been taken.".into()),
            ("email".into(), "Email has already been taken.".into()),
        ]
    );

    let single = app
        .admin_json(
            Method::POST,
            "/api/v3/users",
            &json!({"login": "dan", "password": PASSWORD, "firstName": "D", "lastName": "E", "email": "not-an-email"}),
        )
        .await;
    let single = body(single).await;
    assert_eq!(
        single["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:PropertyConstraintViolation"
    );
    assert_eq!(single["message"], "Email is invalid.");
}

#[tokio::test]
async fn only_admins_manage_and_list_users() {
    let app = spawn_app().await;
    let bo = app.create_user("bo").await;
    let carla = app.create_user("carla").await;

    let forbidden = app
        .client
        .post(app.url("/api/v3/users"))
        .basic_auth("bo", Some(PASSWORD))
        .json(&fixture("op_create_user"))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    assert_eq!(
        body(forbidden).await,
        fixture("op_error_missing_permission")
    );

    let list = app
        .get("/api/v3/users")
        .basic_auth("bo", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 403);

    let other = app
        .get(&format!("/api/v3/users/{carla}"))
        .basic_auth("bo", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        404,
        "users sharing no project do not see each other"
    );

    let own = body(
        app.get(&format!("/api/v3/users/{bo}"))
            .basic_auth("bo", Some(PASSWORD))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(own["login"], "bo");

    let page = body(
        app.as_admin(app.get("/api/v3/users?pageSize=2&offset=2"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["_type"], "Collection");
    assert_eq!(page["total"], 3);
    assert_eq!(page["count"], 1);
    assert_eq!(page["pageSize"], 2);
    assert_eq!(page["offset"], 2);
    assert_eq!(page["_embedded"]["elements"][0]["id"], carla);
}

#[tokio::test]
async fn changing_a_password_drops_the_old_one_at_once() {
    let app = spawn_app().await;
    let bo = app.create_user("bo").await;
    // Warm the credential cache.
    for _ in 0..2 {
        let ok = app
            .get("/api/v3/users/me")
            .basic_auth("bo", Some(PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
    }
    let changed = app
        .admin_json(
            Method::PATCH,
            &format!("/api/v3/users/{bo}"),
            &json!({"password": "a-brand-new-one"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let old = app
        .get("/api/v3/users/me")
        .basic_auth("bo", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401);
    let new = app
        .get("/api/v3/users/me")
        .basic_auth("bo", Some("a-brand-new-one"))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200);
}

#[tokio::test]
async fn locked_users_authenticate_nowhere() {
    let app = spawn_app().await;
    let bo = app.create_user("bo").await;
    let locked = app
        .admin_json(
            Method::PATCH,
            &format!("/api/v3/users/{bo}"),
            &json!({"status": "locked"}),
        )
        .await;
    assert_eq!(body(locked).await["status"], "locked");
    let refused = app
        .get("/api/v3/users/me")
        .basic_auth("bo", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let bad_status = app
        .admin_json(
            Method::PATCH,
            &format!("/api/v3/users/{bo}"),
            &json!({"status": "asleep"}),
        )
        .await;
    assert_eq!(bad_status.status(), 422);
    assert_eq!(
        body(bad_status).await["message"],
        "Status is not set to one of the allowed values."
    );

    let non_admin = app
        .client
        .patch(app.url(&format!("/api/v3/users/{bo}")))
        .basic_auth(ADMIN, Some(ADMIN_PASSWORD))
        .json(&json!({"firstName": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        body(non_admin).await["message"],
        "First name can't be blank."
    );
}
