//! Creating a work package from a Nextcloud file, end to end (spec NC §6, OP §5.2): the dialog's
//! calls through Nextcloud's OCS wrappers (projects, form, assignees, create), then linking the
//! file, and the link as OpenProject shows it.

use integration_tests::{
    flows::{connect_both_ways, file_link_statuses, ocs, person, project_with_storage, upload},
    json_of, spawn_pair,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

const VIEW_ALLOWED: &str = "urn:openproject-org:api:v3:file-links:permission:ViewAllowed";

#[tokio::test]
async fn a_nextcloud_user_creates_a_work_package_for_a_file() {
    let pair = spawn_pair();
    let integration = pair.set_up_integration().await;
    let project_id = project_with_storage(&pair, integration.storage_id, "Demo").await;
    let alice = person(&pair, "alice", project_id, "Member").await;
    connect_both_ways(&pair, &integration, &alice).await;

    let file_id = upload(&pair, &alice, "minutes.txt", "what we agreed").await;

    // The dialog offers the projects where alice may create work packages and link files.
    let (status, projects) = json_of(ocs(&pair, &alice, Method::GET, "/projects")).await;
    assert_eq!(status, StatusCode::OK, "{projects}");
    let project = &projects["ocs"]["data"][project_id.to_string()];
    assert_eq!(project["name"], "Demo", "{projects}");
    assert_eq!(
        project["_links"]["storages"][0]["href"],
        format!("/api/v3/storages/{}", integration.storage_id)
    );
    let project_href = format!("/api/v3/projects/{project_id}");

    // The form shows what is missing, then accepts the filled-in work package.
    let form = |body: serde_json::Value| {
        ocs(
            &pair,
            &alice,
            Method::POST,
            &format!("/projects/{project_id}/work-packages/form"),
        )
        .json(&json!({"body": body}))
    };
    let (status, invalid) =
        json_of(form(json!({"_links": {"project": {"href": project_href}}}))).await;
    assert_eq!(status, StatusCode::OK, "{invalid}");
    assert_eq!(
        invalid["ocs"]["data"]["validationErrors"]["subject"]["message"],
        "Subject can't be blank."
    );
    let (status, assignees) = json_of(ocs(
        &pair,
        &alice,
        Method::GET,
        &format!("/projects/{project_id}/available-assignees"),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{assignees}");
    let alice_href = format!("/api/v3/users/{}", alice.op_id);
    assert!(
        assignees["ocs"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["_links"]["self"]["href"] == alice_href.as_str()),
        "{assignees}"
    );
    let work_package = json!({
        "subject": "Follow up on the minutes",
        "description": {"raw": "From minutes.txt"},
        "_links": {"project": {"href": project_href},
                   "type": {"href": "/api/v3/types/2"},
                   "status": {"href": "/api/v3/statuses/2"},
                   "assignee": {"href": alice_href}}});
    let (status, valid) = json_of(form(work_package.clone())).await;
    assert_eq!(status, StatusCode::OK, "{valid}");
    assert_eq!(valid["ocs"]["data"]["validationErrors"], json!({}));
    assert_eq!(
        valid["ocs"]["data"]["payload"]["_links"]["type"]["title"],
        "Bug"
    );

    // Create, as the dialog does, then link the file it started from.
    let (status, created) = json_of(
        ocs(&pair, &alice, Method::POST, "/create/work-packages")
            .json(&json!({"body": work_package})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let created = &created["ocs"]["data"];
    let wp = created["id"].as_i64().unwrap();
    assert_eq!(created["_embedded"]["status"]["name"], "In progress");
    assert_eq!(created["_embedded"]["assignee"]["id"], alice.op_id);
    assert_eq!(created["_embedded"]["project"]["id"], project_id);
    let (status, linked) = json_of(
        ocs(&pair, &alice, Method::POST, "/work-packages").json(&json!({
        "values": {"workpackageId": wp, "fileinfo": [{"id": file_id, "name": "minutes.txt"}]}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{linked}");

    // OpenProject shows the link on the new work package, and Nextcloud finds the work package
    // by the file.
    let (status, links) = json_of(pair.op(
        Method::GET,
        &format!("/api/v3/work_packages/{wp}/file_links"),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{links}");
    let link = &links["_embedded"]["elements"][0];
    assert_eq!(link["originData"]["id"], file_id.to_string());
    assert_eq!(link["originData"]["name"], "minutes.txt");
    assert_eq!(
        file_link_statuses(&pair, &alice, wp).await,
        vec![VIEW_ALLOWED]
    );
    let (_, found) = json_of(ocs(
        &pair,
        &alice,
        Method::GET,
        &format!("/work-packages?fileId={file_id}"),
    ))
    .await;
    assert!(
        found["ocs"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == wp),
        "{found}"
    );
}
