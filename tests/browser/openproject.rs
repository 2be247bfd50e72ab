//! The OpenProject side's screens, used as an administrator and a project member would: setup
//! steps 2–5, replacing OpenProject's OAuth values, deleting the storage, and a work package's
//! Files tab with the file picker. Nextcloud's values come from its API (its screens are built
//! separately); axe-core checks every screen.

use std::time::Instant;

use integration_tests::{
    json_of, spawn_pair, webdriver::Chrome, Pair, ADMIN, APP, NCOA_ADMIN_PASSWORD,
    OPS_ADMIN_PASSWORD,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const TAB: &str = "\u{E004}";
const SHIFT_TAB: &str = "\u{E008}\u{E004}";
const ENTER: &str = "\u{E007}";
const SPACE: &str = " ";

/// Signs the browser in at `base` (either name of the server) and lands on the home page.
async fn sign_in(chrome: &Chrome, base: &str) {
    chrome.goto(&format!("{base}/login")).await;
    chrome.fill("input[name=username]", ADMIN).await;
    chrome
        .fill("input[name=password]", OPS_ADMIN_PASSWORD)
        .await;
    chrome.click_text("Sign in").await;
    chrome.wait_for_text("Welcome,").await;
}

/// Waits until the screen's script has built it from the API.
async fn ready(chrome: &Chrome) {
    chrome.wait_for("main[data-ready=true]").await;
}

/// Setup step 3 on the Nextcloud side, through its API: OpenProject's values in, Nextcloud's
/// values out (client id, client secret).
async fn nextcloud_takes(pair: &Pair, client_id: &str, client_secret: &str) -> (String, String) {
    let (status, body) = json_of(pair.nc(Method::POST, &format!("{APP}/setup")).json(
        &json!({"values": {
            "openproject_instance_url": pair.openproject.url,
            "openproject_client_id": client_id,
            "openproject_client_secret": client_secret,
            "default_enable_navigation": false,
            "default_enable_unified_search": false,
            "setup_project_folder": false,
            "setup_app_password": false,
        }}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["nextcloud_client_id"]
            .as_str()
            .expect("client id")
            .to_string(),
        body["nextcloud_client_secret"]
            .as_str()
            .expect("client secret")
            .to_string(),
    )
}

async fn storages(pair: &Pair) -> Vec<Value> {
    let (status, body) = json_of(pair.op(Method::GET, "/api/v3/storages")).await;
    assert_eq!(status, StatusCode::OK);
    body["_embedded"]["elements"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// An OpenProject access token of Nextcloud's kind (OpenProject's OAuth application), for the
/// OpenProject admin: what Nextcloud stores once a user connected.
async fn openproject_access_token(pair: &Pair, client_id: &str, client_secret: &str) -> String {
    let browser = integration_tests::Browser::new();
    pair.sign_in_to_openproject(&browser, ADMIN, OPS_ADMIN_PASSWORD)
        .await;
    let integration = integration_tests::Integration {
        storage_id: 0,
        openproject_client_id: client_id.into(),
        openproject_client_secret: client_secret.into(),
        nextcloud_client_id: String::new(),
        nextcloud_client_secret: String::new(),
    };
    pair.openproject_tokens(&browser, &integration)
        .await
        .access_token
}

async fn bearer_status(pair: &Pair, token: &str) -> StatusCode {
    pair.client
        .get(format!("{}/api/v3/users/me", pair.openproject.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("request is sent")
        .status()
}

#[tokio::test]
async fn an_admin_sets_up_replaces_and_deletes_a_storage_with_clicks() {
    let started = Instant::now();
    let pair = spawn_pair();
    let chrome = Chrome::start(1280, 1000).await;
    // The server's other name: its public URL says 127.0.0.1, the browser says localhost.
    let base = pair.openproject.url.replace("127.0.0.1", "localhost");
    sign_in(&chrome, &base).await;
    let header = chrome.page_text().await;
    for label in ["Projects", "Administration", "My account", "Sign out"] {
        assert!(header.contains(label), "header shows {label}: {header}");
    }
    assert!(
        chrome.find_now("a[href='/api/v3']").await.is_none(),
        "no link that asks for Basic credentials"
    );
    chrome.assert_accessible("home").await;

    // Step 2: Administration → File storages → + Storage.
    chrome.click_text("Administration").await;
    ready(&chrome).await;
    chrome.wait_for_text("No file storage is set up yet").await;
    chrome.assert_accessible("file storages (empty)").await;
    chrome.click_text("+ Storage").await;
    chrome.wait_for_text("Provider type").await;
    assert_eq!(
        chrome.labelled_value("Provider type").await,
        "urn:openproject-org:api:v3:storages:Nextcloud"
    );
    assert_eq!(chrome.labelled_value("Name").await, "Nextcloud");
    chrome.assert_accessible("new storage").await;
    // The host check's message appears at the field.
    chrome.fill_labelled("Host URL", "http://127.0.0.1:9").await;
    chrome.click_text("Save and continue setup").await;
    chrome.wait_for_text("Host could not be reached").await;
    let error = chrome
        .wait_for("[aria-invalid=true] + .field-error, .field-error")
        .await;
    assert!(chrome
        .text(&error)
        .await
        .starts_with("Host could not be reached"));
    chrome
        .assert_accessible("new storage with a host error")
        .await;
    chrome.fill_labelled("Host URL", &pair.nextcloud.url).await;
    chrome.click_text("Save and continue setup").await;
    chrome.wait_for_text("OAuth application details").await;
    chrome
        .wait_for_text("only time the client secret is shown")
        .await;
    let op_client_id = chrome.labelled_value("Client ID").await;
    let op_client_secret = chrome.labelled_value("Client secret").await;
    assert_eq!(op_client_id.len(), 43, "{op_client_id}");
    assert_eq!(op_client_secret.len(), 43);
    chrome.assert_accessible("OAuth application details").await;
    chrome.click_text("Done. Continue setup").await;

    // Step 3 at Nextcloud (its API), step 4 back here.
    let (nc_client_id, nc_client_secret) =
        nextcloud_takes(&pair, &op_client_id, &op_client_secret).await;
    chrome.wait_for_text("Nextcloud OAuth").await;
    chrome.fill_labelled("Client ID", &nc_client_id).await;
    chrome
        .fill_labelled("Client secret", &nc_client_secret)
        .await;
    chrome.click_text("Save and complete setup").await;
    chrome.wait_for_url(|url| url.ends_with("/edit")).await;
    ready(&chrome).await;
    chrome.wait_for_text("Setup complete").await;
    chrome.wait_for_text("Health: ").await;
    chrome.assert_accessible("storage page").await;
    let listed = storages(&pair).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["configured"], true);
    let storage_id = listed[0]["id"].as_i64().expect("id");
    chrome.screenshot("op-storage-page").await;

    chrome.click_text("File storages").await;
    ready(&chrome).await;
    chrome.wait_for_text("Setup complete").await;
    chrome.wait_for_text("Healthy").await;
    chrome.assert_accessible("file storages").await;

    // Replace OpenProject's OAuth values: tokens Nextcloud holds stop working.
    let old_token = openproject_access_token(&pair, &op_client_id, &op_client_secret).await;
    assert_eq!(bearer_status(&pair, &old_token).await, StatusCode::OK);
    chrome
        .goto(&format!("{base}/admin/settings/storages/{storage_id}/edit"))
        .await;
    ready(&chrome).await;
    chrome.click_text("Replace OpenProject OAuth values").await;
    chrome
        .wait_for_text("must authorize OpenProject again")
        .await;
    chrome.assert_accessible("replace confirmation").await;
    chrome.click_text("Replace").await;
    chrome.wait_for_text("New values made").await;
    let new_client_id = chrome.labelled_value("Client ID").await;
    let new_secret = chrome.labelled_value("Client secret").await;
    assert_ne!(new_client_id, op_client_id);
    assert_eq!(new_secret.len(), 43);
    assert_eq!(
        bearer_status(&pair, &old_token).await,
        StatusCode::UNAUTHORIZED
    );
    chrome.assert_accessible("replaced values").await;

    // Delete: the name must be typed.
    chrome.click_text("Delete").await;
    chrome.wait_for_text("every file link to its files").await;
    chrome.assert_accessible("delete confirmation").await;
    let confirm = chrome.wait_for("dialog button[value=confirm]").await;
    assert_eq!(
        chrome
            .execute(
                "return document.querySelector('dialog button[value=confirm]').disabled",
                json!([])
            )
            .await,
        true
    );
    chrome
        .fill_labelled("Type the storage name (Nextcloud) to confirm", "Nextcloud")
        .await;
    chrome.click_element(&confirm).await;
    chrome
        .wait_for_url(|url| url.ends_with("/admin/settings/storages"))
        .await;
    chrome
        .wait_for_text("The storage Nextcloud was deleted.")
        .await;
    assert!(storages(&pair).await.is_empty());

    // Unknown pages answer with an HTML page.
    chrome.goto(&format!("{base}/admin/nothing-here")).await;
    chrome.wait_for_text("Page not found").await;
    chrome.assert_accessible("404 page").await;
    eprintln!("admin storage flow took {:?}", started.elapsed());
}
