//! Project storages, work packages, notifications and file links (openproject-storages.md §5,
//! §9, §10, §11) against a fake Nextcloud whose file endpoints the test steers.

use std::time::{Duration, Instant};

use reqwest::{header, Method, Response};
use serde_json::{json, Value};

use crate::{
    fake_nextcloud::{Behaviour, FakeNextcloud, FilesMode, CLIENT_ID, CLIENT_SECRET},
    helpers::{
        body, spawn_app_with, Browser, TestApp, ADMIN, ADMIN_PASSWORD, MEMBER_ROLE, PASSWORD,
        READER_ROLE,
    },
};

/// A storage on a fake Nextcloud enabled in project One, with work package "Roadmap";
/// alice is a member, bob a reader, carol in no project.
pub(crate) struct World {
    pub app: TestApp,
    pub nextcloud: FakeNextcloud,
    pub storage_id: i64,
    pub project_id: i64,
    pub project_storage_id: i64,
    pub wp_id: i64,
    pub alice: i64,
}

pub(crate) async fn world() -> World {
    let app = spawn_app_with(|s| s.nextcloud_read_timeout = Duration::from_millis(700)).await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    let storage_id = app.create_storage("Nextcloud", &nextcloud.url).await["id"]
        .as_i64()
        .unwrap();
    let response = app
        .add_client_credentials(storage_id, CLIENT_ID, CLIENT_SECRET)
        .await;
    assert_eq!(response.status(), 201);
    let project_id = app.create_project("One").await;
    app.enable_module(project_id, "storages").await;
    let project_storage_id = app.enable_storage(project_id, storage_id).await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    app.create_user("carol").await;
    app.add_member(project_id, alice, MEMBER_ROLE).await;
    app.add_member(project_id, bob, READER_ROLE).await;
    let wp_id = app.create_work_package(project_id, "Roadmap").await;
    World {
        app,
        nextcloud,
        storage_id,
        project_id,
        project_storage_id,
        wp_id,
        alice,
    }
}

fn location(response: &Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_string()
}

