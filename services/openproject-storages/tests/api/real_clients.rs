//! What real Nextcloud and real OpenProject clients read (issue 21): status and type fields,
//! projects' storages, the resource filter of bulk notification marking, blank storage hrefs.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    fake_nextcloud::{Behaviour, FakeNextcloud},
    helpers::{body, spawn_app, TestApp, MEMBER_ROLE, READER_ROLE},
};

/// A storage enabled in project "One" (storages module on); project "Two" without the module.
/// alice is a member of both, rita a reader of One, bob in neither.
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
    let rita = app.create_user("rita").await;
    app.add_member(one, alice, MEMBER_ROLE).await;
    app.add_member(one, rita, READER_ROLE).await;
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

#[tokio::test]
async fn the_work_package_form_validates_without_writing() {
    let w = world().await;
    let app = &w.app;
    let form_path = format!("/api/v3/projects/{}/work_packages/form", w.one);
    let count = || async {
        body(
            app.admin_get(&format!(
                "/api/v3/projects/{}/work_packages?filters=[]",
                w.one
            ))
            .await,
        )
        .await["total"]
            .clone()
    };
    let before = count().await;

    let response = app
        .user_json(
            "alice",
            Method::POST,
            &form_path,
            Some(&json!({"subject": "Plan"})),
        )
        .await;
    assert_eq!(response.status(), 200);
    let form = body(response).await;
    serde_json::from_value::<storage_protocol::work_packages::WorkPackageForm>(form.clone())
        .expect("the form's wire shape");
    assert_eq!(form["_type"], "Form");
    let payload = &form["_embedded"]["payload"];
    assert_eq!(payload["subject"], "Plan");
    assert_eq!(payload["_links"]["type"]["title"], "Task");
    assert_eq!(payload["_links"]["status"]["title"], "New");
    assert_eq!(payload["_links"]["priority"]["title"], "Normal");
    assert_eq!(payload["_links"]["assignee"]["href"], Value::Null);
    assert_eq!(
        payload["_links"]["project"]["href"],
        format!("/api/v3/projects/{}", w.one)
    );
    assert_eq!(form["_embedded"]["validationErrors"], json!({}));
    assert_eq!(form["_embedded"]["schema"]["subject"]["required"], true);
    assert_eq!(form["_embedded"]["schema"]["type"]["hasDefault"], true);
    assert_eq!(
        form["_links"]["commit"],
        json!({"href": format!("/api/v3/projects/{}/work_packages", w.one), "method": "post"})
    );
    assert_eq!(form["_links"]["validate"]["href"], form_path);

    let response = app
        .user_json(
            "alice",
            Method::POST,
            &form_path,
            Some(
                &json!({"subject": "", "_links": {"assignee": {"href": "/api/v3/users/999"},
                                                   "status": {"href": "/api/v3/statuses/2"}}}),
            ),
        )
        .await;
    assert_eq!(response.status(), 200);
    let form = body(response).await;
    let errors = form["_embedded"]["validationErrors"].as_object().unwrap();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["assignee", "subject"]);
    assert_eq!(errors["subject"]["message"], "Subject can't be blank.");
    assert_eq!(
        errors["assignee"]["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:PropertyConstraintViolation"
    );
    assert_eq!(
        form["_embedded"]["payload"]["_links"]["status"]["title"],
        "In progress"
    );
    assert!(form["_links"].get("commit").is_none());
    assert_eq!(count().await, before, "the form writes nothing");

    // Who may not add work packages there.
    for (login, status) in [("bob", 404), ("rita", 403)] {
        let response = app
            .user_json(
                login,
                Method::POST,
                &form_path,
                Some(&json!({"subject": "x"})),
            )
            .await;
        assert_eq!(response.status(), status, "{login}");
    }
    let response = app
        .user_json(
            "alice",
            Method::POST,
            "/api/v3/projects/999/work_packages/form",
            Some(&json!({})),
        )
        .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn available_assignees_are_those_who_see_work_packages() {
    let w = world().await;
    let app = &w.app;
    let path = format!("/api/v3/projects/{}/available_assignees", w.one);
    let response = app.user_get("alice", &path).await;
    assert_eq!(response.status(), 200);
    let listed = body(response).await;
    assert_eq!(listed["_type"], "Collection");
    assert_eq!(listed["_links"]["self"]["href"], path);
    let names: Vec<&str> = listed["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["_links"]["self"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().all(|n| !n.to_lowercase().contains("bob")));
    assert_eq!(listed["total"], 3);
    assert_eq!(app.user_get("rita", &path).await.status(), 403);
    assert_eq!(app.user_get("bob", &path).await.status(), 404);
}

#[tokio::test]
async fn a_created_work_package_embeds_what_it_links_to() {
    let w = world().await;
    let app = &w.app;
    let alice = body(app.user_get("alice", "/api/v3/users/me").await).await["id"]
        .as_i64()
        .unwrap();
    let response = app
        .user_json(
            "alice",
            Method::POST,
            &format!("/api/v3/projects/{}/work_packages", w.one),
            Some(&json!({"subject": "Mine", "_links": {"assignee": {"href": format!("/api/v3/users/{alice}")}}})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created = body(response).await;
    serde_json::from_value::<storage_protocol::work_packages::WorkPackage>(created.clone())
        .expect("the work package's wire shape");
    let embedded = &created["_embedded"];
    assert_eq!(embedded["type"]["_type"], "Type");
    assert_eq!(embedded["type"]["name"], "Task");
    assert_eq!(embedded["status"]["name"], "New");
    assert_eq!(embedded["priority"]["name"], "Normal");
    assert_eq!(embedded["project"]["id"], w.one);
    assert_eq!(
        embedded["project"]["_links"]["storages"][0]["href"],
        format!("/api/v3/storages/{}", w.storage_id)
    );
    assert_eq!(embedded["author"]["id"], alice);
    assert_eq!(embedded["assignee"]["id"], alice);

    let response = app
        .user_json(
            "alice",
            Method::POST,
            "/api/v3/work_packages",
            Some(&json!({"subject": "Nobody's", "_links": {"project": {"href": format!("/api/v3/projects/{}", w.two)}}})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created = body(response).await;
    assert_eq!(created["_embedded"]["project"]["id"], w.two);
    assert!(created["_embedded"].get("assignee").is_none());
    assert_eq!(created["_embedded"]["author"]["id"], alice);
}
