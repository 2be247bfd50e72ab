//! Direct upload, end to end (openproject-storages.md §11, nextcloud-openproject-app.md §10.1):
//! an OpenProject user connected both ways asks OpenProject for an upload link, posts a file
//! to Nextcloud as a page on OpenProject's origin would, links the new file to a work package,
//! and finds it in Nextcloud and among the work package's file links.

use integration_tests::{
    flows::{connect_both_ways, file_link_names, file_link_statuses, person, project_with_storage},
    json_of, spawn_pair,
};
use reqwest::{
    multipart::{Form, Part},
    Method, StatusCode,
};
use serde_json::json;

const VIEW_ALLOWED: &str = "urn:openproject-org:api:v3:file-links:permission:ViewAllowed";

#[tokio::test]
async fn a_file_uploaded_through_the_upload_link_is_in_nextcloud_and_linked() {
    let pair = spawn_pair();
    let integration = pair.set_up_integration().await;
    let project_id = project_with_storage(&pair, integration.storage_id, "Demo").await;
    let alice = person(&pair, "alice", project_id, "Member").await;
    connect_both_ways(&pair, &integration, &alice).await;
    let (status, work_package) = json_of(
        pair.op(
            Method::POST,
            &format!("/api/v3/projects/{project_id}/work_packages"),
        )
        .json(&json!({"subject": "Site survey"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{work_package}");
    let wp = work_package["id"].as_i64().unwrap();

    // Alice's OpenProject session calls the API as the front end does.
    let op = |method: Method, path: &str| {
        alice
            .browser
            .client()
            .request(method, format!("{}{path}", pair.openproject.url))
            .header("X-Requested-With", "XMLHttpRequest")
    };
    let storage_path = format!("/api/v3/storages/{}", integration.storage_id);

    // The storage offers an upload for the project; the folder is her Nextcloud root.
    let (status, storage) = json_of(op(Method::GET, &storage_path)).await;
    assert_eq!(status, StatusCode::OK, "{storage}");
    let action = &storage["_links"]["prepareUpload"][0];
    assert_eq!(action["payload"]["projectId"], project_id, "{storage}");
    let (status, root) = json_of(op(Method::GET, &format!("{storage_path}/files?parent=/"))).await;
    assert_eq!(status, StatusCode::OK, "{root}");
    let folder_id = root["parent"]["id"].as_str().unwrap().to_string();

    let (status, link) = json_of(
        op(Method::POST, action["href"].as_str().unwrap())
            .json(&json!({"projectId": project_id, "fileName": "survey.txt", "parent": folder_id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{link}");
    assert_eq!(link["_type"], "UploadLink");
    let destination = &link["_links"]["destination"];
    assert_eq!(destination["method"], "post");
    let url = destination["href"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{}/index.php/apps/integration_openproject/direct-upload/",
            pair.nextcloud.url
        )),
        "{url}"
    );

    // The browser posts the file straight to Nextcloud, from OpenProject's origin, without
    // Nextcloud credentials.
    let content = "north wall: cracked\n".repeat(1000);
    let form = Form::new().text("overwrite", "false").part(
        "file",
        Part::bytes(content.clone().into_bytes()).file_name("survey.txt"),
    );
    let response = pair
        .client
        .post(url)
        .header("Origin", &pair.openproject.url)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()["Access-Control-Allow-Origin"],
        pair.openproject.url.as_str()
    );
    let uploaded: serde_json::Value = response.json().await.unwrap();
    assert_eq!(uploaded["file_name"], "survey.txt");
    let file_id = uploaded["file_id"].as_i64().unwrap();

    // The link is used up.
    let again = pair
        .client
        .post(url)
        .multipart(Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("x.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    // Linked as the front end links it: with the upload's answer as origin data.
    let (status, created) = json_of(
        op(Method::POST, &format!("/api/v3/work_packages/{wp}/file_links")).json(&json!({
            "_type": "Collection", "_embedded": {"elements": [{
                "originData": {"id": file_id.to_string(), "name": uploaded["file_name"],
                               "mimeType": "text/plain", "createdAt": null,
                               "lastModifiedAt": null, "createdByName": "", "lastModifiedByName": ""},
                "_links": {"storage": {"href": storage_path}}}]}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(file_link_names(&pair, wp).await, vec!["survey.txt"]);
    assert_eq!(
        file_link_statuses(&pair, &alice, wp).await,
        vec![VIEW_ALLOWED]
    );

    // In Nextcloud, in alice's files, with its content.
    let response = pair
        .client
        .get(format!(
            "{}/remote.php/dav/files/alice/survey.txt",
            pair.nextcloud.url
        ))
        .basic_auth(alice.login, Some(alice.password))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let id_header = response.headers()["OC-FileId"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id_header[..8].parse::<i64>().unwrap(), file_id);
    assert_eq!(response.text().await.unwrap(), content);
}
