//! Direct upload (openproject-storages.md §6.2 `prepareUpload`, §11 `prepare_upload`) against the
//! fake Nextcloud: the upload link, who may ask for it, and what Nextcloud's failures become.

use reqwest::{header, Method, Response};
use serde_json::{json, Value};

use crate::{
    fake_nextcloud::{upload_token, FilesMode},
    file_links::{world, World},
    helpers::{body, fixture, MEMBER_ROLE},
};

const URN: &str = "urn:openproject-org:api:v3:errors:";

impl World {
    fn prepare_upload_path(&self) -> String {
        format!("/api/v3/storages/{}/files/prepare_upload", self.storage_id)
    }

    async fn prepare_upload(&self, login: &str, body: Value) -> Response {
        self.app
            .user_json(
                login,
                Method::POST,
                &self.prepare_upload_path(),
                Some(&body),
            )
            .await
    }

    /// `{projectId, fileName, parent}` for project One.
    fn upload_body(&self, parent: Value) -> Value {
        json!({"projectId": self.project_id, "fileName": "plan.pdf", "parent": parent})
    }

    fn upload_requests(&self) -> Vec<String> {
        self.nextcloud
            .oauth()
            .file_requests
            .iter()
            .filter(|r| r.path.ends_with("/direct-upload-token"))
            .map(|r| r.body.clone())
            .collect()
    }
}