fn query_value(url: &str, key: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

fn messages(v: &Value) -> Vec<String> {
    match v["_embedded"]["errors"].as_array() {
        Some(errors) => errors
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect(),
        None => vec![v["message"].as_str().unwrap().to_string()],
    }
}

fn element(origin_id: &str, name: &str, storage: Value) -> Value {
    json!({"originData": {"id": origin_id, "name": name, "mimeType": "application/pdf",
                          "createdAt": "2024-01-01T10:00:00Z", "lastModifiedAt": "2024-01-02T10:00:00Z",
                          "createdByName": "", "lastModifiedByName": ""},
           "_links": storage})
}

impl World {
    fn by_url(&self) -> Value {
        json!({"storageUrl": {"href": self.nextcloud.url}})
    }

    fn by_href(&self) -> Value {
        json!({"storage": {"href": format!("/api/v3/storages/{}", self.storage_id)}})
    }

    async fn post_links(&self, login: &str, elements: Vec<Value>) -> Response {
        self.app
            .user_json(
                login,
                Method::POST,
                &format!("/api/v3/work_packages/{}/file_links", self.wp_id),
                Some(&json!({"_type": "Collection", "_embedded": {"elements": elements}})),
            )
            .await
    }

    async fn links(&self, login: &str, query: &str) -> Value {
        let response = self
            .app
            .user_get(
                login,
                &format!("/api/v3/work_packages/{}/file_links{query}", self.wp_id),
            )
            .await;
        assert_eq!(response.status(), 200);
        body(response).await
    }

    /// Connects `login` to the fake Nextcloud through ensure_connection and the callback.
    pub(crate) async fn connect(&self, login: &str, password: &str) {
        let browser: Browser = self.app.browser(login, password).await;
        let response = browser
            .client
            .get(self.app.url(&format!(
                "/oauth_clients/{CLIENT_ID}/ensure_connection?integration_id={}&destination_url=/",
                self.storage_id
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        let authorize = location(&response);
        let code = self
            .nextcloud
            .issue_code(Some(&query_value(&authorize, "code_challenge")));
        let response = browser
            .client
            .get(self.app.url(&format!(
                "/oauth_clients/{CLIENT_ID}/callback?state={}&code={code}",
                query_value(&authorize, "state")
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
    }
}

#[tokio::test]
async fn project_storages_are_listed_filtered_and_enabled_in_the_checked_order() {
    let w = world().await;
    let app = &w.app;
    // Members with view_file_links see the project storage and, through it, the storage.
    let listed = body(app.user_get("bob", "/api/v3/project_storages").await).await;
    assert_eq!(listed["total"], 1);
    let ps = &listed["_embedded"]["elements"][0];
    assert_eq!(ps["_type"], "ProjectStorage");
    assert_eq!(ps["projectFolderMode"], "inactive");
    assert_eq!(ps["_links"]["storage"]["title"], "Nextcloud");
    assert_eq!(ps["_links"]["project"]["title"], "One");
    assert_eq!(
        ps["_links"]["open"]["href"],
        format!("/api/v3/project_storages/{}/open", w.project_storage_id)
    );
    assert_eq!(
        app.user_get("bob", &format!("/api/v3/storages/{}", w.storage_id))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.user_get("carol", &format!("/api/v3/storages/{}", w.storage_id))
            .await
            .status(),
        404
    );
    assert_eq!(
        body(app.user_get("carol", "/api/v3/project_storages").await).await["total"],
        0
    );
    assert_eq!(
        app.user_get(
            "carol",
            &format!("/api/v3/project_storages/{}", w.project_storage_id)
        )
        .await
        .status(),
        404
    );
    for filter in [
        format!(
            r#"[{{"storageId":{{"operator":"=","values":["{}"]}}}}]"#,
            w.storage_id
        ),
        format!(
            r#"[{{"project_id":{{"operator":"=","values":["{}"]}}}}]"#,
            w.project_id
        ),
        format!(
            r#"[{{"storageUrl":{{"operator":"=","values":["{}"]}}}}]"#,
            w.nextcloud.url
        ),
        format!(
            r#"[{{"storage_url":{{"operator":"=","values":["{}"]}}}}]"#,
            url::form_urlencoded::byte_serialize(format!("{}/", w.nextcloud.url).as_bytes())
                .collect::<String>()
        ),
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
        let found = body(
            app.user_get(
                "alice",
                &format!("/api/v3/project_storages?filters={encoded}"),
            )
            .await,
        )
        .await;
        assert_eq!(found["total"], 1, "{filter}");
    }
    let none = body(app.admin_get("/api/v3/project_storages?filters=[{\"storageId\":{\"operator\":\"=\",\"values\":[\"99\"]}}]").await).await;
    assert_eq!(none["total"], 0);
    let bad = app
        .admin_get(
            "/api/v3/project_storages?filters=[{\"host\":{\"operator\":\"=\",\"values\":[]}}]",
        )
        .await;
    assert_eq!(bad.status(), 400);

    // Open: no project folder → the files app.
    let response = app
        .user_get(
            "bob",
            &format!("/api/v3/project_storages/{}/open", w.project_storage_id),
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        format!("{}/index.php/apps/files", w.nextcloud.url)
    );

    // POST, checks in order.
    let post = |login: &'static str, body: Value| async move {
        app.user_json(login, Method::POST, "/api/v3/project_storages", Some(&body))
            .await
    };
    let two = app.create_project("Two").await;
    let links = |project: Value, storage: Value| json!({"_links": {"project": project, "storage": storage}});
    let storage_link = json!({"href": format!("/api/v3/storages/{}", w.storage_id)});
    let cases: Vec<(&str, Value, u16, Vec<&str>)> = vec![
        ("admin", json!({}), 422, vec!["Project can't be blank."]),
        (
            "admin",
            links(
                json!({"href": "/api/v3/projects/999"}),
                storage_link.clone(),
            ),
            422,
            vec!["Project does not exist."],
        ),
        (
            "alice",
            links(
                json!({"href": format!("/api/v3/projects/{two}")}),
                storage_link.clone(),
            ),
            422,
            vec!["Project does not exist."],
        ),
        (
            "admin",
            links(
                json!({"href": format!("/api/v3/projects/{two}")}),
                storage_link.clone(),
            ),
            422,
            vec!["Project does not have the \"File storages\" module enabled."],
        ),
        (
            "alice",
            links(
                json!({"href": format!("/api/v3/projects/{}", w.project_id)}),
                storage_link.clone(),
            ),
            403,
            vec![],
        ),
        (
            "admin",
            links(
                json!({"href": format!("/api/v3/projects/{}", w.project_id)}),
                storage_link.clone(),
            ),
            422,
            vec!["Project has already been taken."],
        ),
    ];
    for (login, request, status, expected) in cases {
        let response = if login == "admin" {
            app.admin_json(Method::POST, "/api/v3/project_storages", &request)
                .await
        } else {
            post(login, request.clone()).await
        };
        assert_eq!(response.status(), status, "{request}");
        if status == 422 {
            assert_eq!(messages(&body(response).await), expected, "{request}");
        }
    }
    app.enable_module(two, "storages").await;
    let mut attribute_errors = links(
        json!({"href": format!("/api/v3/projects/{two}")}),
        json!({"href": "/api/v3/storages/999"}),
    );
    attribute_errors["projectFolderMode"] = json!("manual");
    let response = app
        .admin_json(Method::POST, "/api/v3/project_storages", &attribute_errors)
        .await;
    assert_eq!(
        messages(&body(response).await),
        ["Storage does not exist.", "Project folder can't be blank."]
    );
    let mut automatic = links(
        json!({"href": format!("/api/v3/projects/{two}")}),
        json!(null),
    );
    automatic["projectFolderMode"] = json!("automatic");
    automatic["_links"]
        .as_object_mut()
        .unwrap()
        .remove("storage");
    let response = app
        .admin_json(Method::POST, "/api/v3/project_storages", &automatic)
        .await;
    assert_eq!(
        messages(&body(response).await),
        [
            "Storage can't be blank.",
            "Project folder mode is not available for this storage."
        ]
    );
    let mut odd = links(
        json!({"href": format!("/api/v3/projects/{two}")}),
        storage_link.clone(),
    );
    odd["projectFolderMode"] = json!("sometimes");
    let response = app
        .admin_json(Method::POST, "/api/v3/project_storages", &odd)
        .await;
    assert_eq!(
        messages(&body(response).await),
        ["Project folder mode is not set to one of the allowed values."]
    );
    let mut manual = links(
        json!({"href": format!("/api/v3/projects/{two}")}),
        storage_link.clone(),
    );
    manual["projectFolderMode"] = json!("manual");
    manual["_links"]["projectFolder"] =
        json!({"href": format!("/api/v3/storages/{}/files/123", w.storage_id)});
    let response = app
        .admin_json(Method::POST, "/api/v3/project_storages", &manual)
        .await;
    assert_eq!(response.status(), 201);
    let created = body(response).await;
    assert_eq!(
        created["_links"]["projectFolder"]["href"],
        format!("/api/v3/storages/{}/files/123", w.storage_id)
    );
    // Its open goes to the folder when Nextcloud says the caller may read it.
    w.connect(ADMIN, ADMIN_PASSWORD).await;
    let response = app
        .admin_get(&format!("/api/v3/project_storages/{}/open", created["id"]))
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        format!("{}/index.php/f/123?openfile=1", w.nextcloud.url)
    );
}

#[tokio::test]
async fn file_links_are_created_checked_deduplicated_and_removed_with_the_project_storage() {
    let w = world().await;
    let app = &w.app;
    // Permissions: the reader may not link, a stranger does not see the work package.
    assert_eq!(
        w.post_links("bob", vec![element("123", "plan.pdf", w.by_url())])
            .await
            .status(),
        403
    );
    assert_eq!(
        w.post_links("carol", vec![element("123", "plan.pdf", w.by_url())])
            .await
            .status(),
        404
    );
    // Structure.
    let response = app
        .user_json(
            "alice",
            Method::POST,
            &format!("/api/v3/work_packages/{}/file_links", w.wp_id),
            Some(&json!({})),
        )
        .await;
    assert_eq!(response.status(), 422);
    let error = body(response).await;
    assert_eq!(
        error["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:PropertyMissingError"
    );
    assert_eq!(error["message"], "Missing property '_embedded/elements'.");
    let many: Vec<Value> = (0..21)
        .map(|i| element(&format!("{i}"), "f", w.by_url()))
        .collect();
    let response = w.post_links("alice", many).await;
    assert_eq!(response.status(), 422);
    let error = body(response).await;
    assert_eq!(
        error["message"],
        "Too many elements created at once. Expected 20 at most, got 21."
    );
    assert_eq!(
        error["_embedded"]["details"]["attribute"],
        "_embedded/elements"
    );
    // One invalid element creates nothing; messages element by element.
    let response = w
        .post_links(
            "alice",
            vec![
                element("123", "plan.pdf", w.by_url()),
                element("", "", json!({})),
                element("5", "x", json!({"storage": {"href": "/api/v3/storages/999"}})),
                json!({"originData": {"id": 7, "name": "n", "mimeType": "m".repeat(256)}, "_links": w.by_href()}),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        messages(&body(response).await),
        [
            "Storage can't be blank.",
            "Origin can't be blank.",
            "Origin name can't be blank.",
            "Storage does not exist.",
            "Origin mime type is too long (maximum is 255 characters)."
        ]
    );
    let response = w
        .post_links("alice", vec![json!({"originData": {"id": "1", "name": "n", "createdAt": "yesterday"}, "_links": w.by_url()})])
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        body(response).await["message"],
        "Invalid format for property 'originData.createdAt': Expected format like 'ISO 8601 date and time', but got 'yesterday'."
    );
    assert_eq!(w.links("alice", "?pageSize=0").await["total"], 0);

    // A storage not enabled in the project.
    let other = FakeNextcloud::start(Behaviour::Healthy {
        app_password: "pw".into(),
    });
    app.create_storage("Other", &other.url).await;
    // Invisible to the member; visible to the admin, who sees every storage.
    let unlinked = vec![element(
        "1",
        "n",
        json!({"storageUrl": {"href": format!("{}/", other.url)}}),
    )];
    let response = w.post_links("alice", unlinked.clone()).await;
    assert_eq!(messages(&body(response).await), ["Storage does not exist."]);
    let response = app
        .admin_json(
            Method::POST,
            &format!("/api/v3/work_packages/{}/file_links", w.wp_id),
            &json!({"_embedded": {"elements": unlinked}}),
        )
        .await;
    assert_eq!(
        messages(&body(response).await),
        ["Storage is not linked to project."]
    );

    // Created by URL without and with the trailing slash, and by href: one link, request order.
    let response = w
        .post_links(
            "alice",
            vec![
                element("123", "plan.pdf", w.by_url()),
                element(
                    "124",
                    "secret.txt",
                    json!({"storageUrl": {"href": format!("{}/", w.nextcloud.url)}}),
                ),
                element("123", "plan.pdf", w.by_href()),
            ],
        )
        .await;
    assert_eq!(response.status(), 201);
    let created = body(response).await;
    assert_eq!(created["count"], 2);
    let first = &created["_embedded"]["elements"][0];
    assert_eq!(first["originData"]["id"], "123");
    assert_eq!(first["originData"]["createdAt"], "2024-01-01T10:00:00.000Z");
    assert_eq!(
        first["_links"]["status"]["href"],
        "urn:openproject-org:api:v3:file-links:permission:ViewAllowed"
    );
    assert_eq!(first["_links"]["container"]["title"], "Roadmap");
    assert_eq!(first["_links"]["delete"]["method"], "delete");
    let link_id = first["id"].as_i64().unwrap();
    // A duplicate returns the existing link unchanged.
    let again = body(
        w.post_links("alice", vec![element("123", "other name.pdf", w.by_url())])
            .await,
    )
    .await;
    assert_eq!(again["_embedded"]["elements"][0]["id"], link_id);
    assert_eq!(
        again["_embedded"]["elements"][0]["originData"]["name"],
        "plan.pdf"
    );

    // Visibility of single links and the work package filter by origin id.
    assert_eq!(
        app.user_get("bob", &format!("/api/v3/file_links/{link_id}"))
            .await
            .status(),
        200
    );
    let single = body(
        app.user_get("bob", &format!("/api/v3/file_links/{link_id}"))
            .await,
    )
    .await;
    assert!(single["_links"].get("delete").is_none());
    assert!(single["_links"].get("status").is_none());
    assert_eq!(
        app.user_get("carol", &format!("/api/v3/file_links/{link_id}"))
            .await
            .status(),
        404
    );
    let filter = r#"[{"file_link_origin_id":{"operator":"=","values":["123"]}}]"#;
    let found = body(
        app.user_get("bob", &format!("/api/v3/work_packages?filters={filter}"))
            .await,
    )
    .await;
    assert_eq!(found["_type"], "WorkPackageCollection");
    assert_eq!(found["total"], 1);
    // Open redirects.
    let response = app
        .user_get("bob", &format!("/api/v3/file_links/{link_id}/open"))
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        format!("{}/index.php/f/123?openfile=1", w.nextcloud.url)
    );
    let response = app
        .user_get(
            "bob",
            &format!("/api/v3/file_links/{link_id}/open?location=true"),
        )
        .await;
    assert_eq!(
        location(&response),
        format!("{}/index.php/f/123?openfile=0", w.nextcloud.url)
    );
    // Delete: the reader may not; the member may.
    let second = created["_embedded"]["elements"][1]["id"].as_i64().unwrap();
    assert_eq!(
        app.user_json(
            "bob",
            Method::DELETE,
            &format!("/api/v3/file_links/{second}"),
            None
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        app.user_json(
            "carol",
            Method::DELETE,
            &format!("/api/v3/file_links/{second}"),
            None
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        app.user_json(
            "alice",
            Method::DELETE,
            &format!("/api/v3/file_links/{second}"),
            None
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        app.user_get("alice", &format!("/api/v3/file_links/{second}"))
            .await
            .status(),
        404
    );

    // Disabling the module hides the links; enabling shows them again.
    let modules = format!("/api/v3/projects/{}/modules/storages", w.project_id);
    app.admin_json(Method::DELETE, &modules, &json!({})).await;
    assert_eq!(
        app.user_get("alice", &format!("/api/v3/file_links/{link_id}"))
            .await
            .status(),
        404
    );
    assert_eq!(w.links("alice", "?pageSize=0").await["total"], 0);
    app.enable_module(w.project_id, "storages").await;
    assert_eq!(w.links("alice", "?pageSize=0").await["total"], 1);

    // Removing the project storage removes its links.
    assert_eq!(
        app.user_json(
            "alice",
            Method::DELETE,
            &format!("/api/v3/project_storages/{}", w.project_storage_id),
            None
        )
        .await
        .status(),
        403
    );
    let response = app
        .as_admin(app.client.delete(app.url(&format!(
            "/api/v3/project_storages/{}",
            w.project_storage_id
        ))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    app.enable_storage(w.project_id, w.storage_id).await;
    assert_eq!(w.links("alice", "?pageSize=0").await["total"], 0);
    assert_eq!(
        app.admin_get(&format!("/api/v3/file_links/{link_id}"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn the_live_check_asks_filesinfo_once_per_storage_and_maps_each_record() {
    let w = world().await;
    let app = &w.app;
    let response = w
        .post_links(
            "alice",
            vec![
                element("123", "plan.pdf", w.by_url()),
                element("124", "secret.txt", w.by_url()),
                element("125", "gone.txt", w.by_url()),
            ],
        )
        .await;
    assert_eq!(response.status(), 201);
    // Not connected: every status is Error, the response still 200.
    let listed = w.links("alice", "").await;
    let statuses = |v: &Value| -> Vec<String> {
        v["_embedded"]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                l["_links"]["status"]["title"]
                    .as_str()
                    .unwrap_or("none")
                    .to_string()
            })
            .collect()
    };
    assert_eq!(statuses(&listed), ["Error", "Error", "Error"]);
    w.connect("alice", PASSWORD).await;
    w.nextcloud.oauth().file_requests.clear();
    let listed = w.links("alice", "").await;
    assert_eq!(
        statuses(&listed),
        ["View allowed", "View not allowed", "Not found"]
    );
    // The readable file's origin data is refreshed and stored.
    let first = &listed["_embedded"]["elements"][0];
    assert_eq!(first["originData"]["name"], "plan (renamed).pdf");
    assert_eq!(first["originData"]["lastModifiedByName"], "Bob");
    assert_eq!(
        first["originData"]["lastModifiedAt"],
        "2024-01-02T10:00:00.000Z"
    );
    let requests = w.nextcloud.oauth().file_requests.clone();
    assert_eq!(requests.len(), 1, "one filesinfo call for the storage");
    assert_eq!(
        requests[0].path,
        "/ocs/v1.php/apps/integration_openproject/filesinfo"
    );
    assert_eq!(requests[0].ocs_api_request.as_deref(), Some("true"));
    assert_eq!(requests[0].accept.as_deref(), Some("application/json"));
    let sent: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(sent, json!({"fileIds": ["123", "124", "125"]}));
    let id = first["id"].as_i64().unwrap();
    let stored = body(
        app.user_get("alice", &format!("/api/v3/file_links/{id}"))
            .await,
    )
    .await;
    assert_eq!(stored["originData"]["name"], "plan (renamed).pdf");
    // pageSize=0 skips the check.
    w.nextcloud.oauth().file_requests.clear();
    let skipped = w.links("alice", "?pageSize=0").await;
    assert_eq!(statuses(&skipped), ["none", "none", "none"]);
    assert!(w.nextcloud.oauth().file_requests.is_empty());
    // Download: a direct-download token for the file, to the app's direct route.
    let response = app
        .user_get("alice", &format!("/api/v3/file_links/{id}/download"))
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        format!(
            "{}/index.php/apps/integration_openproject/direct/dl-token-123/plan%20%28renamed%29.pdf",
            w.nextcloud.url
        )
    );
    let forbidden = listed["_embedded"]["elements"][1]["id"].as_i64().unwrap();
    let response = app
        .user_get("alice", &format!("/api/v3/file_links/{forbidden}/download"))
        .await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        body(response).await["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:OutboundRequest:Forbidden"
    );
    let gone = listed["_embedded"]["elements"][2]["id"].as_i64().unwrap();
    let response = app
        .user_get("alice", &format!("/api/v3/file_links/{gone}/download"))
        .await;
    assert_eq!(
        body(response).await["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:OutboundRequest:NotFound"
    );
    // bob has no token: 401.
    let response = app
        .user_get("bob", &format!("/api/v3/file_links/{id}/download"))
        .await;
    assert_eq!(response.status(), 401);

    // A failing Nextcloud: Error; a silent one: Error within the read timeout.
    w.nextcloud.oauth().files_mode = FilesMode::Broken;
    assert_eq!(
        statuses(&w.links("alice", "").await),
        ["Error", "Error", "Error"]
    );
    let response = app
        .user_get("alice", &format!("/api/v3/file_links/{id}/download"))
        .await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        body(response).await["message"],
        "An internal error has occurred. The file storage could not be reached."
    );
    w.nextcloud.oauth().files_mode = FilesMode::Silent;
    let started = Instant::now();
    assert_eq!(
        statuses(&w.links("alice", "").await),
        ["Error", "Error", "Error"]
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn work_packages_filters_sorting_locking_and_notifications() {
    let w = world().await;
    let app = &w.app;
    let alice = w.alice;
    // Create with an assignee: the assignee is notified, unless they are the actor.
    let response = app
        .admin_json(
            Method::POST,
            "/api/v3/work_packages",
            &json!({"subject": "Budget plan", "_links": {"project": {"href": format!("/api/v3/projects/{}", w.project_id)},
                    "assignee": {"href": format!("/api/v3/users/{alice}")}, "priority": {"href": "/api/v3/priorities/3"}}}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let budget = body(response).await;
    assert_eq!(
        budget["_links"]["assignee"]["href"],
        format!("/api/v3/users/{alice}")
    );
    assert_eq!(budget["_links"]["priority"]["title"], "High");
    assert_eq!(budget["_links"]["status"]["title"], "New");
    assert_eq!(budget["_links"]["type"]["title"], "Task");
    let budget_id = budget["id"].as_i64().unwrap();
    let notes = body(app.user_get("alice", "/api/v3/notifications?pageSize=-1&filters=[{\"readIAN\":{\"operator\":\"=\",\"values\":[\"f\"]}}]").await).await;
    assert_eq!(notes["total"], 1);
    let note = &notes["_embedded"]["elements"][0];
    assert_eq!(note["reason"], "assigned");
    assert_eq!(note["_links"]["resource"]["title"], "Budget plan");
    assert_eq!(
        note["_links"]["readIAN"]["href"],
        format!("/api/v3/notifications/{}/read_ian", note["id"])
    );
    let note_id = note["id"].as_i64().unwrap();
    assert_eq!(
        app.user_get("bob", &format!("/api/v3/notifications/{note_id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.user_json(
            "bob",
            Method::POST,
            &format!("/api/v3/notifications/{note_id}/read_ian"),
            None
        )
        .await
        .status(),
        404
    );
    let response = app
        .user_json("alice", Method::POST, &format!("/api/v3/notifications/read_ian?filters=[{{\"resourceId\":{{\"operator\":\"=\",\"values\":[\"{budget_id}\"]}}}}]"), None)
        .await;
    assert_eq!(response.status(), 204);
    let read = body(
        app.user_get("alice", &format!("/api/v3/notifications/{note_id}"))
            .await,
    )
    .await;
    assert_eq!(read["readIAN"], true);
    assert!(read["_links"].get("readIAN").is_none());
    assert!(read["_links"]["unreadIAN"]["href"].is_string());
    assert_eq!(
        app.user_json(
            "alice",
            Method::POST,
            &format!("/api/v3/notifications/{note_id}/unread_ian"),
            None
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        body(
            app.user_get("alice", &format!("/api/v3/notifications/{note_id}"))
                .await
        )
        .await["readIAN"],
        false
    );

    // Validation messages.
    let response = app
        .user_json("alice", Method::POST, &format!("/api/v3/projects/{}/work_packages", w.project_id),
            Some(&json!({"subject": "", "startDate": "2024-13-01", "dueDate": "soon",
                         "_links": {"assignee": {"href": "/api/v3/users/999"}, "status": {"href": "/api/v3/statuses/99"}}})))
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        messages(&body(response).await),
        [
            "Subject can't be blank.",
            "Assignee is not set to one of the allowed values.",
            "Status is not set to one of the allowed values.",
            "Start date is invalid.",
            "Due date is invalid."
        ]
    );
    assert_eq!(
        app.user_json(
            "bob",
            Method::POST,
            &format!("/api/v3/projects/{}/work_packages", w.project_id),
            Some(&json!({"subject": "x"}))
        )
        .await
        .status(),
        403
    );
    // PATCH with lockVersion; a change of assignee by someone else notifies.
    let path = format!("/api/v3/work_packages/{budget_id}");
    let response = app
        .user_json(
            "alice",
            Method::PATCH,
            &path,
            Some(&json!({"subject": "Budget"})),
        )
        .await;
    assert_eq!(response.status(), 409);
    assert_eq!(
        body(response).await["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:UpdateConflict"
    );
    let response = app
        .user_json("alice", Method::PATCH, &path, Some(&json!({"lockVersion": 0, "subject": "Budget", "_links": {"status": {"href": "/api/v3/statuses/3"}}})))
        .await;
    assert_eq!(response.status(), 200);
    let patched = body(response).await;
    assert_eq!(patched["lockVersion"], 1);
    assert_eq!(patched["subject"], "Budget");
    assert_eq!(
        app.user_json(
            "alice",
            Method::PATCH,
            &path,
            Some(&json!({"lockVersion": 0}))
        )
        .await
        .status(),
        409
    );
    assert_eq!(
        app.user_json(
            "bob",
            Method::PATCH,
            &path,
            Some(&json!({"lockVersion": 1}))
        )
        .await
        .status(),
        403
    );

    // Filters: closed work packages are hidden by default.
    let ids = |v: &Value| -> Vec<i64> {
        v["_embedded"]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    };
    let get = |query: String| async move {
        body(
            app.user_get("alice", &format!("/api/v3/work_packages{query}"))
                .await,
        )
        .await
    };
    assert_eq!(ids(&get(String::new()).await), [w.wp_id]);
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    assert_eq!(
        ids(&get(format!("?filters={}", enc("[]"))).await),
        [w.wp_id, budget_id]
    );
    assert_eq!(
        ids(&get(format!(
            "?filters={}",
            enc(r#"[{"status":{"operator":"c","values":[]}}]"#)
        ))
        .await),
        [budget_id]
    );
    assert_eq!(
        app.user_get(
            "alice",
            &format!(
                "/api/v3/work_packages?filters={}",
                enc(r#"[{"status":{"operator":"*","values":[]}}]"#)
            )
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        ids(&get(format!(
            "?filters={}",
            enc(r#"[{"assignee":{"operator":"=","values":["me"]}}]"#)
        ))
        .await),
        [budget_id]
    );
    assert_eq!(
        ids(&get(format!(
            "?filters={}",
            enc(r#"[{"typeahead":{"operator":"**","values":["ROAD"]}}]"#)
        ))
        .await),
        [w.wp_id]
    );
    assert_eq!(
        ids(&get(format!("?filters={}", enc(&format!(r##"[{{"typeahead":{{"operator":"**","values":["#{budget_id}"]}}}},{{"status":{{"operator":"c","values":[]}}}}]"##)))).await),
        [budget_id]
    );
    assert_eq!(
        ids(&get(format!(
            "?filters={}&sortBy={}",
            enc("[]"),
            enc(r#"[["id","desc"]]"#)
        ))
        .await),
        [budget_id, w.wp_id]
    );
    let linkable = format!(
        r#"[{{"linkable_to_storage_url":{{"operator":"=","values":["{}"]}}}}]"#,
        enc(&w.nextcloud.url)
    );
    assert_eq!(
        ids(&get(format!("?filters={}", enc(&linkable))).await),
        [w.wp_id, budget_id]
    );
    let as_bob = body(
        app.user_get(
            "bob",
            &format!("/api/v3/work_packages?filters={}", enc(&linkable)),
        )
        .await,
    )
    .await;
    assert_eq!(as_bob["total"], 0, "readers cannot link");
    assert_eq!(
        body(app.user_get("carol", "/api/v3/work_packages").await).await["total"],
        0
    );
    assert_eq!(
        app.user_get("carol", &format!("/api/v3/work_packages/{}", w.wp_id))
            .await
            .status(),
        404
    );
    // Links on a work package show addFileLink only with manage_file_links.
    let wp = body(
        app.user_get("alice", &format!("/api/v3/work_packages/{}", w.wp_id))
            .await,
    )
    .await;
    assert_eq!(wp["_links"]["addFileLink"]["method"], "post");
    let wp = body(
        app.user_get("bob", &format!("/api/v3/work_packages/{}", w.wp_id))
            .await,
    )
    .await;
    assert!(wp["_links"].get("addFileLink").is_none());
    assert!(wp["_links"].get("update").is_none());

    // The project's own list, and a create without a project.
    let in_project = body(
        app.user_get(
            "alice",
            &format!("/api/v3/projects/{}/work_packages", w.project_id),
        )
        .await,
    )
    .await;
    assert_eq!(ids(&in_project), [w.wp_id]);
    assert_eq!(
        in_project["_links"]["self"]["href"],
        format!("/api/v3/projects/{}/work_packages", w.project_id)
    );
    let response = app
        .user_json(
            "alice",
            Method::POST,
            "/api/v3/work_packages",
            Some(&json!({"subject": "x"})),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(messages(&body(response).await), ["Project can't be blank."]);
    let response = app
        .user_json(
            "carol",
            Method::GET,
            &format!("/api/v3/projects/{}/work_packages", w.project_id),
            None,
        )
        .await;
    assert_eq!(response.status(), 404);

    // available_projects.
    let projects = body(
        app.user_get("alice", "/api/v3/work_packages/available_projects")
            .await,
    )
    .await;
    assert_eq!(projects["total"], 1);
    assert_eq!(
        body(
            app.user_get("bob", "/api/v3/work_packages/available_projects")
                .await
        )
        .await["total"],
        0
    );
    let filter = format!(
        r#"[{{"storageUrl":{{"operator":"=","values":["{}/"]}},"userAction":{{"operator":"&=","values":["file_links/manage","work_packages/create"]}}}}]"#,
        w.nextcloud.url
    );
    let projects = body(
        app.user_get(
            "alice",
            &format!(
                "/api/v3/work_packages/available_projects?filters={}",
                enc(&filter)
            ),
        )
        .await,
    )
    .await;
    assert_eq!(projects["total"], 1);
    let statuses = body(app.user_get("bob", "/api/v3/statuses").await).await;
    assert_eq!(statuses["_embedded"]["elements"][2]["isClosed"], true);
    assert_eq!(
        body(app.user_get("bob", "/api/v3/types/1").await).await["name"],
        "Task"
    );
    assert_eq!(
        body(app.user_get("bob", "/api/v3/priorities").await).await["total"],
        3
    );
}

#[tokio::test]
async fn deleting_the_storage_removes_its_project_storages_and_file_links() {
    let w = world().await;
    let app = &w.app;
    let created = body(
        w.post_links("alice", vec![element("123", "plan.pdf", w.by_url())])
            .await,
    )
    .await;
    let link_id = created["_embedded"]["elements"][0]["id"].as_i64().unwrap();
    let response = app
        .as_admin(
            app.client
                .delete(app.url(&format!("/api/v3/storages/{}", w.storage_id))),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.admin_get(&format!(
            "/api/v3/project_storages/{}",
            w.project_storage_id
        ))
        .await
        .status(),
        404
    );
    assert_eq!(
        app.admin_get(&format!("/api/v3/file_links/{link_id}"))
            .await
            .status(),
        404
    );
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |table: &'static str| {
        let db = app.db.clone();
        async move {
            use diesel::RunQueryDsl;
            db.query(move |conn| {
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                    .get_result::<Count>(conn)
            })
            .await
            .unwrap()
            .n
        }
    };
    assert_eq!(count("project_storages").await, 0);
    assert_eq!(count("file_links").await, 0);
    // The work package and the project stay.
    assert_eq!(
        app.admin_get(&format!("/api/v3/work_packages/{}", w.wp_id))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn storage_files_are_listed_and_read_with_the_users_token() {
    let w = world().await;
    let app = &w.app;
    let files = format!("/api/v3/storages/{}/files", w.storage_id);
    assert_eq!(app.user_get("carol", &files).await.status(), 404);
    assert_eq!(
        app.user_get("bob", &files).await.status(),
        401,
        "no Nextcloud token"
    );
    w.connect("alice", PASSWORD).await;
    let response = app.user_get("alice", &format!("{files}?parent=/")).await;
    assert_eq!(response.status(), 200);
    let listing = body(response).await;
    assert_eq!(listing["_type"], "StorageFiles");
    assert_eq!(listing["parent"]["name"], "Root");
    assert_eq!(listing["parent"]["location"], "/");
    assert_eq!(listing["ancestors"], json!([]));
    assert_eq!(
        listing["_links"]["self"]["href"],
        "urn:openproject-org:api:v3:storages:storage_files:no_link_provided"
    );
    let children = listing["files"].as_array().unwrap();
    assert_eq!(children.len(), 2);
    assert_eq!(children[0]["name"], "Folder");
    assert_eq!(children[0]["mimeType"], "application/x-op-directory");
    assert_eq!(children[0]["location"], "/Folder");
    assert_eq!(children[0]["permissions"], json!(["readable", "writeable"]));
    assert_eq!(children[1]["id"], "123");
    assert_eq!(children[1]["mimeType"], "application/pdf");
    assert_eq!(children[1]["lastModifiedAt"], "2024-01-02T10:00:00.000Z");
    assert_eq!(
        children[1]["_links"]["self"]["href"],
        format!("/api/v3/storages/{}/files/123", w.storage_id)
    );
    let requests = w.nextcloud.oauth().file_requests.clone();
    assert!(requests.iter().any(|r| r.path
        == format!(
            "/remote.php/dav/files/{}/",
            crate::fake_nextcloud::NEXTCLOUD_USER
        )));
    // A missing folder maps to OutboundRequest:NotFound.
    let response = app
        .user_get("alice", &format!("{files}?parent=/Nope"))
        .await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        body(response).await["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:OutboundRequest:NotFound"
    );
    // One file's info.
    let file = body(app.user_get("alice", &format!("{files}/123")).await).await;
    assert_eq!(file["_type"], "StorageFile");
    assert_eq!(file["name"], "plan (renamed).pdf");
    assert_eq!(file["location"], "/plan (renamed).pdf");
    assert_eq!(file["createdByName"], "Alice");
    for (id, urn) in [
        ("124", "OutboundRequest:Forbidden"),
        ("999", "OutboundRequest:NotFound"),
    ] {
        let response = app.user_get("alice", &format!("{files}/{id}")).await;
        assert_eq!(response.status(), 500);
        assert_eq!(
            body(response).await["errorIdentifier"],
            format!("urn:openproject-org:api:v3:errors:{urn}")
        );
    }
    w.nextcloud.oauth().files_mode = FilesMode::Broken;
    let response = app.user_get("alice", &format!("{files}/123")).await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        body(response).await["message"],
        "An internal error has occurred. The file storage could not be reached."
    );
}
