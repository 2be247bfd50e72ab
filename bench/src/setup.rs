//! The seed's setup steps 1–5 through the two APIs, as an admin script sends them: the wall time
//! from the first request to the project storage.

use std::time::{Duration, Instant};

use integration_tests::{json_of, Pair, APP, STORAGE_NAME};
use reqwest::{Method, StatusCode};
use serde_json::json;
use storage_protocol::storages::StorageWrite;

async fn ok(request: reqwest::RequestBuilder, expected: StatusCode) -> serde_json::Value {
    let (status, body) = json_of(request).await;
    assert_eq!(status, expected, "{body}");
    body
}

/// Runs steps 1–5 on a fresh pair; the project exists beforehand (it is not part of the setup).
pub async fn wall_time(pair: &Pair) -> Duration {
    let project = ok(
        pair.op(Method::POST, "/api/v3/projects")
            .json(&json!({"name": "Setup"})),
        StatusCode::CREATED,
    )
    .await;
    let project_id = project["id"].as_i64().expect("project");
    let op = pair.openproject.url.clone();

    let started = Instant::now();
    // 1. Nextcloud: is this OpenProject? Then point at it.
    let valid = ok(
        pair.nc(Method::POST, &format!("{APP}/is-valid-op-instance"))
            .json(&json!({"url": op})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(valid["result"], true);
    ok(
        pair.nc(Method::PUT, &format!("{APP}/admin-config"))
            .json(&json!({"values": {"openproject_instance_url": op}})),
        StatusCode::OK,
    )
    .await;
    // 2. OpenProject: the storage (with the live host check) and its OAuth application.
    let storage = ok(
        pair.op(Method::POST, "/api/v3/storages")
            .json(&StorageWrite::nextcloud(STORAGE_NAME, &pair.nextcloud.url)),
        StatusCode::CREATED,
    )
    .await;
    let storage_id = storage["id"].as_i64().expect("storage");
    let application = &storage["_embedded"]["oauthApplication"];
    // 3. Nextcloud: OpenProject's values in, its own client out.
    ok(
        pair.nc(Method::PUT, &format!("{APP}/admin-config"))
            .json(&json!({"values": {
            "openproject_client_id": application["clientId"],
            "openproject_client_secret": application["clientSecret"],
            "default_enable_navigation": false, "default_enable_unified_search": false,
            "setup_project_folder": false, "setup_app_password": false}})),
        StatusCode::OK,
    )
    .await;
    let client = ok(
        pair.nc(Method::POST, &format!("{APP}/nc-oauth")),
        StatusCode::OK,
    )
    .await;
    // 4. OpenProject: Nextcloud's values.
    ok(
        pair.op(
            Method::POST,
            &format!("/api/v3/storages/{storage_id}/oauth_client_credentials"),
        )
        .json(&json!({"clientId": client["nextcloud_client_id"],
                      "clientSecret": client["nextcloud_client_secret"]})),
        StatusCode::CREATED,
    )
    .await;
    // 5. OpenProject: the storage enabled in the project.
    ok(
        pair.op(
            Method::PUT,
            &format!("/api/v3/projects/{project_id}/modules/storages"),
        ),
        StatusCode::OK,
    )
    .await;
    ok(
        pair.op(Method::POST, "/api/v3/project_storages")
            .json(&json!({
            "projectFolderMode": "inactive",
            "_links": {"project": {"href": format!("/api/v3/projects/{project_id}")},
                       "storage": {"href": format!("/api/v3/storages/{storage_id}")}}})),
        StatusCode::CREATED,
    )
    .await;
    started.elapsed()
}
