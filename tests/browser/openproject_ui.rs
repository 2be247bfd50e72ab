//! The OpenProject side's screens, used as an administrator and a project member would: setup
//! steps 2–5, replacing OpenProject's OAuth values, deleting the storage, and a work package's
//! Files tab with the file picker. Nextcloud's values come from its API (its screens are built
//! separately); axe-core checks every screen.

use std::time::Instant;

use integration_tests::{
    flows::file_link_names,
    json_of, spawn_pair,
    webdriver::{
        keys::{ARROW_DOWN, ENTER, ESCAPE, TAB},
        tab_to, Chrome,
    },
    Pair, ADMIN, APP, NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

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
    crate::whole_guide::enter_values_by_hand(&chrome).await;
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
    chrome.screenshot("op-new-storage-host-error").await;
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
    chrome.screenshot("op-oauth-application-details").await;
    chrome
        .click("button[aria-label='Copy Client secret']")
        .await;
    chrome.wait_for_text("Copied").await;
    chrome.click_text("Done. Continue setup").await;

    // Step 3 at Nextcloud (its API), step 4 back here.
    let (nc_client_id, nc_client_secret) =
        nextcloud_takes(&pair, &op_client_id, &op_client_secret).await;
    chrome.wait_for_text("Nextcloud OAuth").await;
    chrome.assert_accessible("Nextcloud OAuth").await;
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

    // Replace Nextcloud's OAuth values: new ones from Nextcloud, entered on the storage page.
    let (status, renewed) = json_of(pair.nc(Method::POST, &format!("{APP}/nc-oauth"))).await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    let renewed_id = renewed["nextcloud_client_id"].as_str().expect("id");
    chrome
        .goto(&format!("{base}/admin/settings/storages/{storage_id}/edit"))
        .await;
    ready(&chrome).await;
    chrome.fill_labelled("Client ID", renewed_id).await;
    chrome
        .fill_labelled(
            "Client secret",
            renewed["nextcloud_client_secret"].as_str().expect("secret"),
        )
        .await;
    chrome.click_text("Replace Nextcloud OAuth values").await;
    chrome.wait_for_text("must log in to Nextcloud again").await;
    chrome.click_text("Replace").await;
    chrome
        .wait_for_text("Nextcloud OAuth values replaced.")
        .await;
    let (_, storage) =
        json_of(pair.op(Method::GET, &format!("/api/v3/storages/{storage_id}"))).await;
    assert_eq!(
        storage["_embedded"]["oauthClientCredentials"]["clientId"],
        renewed_id
    );

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

    // Nextcloud down: the health status names each failing check and what to do.
    let mut pair = pair;
    pair.nextcloud.terminate(std::time::Duration::from_secs(10));
    chrome
        .goto(&format!("{base}/admin/settings/storages/{storage_id}/edit"))
        .await;
    ready(&chrome).await;
    chrome.wait_for_text("Unhealthy").await;
    chrome.wait_for_text("Failed").await;
    chrome
        .assert_accessible("storage page, Nextcloud down")
        .await;
    chrome.screenshot("op-storage-nextcloud-down").await;

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

/// `PUT` a small text file into the Nextcloud admin's files, creating `folder` first if given.
async fn nextcloud_file(pair: &Pair, folder: Option<&str>, path: &str) {
    if let Some(folder) = folder {
        let mkcol = Method::from_bytes(b"MKCOL").expect("a method");
        let response = pair
            .nc(mkcol, &format!("/remote.php/dav/files/{ADMIN}/{folder}"))
            .send()
            .await
            .expect("MKCOL is sent");
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let response = pair
        .nc(
            Method::PUT,
            &format!("/remote.php/dav/files/{ADMIN}/{path}"),
        )
        .body(format!("contents of {path}"))
        .send()
        .await
        .expect("PUT is sent");
    assert!(response.status().is_success(), "{}", response.status());
}

/// A project with one work package, through the API (the host model's own screens are not
/// part of this issue). Returns (project identifier, work package id).
async fn project_with_work_package(pair: &Pair) -> (String, i64) {
    let (status, project) = json_of(
        pair.op(Method::POST, "/api/v3/projects")
            .json(&json!({"name": "Roadmap"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let (status, wp) = json_of(
        pair.op(
            Method::POST,
            &format!("/api/v3/projects/{}/work_packages", project["id"]),
        )
        .json(&json!({"subject": "Write the plan"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{wp}");
    (
        project["identifier"]
            .as_str()
            .expect("identifier")
            .to_string(),
        wp["id"].as_i64().expect("id"),
    )
}

/// Ticks the checkbox whose label reads `label`.
async fn tick(chrome: &Chrome, label: &str) {
    let id = chrome.labelled_control_id(label).await;
    chrome.click(&format!("[id=\"{id}\"]")).await;
}

#[tokio::test]
async fn a_project_enables_the_storage_and_a_member_links_files_through_the_picker() {
    let started = Instant::now();
    let pair = spawn_pair();
    pair.set_up_integration().await;
    let (project, work_package) = project_with_work_package(&pair).await;
    nextcloud_file(&pair, None, "plan.txt").await;
    nextcloud_file(&pair, Some("Designs"), "Designs/logo.txt").await;
    let chrome = Chrome::start(1280, 1000).await;
    let op = &pair.openproject.url;
    sign_in(&chrome, op).await;

    // Step 5: Project settings → Modules → File storages, then File storages → + Storage.
    chrome.click_text("Projects").await;
    ready(&chrome).await;
    chrome.assert_accessible("projects").await;
    chrome.click_text("Roadmap").await;
    ready(&chrome).await;
    chrome.wait_for_text("Write the plan").await;
    chrome.assert_accessible("project work packages").await;
    chrome.click_text("Project settings").await;
    ready(&chrome).await;
    chrome.assert_accessible("project modules").await;
    tick(&chrome, "File storages").await;
    chrome.click_text("Save").await;
    chrome.wait_for_text("Modules saved.").await;
    ready(&chrome).await;
    chrome
        .click("#project-menu a[href$='/settings/project_storages']")
        .await;
    ready(&chrome).await;
    chrome
        .wait_for_text("No file storage is enabled in this project yet.")
        .await;
    chrome.click_text("+ Storage").await;
    assert!(chrome
        .labelled_value("Storage")
        .await
        .parse::<i64>()
        .is_ok());
    chrome.assert_accessible("add a project storage").await;
    chrome.click_text("Add").await;
    chrome.wait_for_text("Storage added").await;
    ready(&chrome).await;
    chrome.wait_for_text("Nextcloud").await;
    chrome.assert_accessible("project storages").await;
    chrome.screenshot("op-project-storages").await;

    // The Files tab: not connected → "Log in to Nextcloud" → Nextcloud → back to the tab.
    let files_tab = format!("{op}/work_packages/{work_package}/files");
    chrome.goto(&files_tab).await;
    ready(&chrome).await;
    let page = chrome.page_text().await;
    for shown in ["Write the plan", "Status", "New", "Assignee"] {
        assert!(page.contains(shown), "{shown} in {page}");
    }
    chrome
        .wait_for_text("You are not logged in to Nextcloud")
        .await;
    chrome.assert_accessible("files tab, not connected").await;
    chrome.click_text("Log in to Nextcloud").await;
    chrome.fill("#user", ADMIN).await;
    chrome.fill("#password", NCOA_ADMIN_PASSWORD).await;
    chrome.click_text("Log in").await;
    chrome.click("#grant").await;
    chrome.wait_for_url(|url| url == files_tab).await;
    ready(&chrome).await;
    chrome
        .wait_for_text("No files of Nextcloud are linked")
        .await;

    // The picker: a file at the top, one inside a folder, linked in one request.
    chrome.click_text("Link existing files").await;
    chrome.wait_for("dialog[open]").await;
    tick(&chrome, "plan.txt").await;
    chrome
        .click("dialog button[aria-label='Open folder Designs']")
        .await;
    tick(&chrome, "logo.txt").await;
    chrome.assert_accessible("file picker").await;
    chrome.screenshot("op-file-picker").await;
    chrome.click_text("Link 2 files").await;
    chrome.wait_for_text("Linked 2 files.").await;
    ready(&chrome).await;
    assert_eq!(
        file_link_names(&pair, work_package).await,
        ["logo.txt", "plan.txt"]
    );
    let viewable = chrome.find_all(".file-list .badge-success").await;
    assert_eq!(viewable.len(), 2, "{}", chrome.page_text().await);
    chrome.assert_accessible("files tab with links").await;
    // "Open in Nextcloud" goes to Nextcloud itself, never through an API URL (which would ask a
    // browser for Basic credentials).
    let opens = chrome
        .execute(
            "return [...document.querySelectorAll('.file-list a')].map(a => a.href)",
            json!([]),
        )
        .await;
    let opens: Vec<&str> = opens
        .as_array()
        .expect("hrefs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(opens.len(), 2);
    for href in opens {
        assert!(
            href.starts_with(&format!("{}/index.php/f/", pair.nextcloud.url))
                && href.ends_with("?openfile=1"),
            "{href}"
        );
    }
    chrome.screenshot("op-files-tab").await;

    // Live status: a file gone from Nextcloud shows as not found.
    let response = pair
        .nc(
            Method::DELETE,
            &format!("/remote.php/dav/files/{ADMIN}/Designs/logo.txt"),
        )
        .send()
        .await
        .expect("DELETE is sent");
    assert!(response.status().is_success());
    chrome.goto(&files_tab).await;
    ready(&chrome).await;
    chrome.wait_for_text("Not found").await;
    chrome.wait_for_text("Viewable").await;

    // Unlink.
    chrome.click("button[aria-label='Unlink plan.txt']").await;
    chrome.wait_for_text("Unlinked plan.txt").await;
    ready(&chrome).await;
    assert_eq!(file_link_names(&pair, work_package).await, ["logo.txt"]);

    // My account → File storages: connected, disconnect, then a connect action.
    chrome.click_text("My account").await;
    ready(&chrome).await;
    chrome.assert_accessible("my account").await;
    chrome.click_text("File storages").await;
    ready(&chrome).await;
    chrome.wait_for_text("Connected").await;
    chrome.assert_accessible("my file storages").await;
    chrome.click_text("Disconnect").await;
    chrome.click_text("Disconnect now").await;
    chrome.wait_for_text("Disconnected from Nextcloud.").await;
    ready(&chrome).await;
    chrome.wait_for_text("Not connected").await;
    assert!(chrome
        .find_now("a[aria-label='Connect to Nextcloud']")
        .await
        .is_some());
    chrome.screenshot("op-my-file-storages").await;

    // Not connected any more: the remaining link's status is unknown to OpenProject (Error),
    // and the tab offers the login again.
    chrome.goto(&files_tab).await;
    ready(&chrome).await;
    chrome.wait_for_text("Log in to Nextcloud").await;
    chrome.wait_for_text("Error").await;

    // Removing the storage from the project says what goes with it, and takes the links along.
    chrome
        .goto(&format!(
            "{op}/projects/{project}/settings/project_storages"
        ))
        .await;
    ready(&chrome).await;
    chrome.click_text("Remove").await;
    chrome
        .wait_for_text("Every file link from this project's work packages")
        .await;
    chrome.assert_accessible("remove project storage").await;
    chrome.click_text("Remove storage").await;
    chrome.wait_for_text("removed from the project").await;
    ready(&chrome).await;
    chrome
        .wait_for_text("No file storage is enabled in this project yet.")
        .await;
    assert!(file_link_names(&pair, work_package).await.is_empty());
    eprintln!("project and files flow took {:?}", started.elapsed());
}

#[tokio::test]
async fn the_new_storage_wizard_is_completed_with_the_keyboard_alone() {
    // On a phone-sized screen, where the left menu sits above the form.
    let pair = spawn_pair();
    let chrome = Chrome::start(390, 844).await;
    sign_in(&chrome, &pair.openproject.url).await;
    chrome
        .goto(&format!(
            "{}/admin/settings/storages/new",
            pair.openproject.url
        ))
        .await;
    chrome.wait_for_text("Provider type").await;
    chrome.assert_accessible("new storage, narrow").await;
    // The wizard opens on Name, prefilled; Tab leads to Host URL, then to the button.
    assert_eq!(chrome.focused().await, "Name");
    chrome.press(TAB).await;
    assert_eq!(chrome.focused().await, "Host URL");
    chrome.press(&pair.nextcloud.url).await;
    // The way to connect: the arrow keys move from "Pair with a code" to the guide's path.
    chrome.press(TAB).await;
    assert_eq!(chrome.focused().await, "Pair with a code");
    chrome.press(ARROW_DOWN).await;
    assert_eq!(chrome.focused().await, "Enter OAuth values by hand");
    chrome.press(TAB).await;
    assert_eq!(chrome.focused().await, "Save and continue setup");
    chrome.press(ENTER).await;
    chrome.wait_for_text("OAuth application details").await;
    let client_id = chrome.labelled_value("Client ID").await;
    let client_secret = chrome.labelled_value("Client secret").await;
    // Client ID, its Copy, Client secret, its Copy, then the button.
    for expected in [
        "Client ID",
        "Copy",
        "Client secret",
        "Copy",
        "Done. Continue setup",
    ] {
        chrome.press(TAB).await;
        assert_eq!(chrome.focused().await, expected);
    }
    chrome.press(ENTER).await;
    chrome.wait_for_text("Nextcloud OAuth").await;
    let (nc_client_id, nc_client_secret) = nextcloud_takes(&pair, &client_id, &client_secret).await;
    assert_eq!(chrome.focused().await, "Client ID");
    chrome.press(&nc_client_id).await;
    chrome.press(TAB).await;
    assert_eq!(chrome.focused().await, "Client secret");
    chrome.press(&nc_client_secret).await;
    chrome.press(TAB).await;
    assert_eq!(chrome.focused().await, "Save and complete setup");
    chrome.press(ENTER).await;
    chrome.wait_for_url(|url| url.ends_with("/edit")).await;
    chrome.wait_for_text("Setup complete").await;
    assert_eq!(storages(&pair).await[0]["configured"], true);
    chrome.wait_for_text("Health: ").await;
    chrome.assert_accessible("storage page, narrow").await;
    chrome.screenshot("op-storage-page-narrow").await;
    // Long client ids wrap instead of widening the page past a phone's screen.
    assert_eq!(
        chrome
            .execute(
                "return document.documentElement.scrollWidth <= document.documentElement.clientWidth",
                json!([])
            )
            .await,
        true
    );
}

/// Found when tried as a new user would: sign-in failures from one address (mistyped logins,
/// wrong passwords) never lock the admin's correct API credentials out, and every path outside
/// the API that no screen takes answers with an HTML page.
#[tokio::test]
async fn failed_sign_ins_do_not_lock_out_the_admins_api_calls_and_unknown_pages_are_html() {
    let pair = spawn_pair();
    let browser = integration_tests::Browser::new();
    let login = format!("{}/login", pair.openproject.url);
    // Mistyped logins (each one new, as a person guessing would), and a few wrong passwords.
    for attempt in 0..34 {
        let page = browser.get(&login).await;
        let (user, password) = if attempt < 30 {
            (format!("admin{attempt}"), OPS_ADMIN_PASSWORD)
        } else {
            (ADMIN.to_string(), "not-the-password")
        };
        let failed = browser
            .submit(
                &page,
                &page.form("/login"),
                &[("username", &user), ("password", password)],
            )
            .await;
        assert_ne!(failed.status, StatusCode::OK, "attempt {attempt}");
    }
    let (status, body) = json_of(pair.op(Method::GET, "/api/v3/users/me")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A member who is not an admin: no Administration, and its screens say why.
    let (status, user) = json_of(pair.op(Method::POST, "/api/v3/users").json(&json!({
        "login": "member", "password": "a-long-password-1", "firstName": "Mem",
        "lastName": "Ber", "email": "member@example.com"})))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let member = integration_tests::Browser::new();
    pair.sign_in_to_openproject(&member, "member", "a-long-password-1")
        .await;
    let home = member.get(&format!("{}/", pair.openproject.url)).await;
    assert!(!home.body.contains(">Administration<"), "{}", home.body);
    let admin_page = member
        .get(&format!("{}/admin/settings/storages", pair.openproject.url))
        .await;
    assert_eq!(admin_page.status, StatusCode::FORBIDDEN);
    assert!(admin_page.body.contains("Only administrators can."));
    let own = member
        .get(&format!("{}/my/file_storages", pair.openproject.url))
        .await;
    assert_eq!(own.status, StatusCode::OK);

    for path in [
        "/nothing",
        "/admin/settings/nothing",
        "/work_packages/x/files",
        "/assets/none.js",
    ] {
        let response = pair
            .client
            .get(format!("{}{path}", pair.openproject.url))
            .send()
            .await
            .expect("GET is sent");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert!(response
            .text()
            .await
            .unwrap_or_default()
            .contains("Page not found"));
    }
}

/// `make run` names the server `localhost` in its public URL; a person may type either name.
#[tokio::test]
async fn signing_in_works_on_the_name_the_public_url_does_not_use() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let db = service_kit::testing::TestDatabase::create("ops_browser");
    let mut env = integration_tests::base_env("OPS", &db, OPS_ADMIN_PASSWORD);
    env.retain(|(key, _)| key != "OPS_LISTEN");
    env.push(("OPS_LISTEN".into(), format!("127.0.0.1:{port}")));
    env.push(("OPS_PUBLIC_URL".into(), format!("http://localhost:{port}")));
    let _openproject = integration_tests::start("openproject-storages", env, db);
    let chrome = Chrome::start(1024, 768).await;
    let typed = format!("http://127.0.0.1:{port}");
    chrome.goto(&format!("{typed}/my/account")).await;
    chrome.fill("input[name=username]", ADMIN).await;
    chrome
        .fill("input[name=password]", OPS_ADMIN_PASSWORD)
        .await;
    chrome.click_text("Sign in").await;
    // Back where the person was going, on the name they typed.
    chrome
        .wait_for_url(|url| url == format!("{typed}/my/account"))
        .await;
    ready(&chrome).await;
    chrome.wait_for_text("OpenProject Admin").await;
}

/// Local files for a file input: written under a fresh temporary folder.
fn local_files(names_and_contents: &[(&str, &str)]) -> Vec<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "op-upload-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    names_and_contents
        .iter()
        .map(|(name, content)| {
            let path = dir.join(name);
            std::fs::write(&path, content).expect("a local file");
            path
        })
        .collect()
}

/// Opens "Upload files" and gives the file input `files` (WebDriver types the paths, one per
/// line, as a person choosing them would).
async fn choose_files(chrome: &Chrome, files: &[std::path::PathBuf]) {
    chrome.click_text("Upload files").await;
    chrome.wait_for("dialog[open]").await;
    let id = chrome.labelled_control_id("Files to upload").await;
    let input = chrome.wait_for(&format!("[id=\"{id}\"]")).await;
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    chrome.type_into(&input, &paths.join("\n")).await;
}

#[tokio::test]
async fn a_member_uploads_local_files_into_a_nextcloud_folder_and_they_are_linked() {
    let pair = spawn_pair();
    let integration = pair.set_up_integration().await;
    let project_id =
        integration_tests::flows::project_with_storage(&pair, integration.storage_id, "Survey")
            .await;
    let (status, wp) = json_of(
        pair.op(
            Method::POST,
            &format!("/api/v3/projects/{project_id}/work_packages"),
        )
        .json(&json!({"subject": "Site survey"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{wp}");
    let work_package = wp["id"].as_i64().expect("id");
    nextcloud_file(&pair, Some("Reports"), "Reports/index.txt").await;
    let chrome = Chrome::start(1280, 900).await;
    let op = &pair.openproject.url;
    sign_in(&chrome, op).await;

    // Connect from the Files tab, as in the picker test.
    let files_tab = format!("{op}/work_packages/{work_package}/files");
    chrome.goto(&files_tab).await;
    ready(&chrome).await;
    chrome.click_text("Log in to Nextcloud").await;
    chrome.fill("#user", ADMIN).await;
    chrome.fill("#password", NCOA_ADMIN_PASSWORD).await;
    chrome.click_text("Log in").await;
    chrome.click("#grant").await;
    chrome.wait_for_url(|url| url == files_tab).await;
    ready(&chrome).await;

    // Two local files, into the folder Reports.
    let files = local_files(&[
        ("survey notes.txt", "north wall: cracked\n"),
        ("index.txt", "a second index\n"),
    ]);
    choose_files(&chrome, &files).await;
    chrome.wait_for_text("Upload to: /").await;
    chrome
        .click("dialog button[aria-label='Open folder Reports']")
        .await;
    chrome.wait_for_text("Upload to: /Reports").await;
    chrome.wait_for_text("Upload 2 files").await;
    chrome.assert_accessible("upload dialog").await;
    chrome.screenshot("op-upload-dialog").await;
    chrome.click_text("Upload 2 files").await;
    chrome.wait_for_text("Uploaded and linked 2 files.").await;
    ready(&chrome).await;

    // Linked, with the name Nextcloud gave (index.txt was taken: numbered, never replaced).
    assert_eq!(
        file_link_names(&pair, work_package).await,
        ["index (2).txt", "survey notes.txt"]
    );
    chrome.wait_for_text("survey notes.txt").await;
    let viewable = chrome.find_all(".file-list .badge-success").await;
    assert_eq!(viewable.len(), 2, "{}", chrome.page_text().await);
    chrome.assert_accessible("files tab after the upload").await;
    chrome.screenshot("op-files-tab-uploaded").await;
    for (path, content) in [
        ("Reports/survey%20notes.txt", "north wall: cracked\n"),
        ("Reports/index%20(2).txt", "a second index\n"),
        ("Reports/index.txt", "contents of Reports/index.txt"),
    ] {
        let response = pair
            .nc(
                Method::GET,
                &format!("/remote.php/dav/files/{ADMIN}/{path}"),
            )
            .send()
            .await
            .expect("GET is sent");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.text().await.unwrap(), content, "{path}");
    }

    // The page may talk to the storage's host, and to nothing else beyond itself.
    let csp = chrome
        .execute(
            "return fetch(location.href).then(r => r.headers.get('Content-Security-Policy'))",
            json!([]),
        )
        .await;
    let csp = csp.as_str().expect("a CSP header");
    assert!(
        csp.ends_with(&format!("connect-src 'self' {}", pair.nextcloud.url)),
        "{csp}"
    );

    // On a phone: the dialog fits.
    let phone = Chrome::start(390, 844).await;
    sign_in(&phone, op).await;
    phone.goto(&files_tab).await;
    ready(&phone).await;
    choose_files(&phone, &files[..1]).await;
    phone.wait_for_text("Upload to: /").await;
    phone.assert_accessible("upload dialog on a phone").await;
    phone.screenshot("op-upload-dialog-phone").await;

    // By keyboard alone: open, Escape gives the focus back, open again, choose a folder, upload.
    chrome.goto(&files_tab).await;
    ready(&chrome).await;
    tab_to(&chrome, "Upload files").await;
    chrome.press(ENTER).await;
    chrome.wait_for("dialog[open]").await;
    assert_eq!(chrome.focused().await, "Files to upload");
    chrome.press(ESCAPE).await;
    chrome.wait_until_gone("dialog[open]").await;
    assert_eq!(chrome.focused().await, "Upload files");
    chrome.press(ENTER).await;
    chrome.wait_for("dialog[open]").await;
    let keyboard_file = local_files(&[("by keyboard.txt", "typed, not clicked\n")]);
    let id = chrome.labelled_control_id("Files to upload").await;
    let input = chrome.wait_for(&format!("[id=\"{id}\"]")).await;
    chrome
        .type_into(&input, &keyboard_file[0].display().to_string())
        .await;
    chrome.wait_for_text("Upload to: /").await;
    tab_to(&chrome, "📁 Reports").await;
    chrome.press(ENTER).await;
    chrome.wait_for_text("Upload to: /Reports").await;
    tab_to(&chrome, "Upload").await;
    chrome.press(ENTER).await;
    chrome.wait_for_text("Uploaded and linked 1 file.").await;
    assert_eq!(
        file_link_names(&pair, work_package).await,
        ["by keyboard.txt", "index (2).txt", "survey notes.txt"]
    );
}
