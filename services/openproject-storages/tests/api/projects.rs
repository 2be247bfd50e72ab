//! Projects, modules, roles and memberships (openproject-storages.md §2–§4).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{body, spawn_app, MEMBER_ROLE, PROJECT_ADMIN_ROLE, READER_ROLE};

fn messages(v: &Value) -> Vec<String> {
    match v["_embedded"]["errors"].as_array() {
        Some(errors) => errors
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect(),
        None => vec![v["message"].as_str().unwrap().to_string()],
    }
}

#[tokio::test]
async fn projects_are_created_by_admins_with_their_rules() {
    let app = spawn_app().await;
    let response = app
        .admin_json(
            Method::POST,
            "/api/v3/projects",
            &json!({"name": "Demo project", "description": {"raw": "Hi"}}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let project = body(response).await;
    assert_eq!(project["_type"], "Project");
    assert_eq!(project["identifier"], "demo-project");
    assert_eq!(project["public"], false);
    assert_eq!(project["description"]["raw"], "Hi");
    assert_eq!(project["_links"]["parent"]["href"], Value::Null);
    let id = project["id"].as_i64().unwrap();
    assert_eq!(
        project["_links"]["workPackages"]["href"],
        format!("/api/v3/projects/{id}/work_packages")
    );
    // By identifier too; new projects have only work package tracking.
    let by_identifier = body(app.admin_get("/api/v3/projects/demo-project").await).await;
    assert_eq!(by_identifier["id"], id);
    let modules = body(
        app.admin_get(&format!("/api/v3/projects/{id}/modules"))
            .await,
    )
    .await;
    assert_eq!(modules["enabled"], json!(["work_package_tracking"]));
    assert_eq!(
        modules["available"],
        json!(["storages", "work_package_tracking"])
    );

    for (request, expected) in [
        (json!({}), vec!["Name can't be blank."]),
        (
            json!({"name": "Demo project"}),
            vec!["Identifier has already been taken."],
        ),
        (
            json!({"name": "x", "identifier": "1abc"}),
            vec!["Identifier is invalid."],
        ),
        (
            json!({"name": "x", "identifier": format!("a{}", "b".repeat(100))}),
            vec!["Identifier is too long (maximum is 100 characters)."],
        ),
        (
            json!({"name": "", "identifier": "Bad"}),
            vec!["Name can't be blank.", "Identifier is invalid."],
        ),
    ] {
        let response = app
            .admin_json(Method::POST, "/api/v3/projects", &request)
            .await;
        assert_eq!(response.status(), 422, "{request}");
        assert_eq!(messages(&body(response).await), expected, "{request}");
    }
    app.create_user("alice").await;
    let response = app
        .user_json(
            "alice",
            Method::POST,
            "/api/v3/projects",
            Some(&json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn members_see_their_projects_and_non_members_see_nothing() {
    let app = spawn_app().await;
    let p1 = app.create_project("One").await;
    let p2 = app.create_project("Two").await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let carol = app.create_user("carol").await;
    app.add_member(p1, alice, MEMBER_ROLE).await;
    app.add_member(p1, bob, READER_ROLE).await;

    let listed = body(app.user_get("alice", "/api/v3/projects").await).await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["_embedded"]["elements"][0]["id"], p1);
    let all = body(app.admin_get("/api/v3/projects").await).await;
    assert_eq!(all["total"], 2);
    let filtered = body(
        app.admin_get(&format!(
            "/api/v3/projects?filters=[{{\"id\":{{\"operator\":\"=\",\"values\":[\"{p2}\"]}}}}]"
        ))
        .await,
    )
    .await;
    assert_eq!(filtered["_embedded"]["elements"][0]["id"], p2);
    assert_eq!(filtered["total"], 1);
    let bad = app
        .admin_get("/api/v3/projects?filters=[{\"name\":{\"operator\":\"=\",\"values\":[]}}]")
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        body(bad).await["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:InvalidQuery"
    );

    assert_eq!(
        app.user_get("alice", &format!("/api/v3/projects/{p2}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.user_get("carol", &format!("/api/v3/projects/{p1}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        body(app.user_get("carol", "/api/v3/projects").await).await["total"],
        0
    );

    // Users see who they share a project with.
    assert_eq!(
        app.user_get("alice", &format!("/api/v3/users/{bob}"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.user_get("alice", &format!("/api/v3/users/{carol}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.user_get("carol", &format!("/api/v3/users/{alice}"))
            .await
            .status(),
        404
    );

    // Memberships: the caller's projects' only; filters.
    let seen = body(app.user_get("alice", "/api/v3/memberships").await).await;
    assert_eq!(seen["total"], 2);
    assert_eq!(
        body(app.user_get("carol", "/api/v3/memberships").await).await["total"],
        0
    );
    let by_principal = body(
        app.admin_get(&format!(
            "/api/v3/memberships?filters=[{{\"principal\":{{\"operator\":\"=\",\"values\":[\"{bob}\"]}}}}]"
        ))
        .await,
    )
    .await;
    assert_eq!(by_principal["total"], 1);
    let membership = &by_principal["_embedded"]["elements"][0];
    assert_eq!(membership["_links"]["roles"][0]["title"], "Reader");
    assert_eq!(membership["_links"]["project"]["title"], "One");
    let membership_id = membership["id"].as_i64().unwrap();
    assert_eq!(
        app.user_get("carol", &format!("/api/v3/memberships/{membership_id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.user_get("alice", &format!("/api/v3/memberships/{membership_id}"))
            .await
            .status(),
        200
    );
    let response = app
        .user_json(
            "alice",
            Method::DELETE,
            &format!("/api/v3/memberships/{membership_id}"),
            None,
        )
        .await;
    assert_eq!(response.status(), 403);
    let response = app
        .as_admin(
            app.client
                .delete(app.url(&format!("/api/v3/memberships/{membership_id}"))),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.user_get("alice", &format!("/api/v3/users/{bob}"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn membership_rules_in_order() {
    let app = spawn_app().await;
    let p1 = app.create_project("One").await;
    let alice = app.create_user("alice").await;
    app.add_member(p1, alice, MEMBER_ROLE).await;
    let post = |links: Value| {
        let app = &app;
        async move {
            let response = app
                .admin_json(
                    Method::POST,
                    "/api/v3/memberships",
                    &json!({"_links": links}),
                )
                .await;
            assert_eq!(response.status(), 422);
            messages(&body(response).await)
        }
    };
    assert_eq!(
        post(json!({})).await,
        vec![
            "Project can't be blank.",
            "Principal can't be blank.",
            "Roles need to be assigned."
        ]
    );
    assert_eq!(
        post(
            json!({"project": {"href": format!("/api/v3/projects/{p1}")},
                    "principal": {"href": format!("/api/v3/users/{alice}")},
                    "roles": [{"href": "/api/v3/roles/2"}]})
        )
        .await,
        vec!["Principal has already been taken."]
    );
    assert_eq!(
        post(
            json!({"project": {"href": format!("/api/v3/projects/{p1}")},
                    "principal": {"href": "/api/v3/users/999"},
                    "roles": [{"href": "/api/v3/roles/99"}]})
        )
        .await,
        vec!["Principal can't be blank.", "Roles need to be assigned."]
    );
    let roles = body(app.admin_get("/api/v3/roles").await).await;
    let names: Vec<&str> = roles["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Project admin", "Member", "Reader"]);
    assert_eq!(
        body(
            app.admin_get(&format!("/api/v3/roles/{PROJECT_ADMIN_ROLE}"))
                .await
        )
        .await["name"],
        "Project admin"
    );
}

#[tokio::test]
async fn modules_are_switched_with_select_project_modules() {
    let app = spawn_app().await;
    let p1 = app.create_project("One").await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    app.add_member(p1, alice, PROJECT_ADMIN_ROLE).await;
    app.add_member(p1, bob, MEMBER_ROLE).await;
    let path = format!("/api/v3/projects/{p1}/modules/storages");
    let response = app.user_json("bob", Method::PUT, &path, None).await;
    assert_eq!(response.status(), 403);
    for _ in 0..2 {
        let response = app.user_json("alice", Method::PUT, &path, None).await;
        assert_eq!(response.status(), 200);
        let modules = body(response).await;
        assert_eq!(
            modules["enabled"],
            json!(["storages", "work_package_tracking"])
        );
        assert_eq!(
            modules["_links"]["project"]["href"],
            format!("/api/v3/projects/{p1}")
        );
    }
    // A body, if any, follows the API's content-type rule.
    let response = app
        .client
        .put(app.url(&path))
        .basic_auth("alice", Some(crate::helpers::PASSWORD))
        .header("Content-Type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = app.user_json("alice", Method::DELETE, &path, None).await;
    assert_eq!(
        body(response).await["enabled"],
        json!(["work_package_tracking"])
    );
    let unknown = app
        .user_json(
            "alice",
            Method::PUT,
            &format!("/api/v3/projects/{p1}/modules/wiki"),
            None,
        )
        .await;
    assert_eq!(unknown.status(), 404);
    let carol = app.create_user("carol").await;
    let _ = carol;
    assert_eq!(
        app.user_json("carol", Method::PUT, &path, None)
            .await
            .status(),
        404
    );
}
