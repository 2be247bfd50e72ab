//! Linking a Nextcloud file to an OpenProject work package, end to end (flows.md §6): upload
//! over WebDAV, connect both ways, link through Nextcloud's OCS wrapper, and watch OpenProject's
//! live status follow what each user may see in Nextcloud.

use std::time::Duration;

use integration_tests::{
    flows::{connect_nextcloud_user_to_openproject, connect_openproject_user_to_nextcloud},
    json_of, spawn_pair, Browser, Integration, Pair,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

const OCS_API: &str = "/ocs/v2.php/apps/integration_openproject/api/v1";
const VIEW_ALLOWED: &str = "urn:openproject-org:api:v3:file-links:permission:ViewAllowed";
const VIEW_NOT_ALLOWED: &str = "urn:openproject-org:api:v3:file-links:permission:ViewNotAllowed";
const NOT_FOUND: &str = "urn:openproject-org:api:v3:file-links:NotFound";
const ERROR: &str = "urn:openproject-org:api:v3:file-links:Error";

struct Person {
    login: &'static str,
    password: &'static str,
    op_id: i64,
    /// Signed in to both services, connected in both directions.
    browser: Browser,
}

/// A user with the same login on both sides, member of `project` with role `role`.
async fn person(pair: &Pair, login: &'static str, project: i64, role: &str) -> Person {
    let password = "a-long-password-1";
    let (status, user) = json_of(pair.op(Method::POST, "/api/v3/users").json(&json!({
        "login": login, "password": password, "firstName": login, "lastName": "Example",
        "email": format!("{login}@example.com")})))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let op_id = user["id"].as_i64().unwrap();
    let (_, roles) = json_of(pair.op(Method::GET, "/api/v3/roles")).await;
    let role_href = roles["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == role)
        .unwrap_or_else(|| panic!("role {role} in {roles}"))["_links"]["self"]["href"]
        .clone();
    let (status, membership) = json_of(pair.op(Method::POST, "/api/v3/memberships").json(&json!({
        "_links": {"project": {"href": format!("/api/v3/projects/{project}")},
                   "principal": {"href": format!("/api/v3/users/{op_id}")},
                   "roles": [{"href": role_href}]}})))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{membership}");
    let (status, _) = json_of(
        pair.nc(Method::POST, "/ocs/v2.php/cloud/users?format=json")
            .header("OCS-APIRequest", "true")
            .form(&[("userid", login), ("password", password)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    Person {
        login,
        password,
        op_id,
        browser: Browser::new(),
    }
}

async fn connect_both_ways(pair: &Pair, integration: &Integration, who: &Person) {
    pair.sign_in_to_nextcloud(&who.browser, who.login, who.password)
        .await;
    connect_nextcloud_user_to_openproject(pair, &who.browser, who.login, who.password).await;
    connect_openproject_user_to_nextcloud(pair, &who.browser, integration, who.login, who.password)
        .await;
}

/// The file links of a work package as `who` sees them in OpenProject, with live status.
async fn statuses(pair: &Pair, who: &Person, work_package: i64) -> Vec<String> {
    let (status, links) = json_of(
        who.browser
            .client()
            .get(format!(
                "{}/api/v3/work_packages/{work_package}/file_links",
                pair.openproject.url
            ))
            .header("X-Requested-With", "XMLHttpRequest"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{links}");
    links["_embedded"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["_links"]["status"]["href"]
                .as_str()
                .unwrap_or("none")
                .to_string()
        })
        .collect()
}

fn ocs(pair: &Pair, who: &Person, method: Method, path: &str) -> reqwest::RequestBuilder {
    pair.client
        .request(method, format!("{}{OCS_API}{path}", pair.nextcloud.url))
        .basic_auth(who.login, Some(who.password))
        .header("OCS-APIRequest", "true")
        .header("Accept", "application/json")
}

#[tokio::test]
async fn a_linked_file_follows_what_each_user_may_see_in_nextcloud() {
    let mut pair = spawn_pair();
    let integration = pair.set_up_integration().await;

    // Seed step 5: a project with the storage enabled.
    let (status, project) = json_of(
        pair.op(Method::POST, "/api/v3/projects")
            .json(&json!({"name": "Demo"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let project_id = project["id"].as_i64().unwrap();
    let (status, modules) = json_of(pair.op(
        Method::PUT,
        &format!("/api/v3/projects/{project_id}/modules/storages"),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{modules}");
    let (status, project_storage) = json_of(
        pair.op(Method::POST, "/api/v3/project_storages")
            .json(&json!({
        "projectFolderMode": "inactive",
        "_links": {"project": {"href": format!("/api/v3/projects/{project_id}")},
                   "storage": {"href": format!("/api/v3/storages/{}", integration.storage_id)}}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{project_storage}");

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
    let response = pair
        .client
        .put(format!(
            "{}/remote.php/dav/files/alice/report.txt",
            pair.nextcloud.url
        ))
        .basic_auth(alice.login, Some(alice.password))
        .body("quarterly numbers")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let file_id: i64 = response.headers()["OC-FileId"]
        .to_str()
        .unwrap()
        .trim_start_matches('0')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap();

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
