//! What real Nextcloud and real OpenProject clients read (issue 21): status and type fields,
//! projects' storages, the resource filter of bulk notification marking, blank storage hrefs.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    fake_nextcloud::{Behaviour, FakeNextcloud},
    helpers::{body, spawn_app, TestApp, MEMBER_ROLE},
};

/// A storage enabled in project "One" (storages module on); project "Two" without the module.
/// alice is a member of both, bob of neither.
struct World {
    app: TestApp,
    nextcloud: FakeNextcloud,
    storage_id: i64,
    one: i64,
    two: i64,
    wp_id: i64,
}

async fn world() -> World {
    let app = spawn_app().await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let storage_id = app.create_storage("Cloud", &nextcloud.url).await["id"]
        .as_i64()
        .unwrap();
    let one = app.create_project("One").await;
    app.enable_module(one, "storages").await;
    app.enable_storage(one, storage_id).await;
    let two = app.create_project("Two").await;
    let alice = app.create_user("alice").await;
    app.create_user("bob").await;
    app.add_member(one, alice, MEMBER_ROLE).await;
    app.add_member(two, alice, MEMBER_ROLE).await;
    let wp_id = app.create_work_package(one, "Roadmap").await;
    World {
        app,
        nextcloud,
        storage_id,
        one,
        two,
        wp_id,
    }
}

fn filter(name: &str, values: &[&str]) -> String {
    json!([{name: {"operator": "=", "values": values}}]).to_string()
}

#[tokio::test]
async fn statuses_and_types_carry_the_fields_real_clients_read() {
    let app = spawn_app().await;
    let status = body(app.admin_get("/api/v3/statuses/1").await).await;
    assert_eq!(status["isReadonly"], false);
    assert_eq!(status["defaultDoneRatio"], Value::Null);
    let statuses = body(app.admin_get("/api/v3/statuses").await).await;
    for element in statuses["_embedded"]["elements"].as_array().unwrap() {
        assert!(element["isReadonly"].is_boolean());
        assert!(element
            .as_object()
            .unwrap()
            .contains_key("defaultDoneRatio"));
    }
    let task = body(app.admin_get("/api/v3/types/1").await).await;
    let created = task["createdAt"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(created).is_ok());
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    assert!(task["updatedAt"].is_string());
    let types = body(app.admin_get("/api/v3/types").await).await;
    for element in types["_embedded"]["elements"].as_array().unwrap() {
        assert!(element["createdAt"].is_string());
        assert!(element["updatedAt"].is_string());
    }
}

#[tokio::test]
async fn projects_list_their_storages_to_those_who_view_file_links() {
    let w = world().await;
    let app = &w.app;
    let expected =
        json!([{"href": format!("/api/v3/storages/{}", w.storage_id), "title": "Cloud"}]);
    let one = body(
        app.user_get("alice", &format!("/api/v3/projects/{}", w.one))
            .await,
    )
    .await;
    assert_eq!(one["_links"]["storages"], expected);
    // Without the storages module nobody holds view_file_links there: no link at all.
    let two = body(
        app.user_get("alice", &format!("/api/v3/projects/{}", w.two))
            .await,
    )
    .await;
    assert!(two["_links"].get("storages").is_none(), "{two}");

    let listed = body(app.user_get("alice", "/api/v3/projects").await).await;
    let elements = listed["_embedded"]["elements"].as_array().unwrap();
    assert_eq!(elements[0]["_links"]["storages"], expected);
    assert!(elements[1]["_links"].get("storages").is_none());

    let available = body(
        app.user_get("alice", "/api/v3/work_packages/available_projects")
            .await,
    )
    .await;
    let elements = available["_embedded"]["elements"].as_array().unwrap();
    assert_eq!(elements[0]["name"], "One");
    assert_eq!(elements[0]["_links"]["storages"], expected);
    assert!(elements[1]["_links"].get("storages").is_none());

    // Enabled with the module but without a storage: an empty list.
    app.enable_module(w.two, "storages").await;
    let two = body(
        app.user_get("alice", &format!("/api/v3/projects/{}", w.two))
            .await,
    )
    .await;
    assert_eq!(two["_links"]["storages"], json!([]));
}

#[tokio::test]
async fn marking_notifications_of_an_unseen_work_package_is_an_invalid_query() {
    let w = world().await;
    let app = &w.app;
    let invalid = json!({"_type": "Error",
                         "errorIdentifier": "urn:openproject-org:api:v3:errors:InvalidQuery",
                         "message": ["Filters Resource filter has invalid values."]});
    let wp = w.wp_id.to_string();
    for (login, values) in [
        ("alice", vec!["999999"]),
        ("alice", vec![wp.as_str(), "999999"]),
        ("alice", vec!["abc"]),
        ("bob", vec![wp.as_str()]),
    ] {
        for action in ["read_ian", "unread_ian"] {
            let response = app
                .user_json(
                    login,
                    Method::POST,
                    &format!(
                        "/api/v3/notifications/{action}?filters={}",
                        filter("resourceId", &values)
                    ),
                    None,
                )
                .await;
            assert_eq!(response.status(), 400, "{login} {action} {values:?}");
            assert_eq!(body(response).await, invalid);
        }
    }
    // A visible work package without notifications is fine.
    let response = app
        .user_json(
            "alice",
            Method::POST,
            &format!(
                "/api/v3/notifications/read_ian?filters={}",
                filter("resourceId", &[&wp])
            ),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn a_blank_storage_url_is_a_blank_storage() {
    let w = world().await;
    for (storage_url, status, message) in [
        ("", 422, Some("Storage can't be blank.")),
        (
            "https://unknown.example.com",
            422,
            Some("Storage does not exist."),
        ),
        (w.nextcloud.url.as_str(), 201, None),
    ] {
        let response = w
            .app
            .admin_json(
                Method::POST,
                &format!("/api/v3/work_packages/{}/file_links", w.wp_id),
                &json!({"_type": "Collection", "_embedded": {"elements": [
                    {"originData": {"id": "12", "name": "file.txt", "mimeType": "text/plain"},
                     "_links": {"storageUrl": {"href": storage_url}}}]}}),
            )
            .await;
        assert_eq!(response.status(), status, "{storage_url}");
        if let Some(message) = message {
            let v = body(response).await;
            assert_eq!(v["message"], message);
            assert_eq!(v["_embedded"]["details"]["attribute"], "storage");
        }
    }
}
