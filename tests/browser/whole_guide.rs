//! The setup guide played across both web UIs, as an administrator with two browser tabs: steps
//! 1–5 in the guide's order, each value copied from the page that shows it into the page that
//! asks for it; the administrator connects as a user; then the Nextcloud side is reset (and
//! OpenProject's health shows it) and the storage is deleted on the OpenProject side.

use integration_tests::{
    json_of,
    nextcloud_ui::{self, ADMIN_SETTINGS},
    spawn_pair,
    webdriver::Chrome,
    ADMIN, NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

const NEXTCLOUD_COMPLETE: &str = "The OpenProject integration is set up completely.";
const CONFIRM: &str = "dialog[open] button[value=confirm]";

#[tokio::test]
async fn an_administrator_follows_the_whole_guide_in_both_uis_then_resets_and_deletes() {
    let pair = spawn_pair();
    let (op, nc) = (pair.openproject.url.clone(), pair.nextcloud.url.clone());
    let chrome = Chrome::start(1280, 1000).await;

    // Step 1, Nextcloud: the OpenProject server.
    let nextcloud_tab = chrome.current_tab().await;
    nextcloud_ui::sign_in(&chrome, &pair, ADMIN, NCOA_ADMIN_PASSWORD).await;
    nextcloud_ui::user_menu(&chrome, "Administration settings").await;
    chrome
        .wait_for_url(|url| url.ends_with(ADMIN_SETTINGS))
        .await;
    chrome.fill_labelled("OpenProject host", &op).await;
    chrome
        .wait_for_text("This is an OpenProject instance.")
        .await;
    chrome.click("#server-save").await;
    chrome
        .wait_for_text("Next: save the OpenProject OAuth settings.")
        .await;

    // Step 2, OpenProject (a second tab): the storage; its OAuth values are shown once.
    let openproject_tab = chrome.open_tab().await;
    chrome.goto(&format!("{op}/login")).await;
    chrome.fill("input[name=username]", ADMIN).await;
    chrome
        .fill("input[name=password]", OPS_ADMIN_PASSWORD)
        .await;
    chrome.click_text("Sign in").await;
    chrome.wait_for_text("Welcome,").await;
    chrome.click_text("Administration").await;
    chrome.click_text("+ Storage").await;
    chrome.fill_labelled("Host URL", &nc).await;
    enter_values_by_hand(&chrome).await;
    chrome.click_text("Save and continue setup").await;
    chrome.wait_for_text("OAuth application details").await;
    let op_client_id = chrome.labelled_value("Client ID").await;
    let op_client_secret = chrome.labelled_value("Client secret").await;
    chrome.screenshot("guide-step-2-openproject-values").await;

    // Step 3, Nextcloud: OpenProject's values in, Nextcloud's values out (shown once).
    chrome.switch_to_tab(&nextcloud_tab).await;
    chrome
        .fill_labelled("OpenProject OAuth client ID", &op_client_id)
        .await;
    chrome
        .fill_labelled("OpenProject OAuth client secret", &op_client_secret)
        .await;
    chrome.click("#openproject-oauth-save").await;
    chrome.wait_for("#nextcloud-oauth-new").await;
    let nc_client_id = chrome.labelled_value("Nextcloud OAuth client ID").await;
    let nc_client_secret = chrome.labelled_value("Nextcloud OAuth client secret").await;
    chrome.screenshot("guide-step-3-nextcloud-values").await;
    chrome.click_text("Yes, I have copied these values").await;
    chrome.wait_for("#nextcloud-oauth-saved").await;

    // Step 4, OpenProject: Nextcloud's values; the storage is complete.
    chrome.switch_to_tab(&openproject_tab).await;
    chrome.click_text("Done. Continue setup").await;
    chrome.wait_for_text("Nextcloud OAuth").await;
    chrome.fill_labelled("Client ID", &nc_client_id).await;
    chrome
        .fill_labelled("Client secret", &nc_client_secret)
        .await;
    chrome.click_text("Save and complete setup").await;
    chrome.wait_for_url(|url| url.ends_with("/edit")).await;
    chrome.wait_for_text("Setup complete").await;
    chrome.wait_for_text("Healthy").await;
    let storage_page = chrome.current_url().await;
    chrome.switch_to_tab(&nextcloud_tab).await;
    chrome.goto(&format!("{nc}{ADMIN_SETTINGS}")).await;
    chrome.wait_for_text(NEXTCLOUD_COMPLETE).await;

    // Step 5, OpenProject: a project enables the storage.
    let (status, project) = json_of(
        pair.op(Method::POST, "/api/v3/projects")
            .json(&json!({"name": "Guide"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let project_id = project["id"].as_i64().expect("project id");
    chrome.switch_to_tab(&openproject_tab).await;
    chrome.click_text("Projects").await;
    chrome.click_text("Guide").await;
    chrome.click_text("Project settings").await;
    let checkbox = chrome.labelled_control_id("File storages").await;
    chrome.click(&format!("[id=\"{checkbox}\"]")).await;
    chrome.click_text("Save").await;
    chrome.wait_for_text("Modules saved.").await;
    chrome
        .click("#project-menu a[href$='/settings/project_storages']")
        .await;
    chrome.click_text("+ Storage").await;
    chrome.click_text("Add").await;
    chrome.wait_for_text("Storage added").await;
    let (_, enabled) = json_of(pair.op(Method::GET, "/api/v3/project_storages")).await;
    let elements = enabled["_embedded"]["elements"].as_array().cloned();
    assert_eq!(elements.as_ref().map(Vec::len), Some(1), "{enabled}");
    assert_eq!(
        elements.unwrap_or_default()[0]["_links"]["project"]["href"],
        format!("/api/v3/projects/{project_id}")
    );
    chrome.screenshot("guide-step-5-project-storage").await;

    // The administrator connects to Nextcloud as a user (already signed in there, in the
    // other tab, so Nextcloud only asks to grant access).
    connect_at_openproject(&chrome, &op).await;
    let (_, storage) = json_of(pair.op(Method::GET, "/api/v3/storages/1")).await;
    assert_eq!(
        storage["_links"]["authorizationState"]["href"],
        "urn:openproject-org:api:v3:storages:authorization:Connected",
        "{storage}"
    );

    // Reset on Nextcloud: its admin page says what is missing. OpenProject learns it when it next
    // uses the administrator's token: the health check finds the connection gone (the token
    // no longer refreshes) and My account offers to connect again.
    chrome.switch_to_tab(&nextcloud_tab).await;
    chrome.click("#reset-integration").await;
    chrome
        .wait_for_text("Every user's connection to OpenProject is deleted.")
        .await;
    chrome.click(CONFIRM).await;
    chrome
        .wait_for_text("The setup is incomplete. Next: save the OpenProject server.")
        .await;
    chrome.switch_to_tab(&openproject_tab).await;
    chrome.goto(&storage_page).await;
    chrome
        .wait_for_text("You have not connected your account to this Nextcloud yet")
        .await;
    chrome.screenshot("guide-after-reset").await;
    chrome.goto(&format!("{op}/my/file_storages")).await;
    chrome
        .wait_for("a[aria-label='Connect to Nextcloud']")
        .await;
    chrome.goto(&storage_page).await;

    // Delete on OpenProject: the storage's name typed to confirm.
    chrome.click_text("Delete").await;
    chrome
        .fill_labelled("Type the storage name (Nextcloud) to confirm", "Nextcloud")
        .await;
    chrome.click(CONFIRM).await;
    chrome
        .wait_for_url(|url| url.ends_with("/admin/settings/storages"))
        .await;
    chrome
        .wait_for_text("The storage Nextcloud was deleted.")
        .await;
    let (_, listed) = json_of(pair.op(Method::GET, "/api/v3/storages")).await;
    assert_eq!(listed["total"], 0, "{listed}");
}

/// In OpenProject's new storage wizard: the guide's path, "Enter OAuth values by hand", instead
/// of the default "Pair with a code".
pub(crate) async fn enter_values_by_hand(chrome: &Chrome) {
    let manual = chrome
        .labelled_control_id("Enter OAuth values by hand")
        .await;
    chrome.click(&format!("[id=\"{manual}\"]")).await;
}

/// At OpenProject (`op`), My account → File storages: the signed-in user connects to Nextcloud,
/// where they are signed in too, so Nextcloud only asks to grant access.
pub(crate) async fn connect_at_openproject(chrome: &Chrome, op: &str) {
    chrome.goto(&format!("{op}/my/file_storages")).await;
    chrome.click("a[aria-label='Connect to Nextcloud']").await;
    chrome.click("#grant").await;
    chrome
        .wait_for_url(|url| url.ends_with("/my/file_storages"))
        .await;
    chrome.wait_for_text("Connected").await;
}