async fn error_of(response: Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body = body(response).await;
    (
        status,
        body["errorIdentifier"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches(URN)
            .to_string(),
        body["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn the_upload_link_points_at_nextclouds_direct_upload() {
    let w = world().await;
    w.connect("alice", crate::helpers::PASSWORD).await;

    let response = w.prepare_upload("alice", w.upload_body(json!("10"))).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/hal+json"));
    let link = body(response).await;
    let mut expected = fixture("op_upload_link");
    expected["_links"]["destination"]["href"] = json!(format!(
        "{}/index.php/apps/integration_openproject/direct-upload/{}",
        w.nextcloud.url,
        upload_token("10")
    ));
    assert_eq!(link, expected);
    // Nextcloud was asked for a token for the folder, as an integer, with the user's token.
    assert_eq!(w.upload_requests(), vec![r#"{"folder_id":10}"#.to_string()]);

    // projectId as a string of digits, parent as a number.
    let response = w
        .prepare_upload(
            "alice",
            json!({"projectId": w.project_id.to_string(), "fileName": "a", "parent": 1}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        body(response).await["_links"]["destination"]["href"],
        format!(
            "{}/index.php/apps/integration_openproject/direct-upload/{}",
            w.nextcloud.url,
            upload_token("1")
        )
    );

    // An expired access token is refreshed once and the call retried.
    w.nextcloud.expire_access_token();
    let response = w.prepare_upload("alice", w.upload_body(json!("10"))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(w.nextcloud.token_requests_of("refresh_token"), 1);
}

#[tokio::test]
async fn only_the_exact_body_is_accepted() {
    let w = world().await;
    w.connect("alice", crate::helpers::PASSWORD).await;
    let malformed = (
        "BadRequest".to_string(),
        "Bad request: Request body malformed!".to_string(),
    );
    for bad in [
        json!({}),
        json!({"projectId": w.project_id, "fileName": "a"}),
        json!({"projectId": w.project_id, "parent": "10"}),
        json!({"fileName": "a", "parent": "10"}),
        json!({"projectId": w.project_id, "fileName": "a", "parent": "10", "overwrite": true}),
        json!({"projectId": "One", "fileName": "a", "parent": "10"}),
        json!({"projectId": 1.5, "fileName": "a", "parent": "10"}),
        json!({"projectId": w.project_id, "fileName": null, "parent": "10"}),
        json!({"projectId": w.project_id, "fileName": "a", "parent": {"id": 10}}),
        json!([w.project_id, "a", "10"]),
    ] {
        let (status, id, message) = error_of(w.prepare_upload("alice", bad.clone()).await).await;
        assert_eq!((status, (id, message)), (400, malformed.clone()), "{bad}");
    }
    let not_json = w
        .app
        .client
        .post(w.app.url(&w.prepare_upload_path()))
        .basic_auth("alice", Some(crate::helpers::PASSWORD))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"projectId\": ")
        .send()
        .await
        .unwrap();
    let (status, id, message) = error_of(not_json).await;
    assert_eq!((status, (id, message)), (400, malformed));
    assert!(w.upload_requests().is_empty(), "Nextcloud was not asked");
}

#[tokio::test]
async fn the_caller_needs_manage_file_links_where_the_storage_is_enabled() {
    let w = world().await;
    let app = &w.app;
    // Project Two: alice is a member, but the storage is not enabled there.
    let two = app.create_project("Two").await;
    app.enable_module(two, "storages").await;
    app.add_member(two, w.alice, MEMBER_ROLE).await;
    let dave = app.create_user("dave").await;
    app.add_member(w.project_id, dave, MEMBER_ROLE).await;
    w.connect("alice", crate::helpers::PASSWORD).await;
    w.connect("bob", crate::helpers::PASSWORD).await;

    let body_for = |project: Value| json!({"projectId": project, "fileName": "a", "parent": "10"});
    for (login, body, expected) in [
        // The storage is invisible to carol.
        ("carol", w.upload_body(json!("10")), (404, "NotFound")),
        // bob reads, but may not manage file links.
        (
            "bob",
            w.upload_body(json!("10")),
            (403, "MissingPermission"),
        ),
        ("alice", body_for(json!(two)), (403, "MissingPermission")),
        ("alice", body_for(json!(9999)), (404, "NotFound")),
        ("alice", body_for(json!(0)), (404, "NotFound")),
        // dave may, but has no Nextcloud token.
        ("dave", w.upload_body(json!("10")), (401, "Unauthenticated")),
    ] {
        let (status, id, _) = error_of(w.prepare_upload(login, body.clone()).await).await;
        assert_eq!((status, id.as_str()), expected, "{login} {body}");
    }
    let unknown = app
        .user_json(
            "alice",
            Method::POST,
            "/api/v3/storages/999/files/prepare_upload",
            Some(&w.upload_body(json!("10"))),
        )
        .await;
    assert_eq!(error_of(unknown).await.1, "NotFound");
    assert!(w.upload_requests().is_empty(), "Nextcloud was not asked");
}

#[tokio::test]
async fn nextclouds_failures_map_like_the_other_file_calls() {
    let w = world().await;
    w.connect("alice", crate::helpers::PASSWORD).await;
    for (parent, expected) in [
        // A file, or a folder that is gone: Nextcloud's 404.
        ("123", (500, "OutboundRequest:NotFound")),
        ("999", (500, "OutboundRequest:NotFound")),
        ("124", (500, "OutboundRequest:Forbidden")),
    ] {
        let (status, id, _) = error_of(
            w.prepare_upload("alice", w.upload_body(json!(parent)))
                .await,
        )
        .await;
        assert_eq!((status, id.as_str()), expected, "{parent}");
    }
    w.nextcloud.oauth().files_mode = FilesMode::Broken;
    let (status, id, message) =
        error_of(w.prepare_upload("alice", w.upload_body(json!("10"))).await).await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            500,
            "InternalServerError",
            "An internal error has occurred. The file storage could not be reached."
        )
    );
    // A token that cannot be refreshed: the user is not authenticated at Nextcloud any more.
    w.nextcloud.oauth().files_mode = FilesMode::Normal;
    w.nextcloud.revoke_tokens();
    let (status, id, _) =
        error_of(w.prepare_upload("alice", w.upload_body(json!("10"))).await).await;
    assert_eq!((status, id.as_str()), (401, "Unauthenticated"));
}

#[tokio::test]
async fn storages_offer_prepare_upload_per_project_where_the_caller_may_upload() {
    let w = world().await;
    let app = &w.app;
    let two = app.create_project("Two").await;
    app.enable_module(two, "storages").await;
    app.enable_storage(two, w.storage_id).await;
    app.add_member(two, w.alice, MEMBER_ROLE).await;
    // Project Three has the storage, but alice is not a member.
    let three = app.create_project("Three").await;
    app.enable_module(three, "storages").await;
    app.enable_storage(three, w.storage_id).await;

    let storage_path = format!("/api/v3/storages/{}", w.storage_id);
    let link = |project: i64| {
        let mut link = fixture("op_storage_prepare_upload_link");
        link["href"] = json!(format!("{storage_path}/files/prepare_upload"));
        link["payload"]["projectId"] = json!(project);
        link
    };
    let alice = body(app.user_get("alice", &storage_path).await).await;
    assert_eq!(
        alice["_links"]["prepareUpload"],
        json!([link(w.project_id), link(two)])
    );
    let listed = body(app.user_get("alice", "/api/v3/storages").await).await;
    assert_eq!(
        listed["_embedded"]["elements"][0]["_links"]["prepareUpload"],
        alice["_links"]["prepareUpload"]
    );
    let bob = body(app.user_get("bob", &storage_path).await).await;
    assert_eq!(bob["_links"]["prepareUpload"], json!([]));
    let admin = body(app.admin_get(&storage_path).await).await;
    assert_eq!(
        admin["_links"]["prepareUpload"],
        json!([link(w.project_id), link(two), link(three)])
    );
}

#[tokio::test]
async fn the_files_tab_may_connect_to_the_storages_it_uploads_to() {
    let w = world().await;
    let csp = |login: &'static str, tab: &'static str| {
        let w = &w;
        async move {
            let browser = w.app.browser(login, crate::helpers::PASSWORD).await;
            let response = browser
                .client
                .get(w.app.url(&format!("/work_packages/{}/{tab}", w.wp_id)))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.headers()["Content-Security-Policy"]
                .to_str()
                .unwrap()
                .to_string()
        }
    };
    let files = csp("alice", "files").await;
    assert!(files.starts_with("default-src 'self'"), "{files}");
    assert!(
        files.ends_with(&format!("; connect-src 'self' {}", w.nextcloud.url)),
        "{files}"
    );
    // Elsewhere, and for a reader (who may not upload), nothing beyond the page's own origin.
    for (login, tab) in [("alice", "overview"), ("bob", "files")] {
        let policy = csp(login, tab).await;
        assert!(!policy.contains("connect-src"), "{login} {tab}: {policy}");
    }
}
