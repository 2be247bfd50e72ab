//! The OCS wrappers around the OpenProject API (spec §6) against the fake OpenProject.

use nextcloud_openproject_app::domain::preferences;
use serde_json::{json, Value};

use crate::{
    fake_openproject::{FakeOpenProject, VALID_PAT},
    helpers::{spawn_app, status_and_json, TestApp},
    oauth_server::setup_with,
};

const API: &str = "apps/integration_openproject/api/v1";

struct World {
    app: TestApp,
    op: FakeOpenProject,
}

/// The app set up against a fake OpenProject; alice connected with a personal token, bob not.
async fn world() -> World {
    let app = spawn_app().await;
    let op = FakeOpenProject::start();
    setup_with(&app, &op.url, "op-client-id").await;
    app.add_user("alice", &[]).await;
    app.add_user("bob", &[]).await;
    let secret_box = app
        .settings
        .common
        .secret_key
        .as_ref()
        .unwrap()
        .secret_box();
    preferences::set(
        &mut app.db.get().unwrap(),
        &secret_box,
        "alice",
        "token",
        VALID_PAT,
    )
    .unwrap();
    World { app, op }
}

impl World {
    async fn call(
        &self,
        method: &str,
        user: &str,
        version: &str,
        tail: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .app
            .dav(method, user, &format!("/ocs/{version}.php/{API}/{tail}"))
            .header("OCS-APIRequest", "true")
            .header("Accept", "application/json");
        if let Some(body) = body {
            request = request.json(&body);
        }
        status_and_json(request.send().await.unwrap()).await
    }

    /// The last request the fake got on `path`.
    fn last(&self, path: &str) -> crate::fake_openproject::Recorded {
        self.op
            .requests_to(path)
            .pop()
            .expect("a request to OpenProject")
    }
}

#[tokio::test]
async fn notifications_and_marking_them_read() {
    let w = world().await;
    let (status, body) = w.call("GET", "alice", "v2", "notifications", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["ocs"]["data"][0]["reason"], "assigned");
    let sent = w.last("/api/v3/notifications");
    assert_eq!(
        sent.authorization.as_deref(),
        Some(format!("Bearer {VALID_PAT}").as_str())
    );
    assert_eq!(
        sent.user_agent.as_deref(),
        Some("Nextcloud OpenProject integration")
    );
    assert_eq!(sent.param("pageSize").as_deref(), Some("-1"));
    let filters: Value = serde_json::from_str(&sent.param("filters").unwrap()).unwrap();
    assert_eq!(
        filters,
        json!([{"readIAN": {"operator": "=", "values": ["f"]}}])
    );

    let (status, body) = w
        .call(
            "DELETE",
            "alice",
            "v2",
            "work-packages/42/notifications",
            None,
        )
        .await;
    assert_eq!(
        (status, &body["ocs"]["data"]),
        (200, &json!({"success": true}))
    );
    let sent = w.last("/api/v3/notifications/read_ian");
    assert_eq!(sent.method, "POST");
    let filters: Value = serde_json::from_str(&sent.param("filters").unwrap()).unwrap();
    assert_eq!(
        filters,
        json!([{"resourceId": {"operator": "=", "values": ["42"]}}])
    );

    // OpenProject refuses: the code is its status, with its message.
    w.op.fail_api_with(Some(403));
    let (status, body) = w.call("GET", "alice", "v2", "notifications", None).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["ocs"]["data"],
        json!({"error": "You are not authorized to access this resource.", "statusCode": 403})
    );
    let (status, body) = w
        .call(
            "DELETE",
            "alice",
            "v1",
            "work-packages/42/notifications",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["ocs"]["meta"]["statuscode"], 400);
    assert_eq!(
        body["ocs"]["data"]["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:MissingPermission"
    );
}

#[tokio::test]
async fn without_a_token_or_a_valid_url() {
    let w = world().await;
    for (method, tail) in [
        ("GET", "notifications"),
        ("DELETE", "work-packages/42/notifications"),
        ("GET", "work-packages?searchQuery=road"),
        ("POST", "work-packages"),
        ("GET", "work-packages/42/file-links"),
        ("DELETE", "file-links/501"),
        ("GET", "configuration"),
        ("GET", "projects"),
        ("GET", "statuses/1"),
        ("GET", "types/1"),
    ] {
        let (status, body) = w.call(method, "bob", "v2", tail, Some(json!({}))).await;
        assert_eq!((status, &body["ocs"]["data"]), (401, &json!("")), "{tail}");
    }
    let calls = w.op.requests().len();
    // A stored URL that is not valid.
    w.app
        .db
        .get()
        .map(|mut conn| {
            nextcloud_openproject_app::db::app_config::set(
                &mut conn,
                "integration_openproject",
                "openproject_instance_url",
                "not a url",
            )
            .unwrap()
        })
        .unwrap();
    let (status, body) = w.call("GET", "alice", "v2", "notifications", None).await;
    assert_eq!((status, &body["ocs"]["data"]), (400, &json!("")));
    let (status, body) = w.call("GET", "alice", "v2", "url", None).await;
    assert_eq!((status, &body["ocs"]["data"]), (200, &json!("")));
    assert_eq!(w.op.requests().len(), calls);
}

