//! Linking a Nextcloud file to an OpenProject work package, end to end (flows.md §6): upload
//! over WebDAV, connect both ways, link through Nextcloud's OCS wrapper, and watch OpenProject's
//! live status follow what each user may see in Nextcloud.

use std::time::Duration;

use integration_tests::{
    flows::{
        connect_both_ways, file_link_statuses as statuses, ocs, person, project_with_storage,
        upload,
    },
    json_of, spawn_pair,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

const VIEW_ALLOWED: &str = "urn:openproject-org:api:v3:file-links:permission:ViewAllowed";
const VIEW_NOT_ALLOWED: &str = "urn:openproject-org:api:v3:file-links:permission:ViewNotAllowed";
const NOT_FOUND: &str = "urn:openproject-org:api:v3:file-links:NotFound";
const ERROR: &str = "urn:openproject-org:api:v3:file-links:Error";

#[tokio::test]
async fn a_linked_file_follows_what_each_user_may_see_in_nextcloud() {
    let mut pair = spawn_pair();
    let integration = pair.set_up_integration().await;

    // Seed step 5: a project with the storage enabled.
    let project_id = project_with_storage(&pair, integration.storage_id, "Demo").await;

    let alice = person(&pair, "alice", project_id, "Member").await;
    let bob = person(&pair, "bob", project_id, "Member").await;
    connect_both_ways(&pair, &integration, &alice).await;
    connect_both_ways(&pair, &integration, &bob).await;

    // A work package assigned to alice: she gets a notification.
    let (status, work_package) = json_of(
        pair.op(Method::POST, &format!("/api/v3/projects/{project_id}/work_packages"))
            .json(&json!({"subject": "Quarterly report",
                          "_links": {"assignee": {"href": format!("/api/v3/users/{}", alice.op_id)}}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{work_package}");
    let wp = work_package["id"].as_i64().unwrap();

    // Alice uploads a file over WebDAV.
    let file_id = upload(&pair, &alice, "report.txt", "quarterly numbers").await;

    // She links it from Nextcloud.
    let (status, linked) = json_of(
        ocs(&pair, &alice, Method::POST, "/work-packages").json(&json!({
        "values": {"workpackageId": wp, "fileinfo": [{"id": file_id, "name": "report.txt"}]}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{linked}");
    assert_eq!(linked["ocs"]["data"].as_array().unwrap().len(), 1);

    // OpenProject: alice may view it, bob (who cannot see alice's file in Nextcloud) may not.
    assert_eq!(statuses(&pair, &alice, wp).await, vec![VIEW_ALLOWED]);
    assert_eq!(statuses(&pair, &bob, wp).await, vec![VIEW_NOT_ALLOWED]);

    // Nextcloud shows alice her notification, and search finds the work package.
    let (_, notifications) = json_of(ocs(&pair, &alice, Method::GET, "/notifications")).await;
    assert!(
        notifications["ocs"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["_links"]["resource"]["href"] == format!("/api/v3/work_packages/{wp}")),
        "{notifications}"
    );
    for query in [
        "?searchQuery=Quarterly".to_string(),
        format!("?fileId={file_id}"),
    ] {
        let (_, found) = json_of(ocs(
            &pair,
            &alice,
            Method::GET,
            &format!("/work-packages{query}"),
        ))
        .await;
        assert!(
            found["ocs"]["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["id"] == wp),
            "{query}: {found}"
        );
    }

    // The file is deleted in Nextcloud: not found.
    let response = pair
        .client
        .delete(format!(
            "{}/remote.php/dav/files/alice/report.txt",
            pair.nextcloud.url
        ))
        .basic_auth(alice.login, Some(alice.password))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(statuses(&pair, &alice, wp).await, vec![NOT_FOUND]);

    // Nextcloud stops: the list still answers, with status Error.
    let _ = pair.nextcloud.terminate(Duration::from_secs(10));
    assert_eq!(statuses(&pair, &alice, wp).await, vec![ERROR]);
}