#[tokio::test]
async fn search_by_text_and_by_file() {
    let w = world().await;
    let (status, body) = w
        .call(
            "GET",
            "alice",
            "v2",
            "work-packages?searchQuery=road%20map",
            None,
        )
        .await;
    assert_eq!(status, 200);
    let ids: Vec<i64> = body["ocs"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|wp| wp["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [42, 43], "deduplicated by id");
    let sent = w.last("/api/v3/work_packages");
    let filters: Value = serde_json::from_str(&sent.param("filters").unwrap()).unwrap();
    let nc: String = url::form_urlencoded::byte_serialize(w.app.address.as_bytes()).collect();
    assert_eq!(
        filters,
        json!([
            {"typeahead": {"operator": "**", "values": ["road map"]}},
            {"linkable_to_storage_url": {"operator": "=", "values": [nc]}}
        ])
    );
    assert_eq!(
        sent.param("sortBy").as_deref(),
        Some(r#"[["updatedAt","desc"]]"#)
    );

    w.call(
        "GET",
        "alice",
        "v2",
        "work-packages?fileId=12&isSmartPicker=true",
        None,
    )
    .await;
    let sent = w.last("/api/v3/work_packages");
    let filters: Value = serde_json::from_str(&sent.param("filters").unwrap()).unwrap();
    assert_eq!(
        filters,
        json!([{"file_link_origin_id": {"operator": "=", "values": ["12"]}}])
    );
    let (status, body) = w
        .call("GET", "alice", "v2", "work-packages?fileId=abc", None)
        .await;
    assert_eq!((status, &body["ocs"]["data"]), (400, &json!("")));
}

#[tokio::test]
async fn linking_files_creates_file_links_with_origin_data() {
    let w = world().await;
    let (_, id) = w.app.upload("alice", "plan.pdf", "abc").await;
    let (_, theirs) = w.app.upload("bob", "secret.pdf", "s").await;
    let request =
        json!({"values": {"workpackageId": 42, "fileinfo": [{"id": id, "name": "plan.pdf"}]}});
    let (status, body) = w
        .call("POST", "alice", "v2", "work-packages", Some(request))
        .await;
    assert_eq!((status, &body["ocs"]["data"]), (200, &json!([501])));
    let sent = w.last("/api/v3/work_packages/42/file_links");
    assert_eq!(sent.content_type.as_deref(), Some("application/json"));
    let element = &sent.json["_embedded"]["elements"][0];
    assert_eq!(element["originData"]["id"], id.to_string());
    assert_eq!(element["originData"]["name"], "plan.pdf");
    assert_eq!(element["originData"]["mimeType"], "application/pdf");
    assert_eq!(element["originData"]["createdByName"], "");
    assert!(element["originData"]["createdAt"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert!(element["originData"]["lastModifiedAt"].is_string());
    assert_eq!(element["_links"]["storageUrl"]["href"], w.app.address);
    // The body is the protocol type.
    let _: storage_protocol::files::NewFileLinks =
        serde_json::from_value(sent.json.clone()).unwrap();

    let calls = w.op.requests().len();
    for (body, status, data) in [
        (
            json!({"values": {"fileinfo": []}}),
            400,
            json!("invalid key"),
        ),
        (json!({"workpackageId": 42}), 400, json!("invalid key")),
        (
            json!({"values": {"workpackageId": 42, "fileinfo": []}}),
            400,
            json!("invalid data"),
        ),
        (
            json!({"values": {"workpackageId": "x", "fileinfo": [{"id": id, "name": "a"}]}}),
            400,
            json!("invalid data"),
        ),
        (
            json!({"values": {"workpackageId": 42, "fileinfo": [{"id": theirs, "name": "s"}]}}),
            404,
            json!("file not found"),
        ),
        (
            json!({"values": {"workpackageId": 42, "fileinfo": [{"id": 999999, "name": "s"}]}}),
            404,
            json!("file not found"),
        ),
    ] {
        let (got, response) = w
            .call("POST", "alice", "v2", "work-packages", Some(body.clone()))
            .await;
        assert_eq!((got, &response["ocs"]["data"]), (status, &data), "{body}");
    }
    assert_eq!(w.op.requests().len(), calls, "refused requests call nobody");

    // OpenProject's refusal: its status and message.
    let request =
        json!({"values": {"workpackageId": 404, "fileinfo": [{"id": id, "name": "plan.pdf"}]}});
    let (status, body) = w
        .call("POST", "alice", "v2", "work-packages", Some(request))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["ocs"]["data"],
        "The requested resource could not be found."
    );
}

#[tokio::test]
async fn file_links_url_configuration_projects_statuses_and_avatars() {
    let w = world().await;
    let (status, body) = w
        .call("GET", "alice", "v2", "work-packages/42/file-links", None)
        .await;
    assert_eq!((status, &body["ocs"]["data"][0]["id"]), (200, &json!(501)));
    let (status, body) = w
        .call("GET", "alice", "v2", "work-packages/404/file-links", None)
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["ocs"]["data"]["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:NotFound"
    );

    let (status, body) = w
        .call("DELETE", "alice", "v2", "file-links/501", None)
        .await;
    assert_eq!(
        (status, &body["ocs"]["data"]),
        (200, &json!({"success": true}))
    );
    assert_eq!(w.last("/api/v3/file_links/501").method, "DELETE");
    let (status, _) = w
        .call("DELETE", "alice", "v2", "file-links/404", None)
        .await;
    assert_eq!(status, 400);

    let (status, body) = w.call("GET", "alice", "v2", "url", None).await;
    assert_eq!((status, &body["ocs"]["data"]), (200, &json!(w.op.url)));

    let (status, body) = w.call("GET", "alice", "v2", "configuration", None).await;
    assert_eq!(
        (status, &body["ocs"]["data"]["_type"]),
        (200, &json!("Configuration"))
    );

    let (status, body) = w
        .call("GET", "alice", "v2", "projects?searchQuery=De", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["ocs"]["data"]["3"]["name"], "Demo");
    assert_eq!(body["ocs"]["data"]["5"]["name"], "Scrum");
    let sent = w.last("/api/v3/work_packages/available_projects");
    assert_eq!(sent.param("pageSize").as_deref(), Some("100"));
    let filters: Value = serde_json::from_str(&sent.param("filters").unwrap()).unwrap();
    assert_eq!(
        filters,
        json!([
            {"typeahead": {"operator": "**", "values": ["De"]}},
            {"storageUrl": {"operator": "=", "values": [w.app.address]},
             "userAction": {"operator": "&=", "values": ["file_links/manage", "work_packages/create"]}}
        ])
    );

    // Statuses are cached: the second call does not reach OpenProject.
    for _ in 0..2 {
        let (status, body) = w.call("GET", "alice", "v2", "statuses/1", None).await;
        assert_eq!((status, &body["ocs"]["data"]["name"]), (200, &json!("New")));
    }
    assert_eq!(w.op.requests_to("/api/v3/statuses/1").len(), 1);
    let (status, body) = w.call("GET", "alice", "v2", "types/2", None).await;
    assert_eq!(
        (status, &body["ocs"]["data"]["name"]),
        (200, &json!("Task"))
    );

    // Avatars: the image, or generated initials.
    let response = w
        .app
        .dav(
            "GET",
            "alice",
            &format!("/ocs/v2.php/{API}/avatar?userId=7&userName=Ada%20Lovelace"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["Content-Type"], "image/png");
    let response = w
        .app
        .dav(
            "GET",
            "alice",
            &format!("/ocs/v2.php/{API}/avatar?userId=404&userName=Ada%20Lovelace"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["Content-Type"], "image/svg+xml");
    assert!(response.text().await.unwrap().contains(">AL</text>"));

    // A status or type OpenProject does not give is 401.
    w.op.fail_api_with(Some(500));
    let (status, _) = w.call("GET", "alice", "v2", "types/3", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_dashboard_lists_unread_notifications() {
    let w = world().await;
    let alice = crate::helpers::browser();
    w.app.login(&alice, "alice", "alice-alice-pw").await;
    let page = alice
        .get(w.app.url("/index.php/apps/dashboard/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("data-work-package-id=\"42\""), "{page}");
    assert!(page.contains(&format!("href=\"{}/work_packages/42\"", w.op.url)));
    assert!(page.contains("Roadmap"));

    let bob = crate::helpers::browser();
    w.app.login(&bob, "bob", "bob-bob-pw").await;
    let page = bob
        .get(w.app.url("/index.php/apps/dashboard/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"not-connected\""), "{page}");

    w.op.fail_api_with(Some(500));
    let page = alice
        .get(w.app.url("/index.php/apps/dashboard/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"notifications-error\""), "{page}");

    let anonymous = w
        .app
        .api
        .get(w.app.url("/index.php/apps/dashboard/"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
}

#[tokio::test]
async fn creating_a_work_package_goes_through_form_assignees_and_create() {
    let w = world().await;
    let form_body = json!({"body": {"subject": "Roadmap", "_links": {"project": {"href": "/api/v3/projects/1"}}}});
    let (status, body) = w
        .call(
            "POST",
            "alice",
            "v2",
            "projects/1/work-packages/form",
            Some(form_body.clone()),
        )
        .await;
    assert_eq!(status, 200);
    let golden = storage_protocol::fixtures::load("op_work_package_form");
    assert_eq!(body["ocs"]["data"], golden["_embedded"]);
    let sent = w.last("/api/v3/projects/1/work_packages/form");
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.json, form_body["body"]);
    assert_eq!(
        sent.authorization.as_deref(),
        Some(format!("Bearer {VALID_PAT}").as_str())
    );
    assert_eq!(sent.content_type.as_deref(), Some("application/json"));

    let (status, body) = w
        .call(
            "GET",
            "alice",
            "v2",
            "projects/demo-project/available-assignees",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["ocs"]["data"][1]["name"], "Alice Adams");
    assert_eq!(
        w.last("/api/v3/projects/demo-project/available_assignees")
            .method,
        "GET"
    );

    let create_body = json!({"body": {"subject": "Roadmap", "_links": {"project": {"href": "/api/v3/projects/1"}}}});
    for (version, http, code) in [("v2", 201, 201), ("v1", 200, 100)] {
        let (status, body) = w
            .call(
                "POST",
                "alice",
                version,
                "create/work-packages",
                Some(create_body.clone()),
            )
            .await;
        assert_eq!(status, http, "{version}");
        assert_eq!(body["ocs"]["meta"]["statuscode"], code);
        assert_eq!(body["ocs"]["meta"]["status"], "ok");
        assert_eq!(
            body["ocs"]["data"],
            storage_protocol::fixtures::load("op_work_package_created")
        );
    }
    let sent = w.last("/api/v3/work_packages");
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.json, create_body["body"]);
}

#[tokio::test]
async fn work_package_creation_refusals() {
    let w = world().await;
    // No body, or not an object: refused before OpenProject is asked.
    for body in [
        None,
        Some(json!({})),
        Some(json!({"body": {}})),
        Some(json!({"body": "x"})),
    ] {
        for tail in ["projects/1/work-packages/form", "create/work-packages"] {
            let (status, response) = w.call("POST", "alice", "v2", tail, body.clone()).await;
            assert_eq!(status, 400, "{tail} {body:?}");
            assert_eq!(response["ocs"]["data"], "Body cannot be empty");
        }
    }
    assert!(w.op.requests_to("/api/v3/work_packages").is_empty());
    // Not connected: 401 first.
    let valid = json!({"body": {"subject": "x"}});
    for (method, tail) in [
        ("POST", "projects/1/work-packages/form"),
        ("GET", "projects/1/available-assignees"),
        ("POST", "create/work-packages"),
    ] {
        let body = (method == "POST").then(|| valid.clone());
        let (status, response) = w.call(method, "bob", "v2", tail, body).await;
        assert_eq!(status, 401, "{tail}");
        assert_eq!(response["ocs"]["data"], "");
    }
    // OpenProject refuses: its status and message.
    let (status, response) = w
        .call(
            "POST",
            "alice",
            "v2",
            "projects/404/work-packages/form",
            Some(valid.clone()),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        response["ocs"]["data"],
        "The requested resource could not be found."
    );
    let (status, _) = w
        .call(
            "GET",
            "alice",
            "v2",
            "projects/404/available-assignees",
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, response) = w
        .call(
            "POST",
            "alice",
            "v2",
            "create/work-packages",
            Some(json!({"body": {"subject": ""}})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(response["ocs"]["data"], "Subject can't be blank.");
    // Answers Nextcloud's app cannot use are malformed.
    let (status, response) = w
        .call(
            "POST",
            "alice",
            "v2",
            "create/work-packages",
            Some(json!({"body": {"subject": "bare"}})),
        )
        .await;
    assert_eq!(status, 500);
    assert_eq!(
        response["ocs"]["data"],
        json!({"error": "Malformed response"})
    );
    let (status, response) = w
        .call(
            "POST",
            "alice",
            "v2",
            "projects/500/work-packages/form",
            Some(valid.clone()),
        )
        .await;
    assert_eq!(status, 500);
    assert_eq!(
        response["ocs"]["data"],
        json!({"error": "Malformed response"})
    );
    // A project reference that is no id or identifier never reaches OpenProject.
    let (status, _) = w
        .call(
            "GET",
            "alice",
            "v2",
            "projects/a%20b/available-assignees",
            None,
        )
        .await;
    assert_eq!(status, 400);
}
