//! The Nextcloud side in the browser: an admin does the guide's Nextcloud steps, replaces both
//! OAuth values and resets, disables and enables the app; a user connects, cancels,
//! disconnects and is offered a new connection after OpenProject forgot the old one; a user
//! links files to work packages from Files and OpenProject sees the links; a user creates work
//! packages in the "Create work package" dialog, from a file (linked to it) and from the
//! dashboard. OpenProject's values come from its API while its UI is being built.

use integration_tests::{
    flows::{
        add_member, connect_both_ways, file_link_names, person, project_with_storage, upload,
        user_on_both_sides,
    },
    json_of,
    nextcloud_ui::{
        connect_to_openproject, create_storage, enter_nextcloud_values, field_state, focused_id,
        replace_openproject_application, sign_in, storage, tab_to, user_menu, wait_for_choice,
        work_package, Consent, ADMIN_SETTINGS, ARROW_DOWN, CREATE_DIALOG, ENTER, ESCAPE,
        PERSONAL_SETTINGS, SHIFT_TAB, TAB,
    },
    spawn_pair,
    webdriver::Chrome,
    ADMIN, APP, NCOA_ADMIN_PASSWORD,
};
use reqwest::Method;

const CONFIRM: &str = "dialog[open] button[value=confirm]";
const COMPLETE: &str = "The OpenProject integration is set up completely.";

#[tokio::test]
async fn an_admin_sets_up_replaces_both_values_disables_the_app_and_resets() {
    let pair = spawn_pair();
    let chrome = Chrome::start(1280, 900).await;
    sign_in(&chrome, &pair, ADMIN, NCOA_ADMIN_PASSWORD).await;
    user_menu(&chrome, "Administration settings").await;
    chrome
        .wait_for_url(|url| url.ends_with(ADMIN_SETTINGS))
        .await;
    chrome
        .wait_for_text("The setup is incomplete. Next: save the OpenProject server.")
        .await;
    chrome.screenshot("nextcloud-admin-settings-new").await;
    chrome
        .assert_accessible("Nextcloud admin settings, new")
        .await;

    // Step 1: the host, checked while typing.
    chrome
        .fill_labelled("OpenProject host", "http://127.0.0.1:9")
        .await;
    chrome
        .wait_for_text("No server could be reached at that URL.")
        .await;
    chrome
        .assert_accessible("Nextcloud admin settings, host refused")
        .await;
    chrome
        .fill_labelled("OpenProject host", &pair.openproject.url)
        .await;
    chrome
        .wait_for_text("This is an OpenProject instance.")
        .await;
    chrome.click("#server-save").await;
    chrome
        .wait_for_text("Next: save the OpenProject OAuth settings.")
        .await;

    // Step 2 at OpenProject, step 3 here: its values in, ours out (shown once).
    let op_values = create_storage(&pair).await;
    chrome
        .fill_labelled("OpenProject OAuth client ID", &op_values.client_id)
        .await;
    chrome
        .fill_labelled("OpenProject OAuth client secret", &op_values.client_secret)
        .await;
    chrome.click("#openproject-oauth-save").await;
    chrome.wait_for("#nextcloud-oauth-new").await;
    chrome.wait_for_text(COMPLETE).await;
    let nc_id = chrome.labelled_value("Nextcloud OAuth client ID").await;
    let nc_secret = chrome.labelled_value("Nextcloud OAuth client secret").await;
    assert_eq!((nc_id.len(), nc_secret.len()), (64, 64));
    chrome
        .screenshot("nextcloud-admin-settings-values-once")
        .await;
    chrome
        .assert_accessible("Nextcloud admin settings, values shown once")
        .await;
    chrome
        .click("[data-copy=\"#nextcloud-client-secret\"]")
        .await;
    chrome.wait_for_text("Copied").await;
    chrome.click_text("Yes, I have copied these values").await;
    chrome.wait_for("#nextcloud-oauth-saved").await;
    assert!(!chrome.page_text().await.contains(&nc_secret));

    // Step 4 at OpenProject.
    enter_nextcloud_values(&pair, op_values.storage_id, &nc_id, &nc_secret).await;
    assert_eq!(
        storage(&pair, op_values.storage_id).await["configured"],
        true
    );

    // Replace OpenProject's values: a confirmation that says what users lose; Escape keeps all.
    chrome.click_text("Replace OpenProject OAuth values").await;
    chrome
        .wait_for_text("Every user's connection to OpenProject ends now.")
        .await;
    chrome
        .assert_accessible("Nextcloud admin settings, replace dialog")
        .await;
    chrome.press("\u{E00C}").await;
    chrome.wait_for("#replace-openproject-oauth").await;
    chrome.wait_until_gone("dialog[open]").await;
    chrome.click_text("Replace OpenProject OAuth values").await;
    chrome.click(CONFIRM).await;
    let replaced = replace_openproject_application(&pair, op_values.storage_id).await;
    chrome
        .fill_labelled("OpenProject OAuth client ID", &replaced.client_id)
        .await;
    chrome
        .fill_labelled("OpenProject OAuth client secret", &replaced.client_secret)
        .await;
    chrome.click("#openproject-oauth-save").await;
    chrome.wait_for("#openproject-oauth-saved").await;
    chrome.wait_for_text(COMPLETE).await;
    // The Nextcloud client stayed.
    assert!(chrome.find_now("#nextcloud-oauth-new").await.is_some());
    assert_eq!(
        chrome
            .execute(
                "return document.getElementById('nextcloud-oauth-new').hidden",
                serde_json::json!([])
            )
            .await,
        true
    );

    // Replace Nextcloud's values: new ones, shown once, entered at OpenProject.
    chrome.click_text("Replace Nextcloud OAuth values").await;
    chrome
        .wait_for_text("every OpenProject user loses their connection")
        .await;
    chrome.click(CONFIRM).await;
    chrome.wait_for("#nextcloud-oauth-new").await;
    let new_id = chrome.labelled_value("Nextcloud OAuth client ID").await;
    let new_secret = chrome.labelled_value("Nextcloud OAuth client secret").await;
    assert_ne!(new_id, nc_id);
    chrome.click_text("Yes, I have copied these values").await;
    enter_nextcloud_values(&pair, op_values.storage_id, &new_id, &new_secret).await;

    // Project folders: the team folder and its application password, shown once.
    chrome.click("#managed-folders").await;
    chrome.click("#project-folders-save").await;
    chrome.wait_for("#app-password-new").await;
    assert_eq!(
        chrome.labelled_value("Application password").await.len(),
        72
    );
    chrome.click("#app-password-copied").await;
    chrome
        .wait_for_text("Project folders are managed automatically.")
        .await;
    chrome
        .wait_for_text("The \"OpenProject\" user, group and team folder are set up.")
        .await;

    // Default user settings.
    chrome.click("#default-navigation").await;
    chrome.click("#defaults-save").await;
    chrome.wait_for("#defaults-section .notice-success").await;

    // Apps: disabled, the integration is gone for OpenProject too; enabled, it is back.
    user_menu(&chrome, "Apps").await;
    chrome.wait_for_text("OpenProject integration").await;
    chrome.assert_accessible("Nextcloud apps").await;
    chrome.click_text("Disable").await;
    chrome.click(CONFIRM).await;
    chrome
        .wait_for_text("The OpenProject integration is disabled.")
        .await;
    let (_, health) = json_of(pair.op(
        Method::GET,
        &format!("/api/v3/storages/{}/health", op_values.storage_id),
    ))
    .await;
    let dependencies = health["groups"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["key"] == "dependencies_check")
        .cloned()
        .expect("dependencies check");
    assert_eq!(dependencies["code"], "nc_dependency_missing", "{health}");
    chrome
        .goto(&format!("{}{ADMIN_SETTINGS}", pair.nextcloud.url))
        .await;
    chrome.wait_for_text("Page not found").await;
    chrome.assert_accessible("Nextcloud 404").await;
    chrome
        .goto(&format!("{}/index.php/settings/apps", pair.nextcloud.url))
        .await;
    chrome.click_text("Enable").await;
    chrome
        .wait_for_text("The OpenProject integration is enabled.")
        .await;
    let (_, health) = json_of(pair.op(
        Method::GET,
        &format!("/api/v3/storages/{}/health", op_values.storage_id),
    ))
    .await;
    assert_ne!(
        health["groups"][0]["checks"][3]["state"], "failure",
        "{health}"
    );

    // Reset: everything emptied after a confirmation.
    user_menu(&chrome, "Administration settings").await;
    chrome.wait_for_text(COMPLETE).await;
    chrome.click("#reset-integration").await;
    chrome
        .wait_for_text("Every user's connection to OpenProject is deleted.")
        .await;
    chrome.click(CONFIRM).await;
    chrome
        .wait_for_text("The setup is incomplete. Next: save the OpenProject server.")
        .await;
    assert_eq!(chrome.labelled_value("OpenProject host").await, "");
    let (_, check) = json_of(pair.nc(Method::GET, &format!("{APP}/check-admin-config"))).await;
    assert_eq!(check["config_status_without_project_folder"], false);
}

#[tokio::test]
async fn a_user_connects_cancels_disconnects_and_reconnects_after_openproject_forgot_the_tokens() {
    let pair = spawn_pair();
    let integration = pair.set_up_integration().await;
    let project = project_with_storage(&pair, integration.storage_id, "Demo").await;
    user_on_both_sides(
        &pair,
        "alice",
        "alice-password-1",
        "Example",
        project,
        "Member",
    )
    .await;
    let chrome = Chrome::start(1280, 900).await;
    sign_in(&chrome, &pair, "alice", "alice-password-1").await;
    user_menu(&chrome, "Personal settings").await;
    chrome.wait_for_text("Not connected to OpenProject.").await;
    chrome
        .assert_accessible("Nextcloud personal settings")
        .await;

    // Cancelling at OpenProject is told in plain words.
    connect_to_openproject(&chrome, &pair, "alice", "alice-password-1", Consent::Deny).await;
    chrome
        .wait_for_text("You cancelled the connection to OpenProject")
        .await;
    assert!(!chrome.page_text().await.contains("access_denied"));
    chrome
        .assert_accessible("Nextcloud personal settings, cancelled")
        .await;

    connect_to_openproject(
        &chrome,
        &pair,
        "alice",
        "alice-password-1",
        Consent::Authorize,
    )
    .await;
    chrome
        .wait_for_text("Successfully connected to OpenProject.")
        .await;
    chrome.wait_for_text("Connected as alice Example").await;
    chrome
        .screenshot("nextcloud-personal-settings-connected")
        .await;
    chrome
        .assert_accessible("Nextcloud personal settings, connected")
        .await;

    // The navigation link toggle puts OpenProject into the header.
    assert!(chrome.find_now("#openproject-app-link").await.is_none());
    chrome.click("#navigation-enabled").await;
    chrome.wait_for_text("Saved").await;
    chrome
        .goto(&format!("{}{PERSONAL_SETTINGS}", pair.nextcloud.url))
        .await;
    chrome.wait_for("#openproject-app-link").await;

    // The other direction: OpenProject sends the browser to Nextcloud's consent page.
    chrome
        .goto(&format!(
            "{}/oauth_clients/{}/ensure_connection?storage_id={}&destination_url=/",
            pair.openproject.url, integration.nextcloud_client_id, integration.storage_id
        ))
        .await;
    chrome.wait_for("#grant").await;
    chrome.assert_accessible("Nextcloud consent").await;
    chrome.click_text("Grant access").await;
    chrome
        .wait_for_url(|url| url.starts_with(&pair.openproject.url))
        .await;
    chrome
        .goto(&format!("{}/index.php/apps/dashboard/", pair.nextcloud.url))
        .await;
    chrome.wait_for_text("OpenProject notifications").await;
    chrome
        .assert_accessible("Nextcloud dashboard, connected")
        .await;
    chrome
        .goto(&format!("{}{PERSONAL_SETTINGS}", pair.nextcloud.url))
        .await;

    chrome.click_text("Disconnect from OpenProject").await;
    chrome.wait_for_text("Not connected to OpenProject.").await;
    connect_to_openproject(
        &chrome,
        &pair,
        "alice",
        "alice-password-1",
        Consent::Authorize,
    )
    .await;
    chrome.wait_for_text("Connected as alice Example").await;

    // OpenProject replaces its OAuth application: the stored tokens no longer work.
    replace_openproject_application(&pair, integration.storage_id).await;
    chrome
        .goto(&format!("{}{PERSONAL_SETTINGS}", pair.nextcloud.url))
        .await;
    chrome
        .wait_for_text("Your connection to OpenProject no longer works.")
        .await;
    assert!(!chrome.page_text().await.contains("Connected as"));
    chrome.wait_for("#connect").await;
    chrome
        .assert_accessible("Nextcloud personal settings, broken")
        .await;
}

#[tokio::test]
async fn a_user_links_files_to_work_packages_from_files_and_openproject_sees_the_links() {
    let pair = spawn_pair();
    let integration = pair.set_up_integration().await;
    let project = project_with_storage(&pair, integration.storage_id, "Demo").await;
    let alice = user_on_both_sides(
        &pair,
        "alice",
        "alice-password-1",
        "Example",
        project,
        "Member",
    )
    .await;
    let report = work_package(&pair, project, "Write the annual report", Some(alice)).await;
    let budget = work_package(&pair, project, "Review the budget", None).await;
    let chrome = Chrome::start(1280, 900).await;
    sign_in(&chrome, &pair, "alice", "alice-password-1").await;
    chrome
        .goto(&format!("{}{PERSONAL_SETTINGS}", pair.nextcloud.url))
        .await;
    connect_to_openproject(
        &chrome,
        &pair,
        "alice",
        "alice-password-1",
        Consent::Authorize,
    )
    .await;
    chrome.wait_for_text("Connected as alice Example").await;

    // Files: a folder, two uploads, a rename.
    chrome.click_text("Files").await;
    chrome.wait_for_text("No files in here.").await;
    chrome.assert_accessible("Nextcloud files, empty").await;
    chrome.click_text("New folder").await;
    chrome.fill_labelled("Folder name", "Reports").await;
    chrome.press("\u{E007}").await;
    chrome.wait_for("tr[data-name=\"Reports\"]").await;
    let uploads = std::env::temp_dir().join(format!(
        "nextcloud-ui-{}",
        service_kit::crypto::random_alphanumeric(8)
    ));
    std::fs::create_dir_all(&uploads).expect("upload folder");
    let files = ["report.txt", "budget.txt"].map(|name| {
        let path = uploads.join(name);
        std::fs::write(&path, format!("content of {name}")).expect("upload file");
        path.display().to_string()
    });
    let input = chrome
        .find_now("#upload-input")
        .await
        .expect("upload input");
    chrome.type_into(&input, &files.join("\n")).await;
    chrome.wait_for("tr[data-name=\"budget.txt\"]").await;
    chrome.wait_for("tr[data-name=\"report.txt\"]").await;
    chrome
        .click("tr[data-name=\"budget.txt\"] .rename-button")
        .await;
    chrome
        .fill_labelled("New name for budget.txt", "budget-2026.txt")
        .await;
    chrome.press("\u{E007}").await;
    chrome.wait_for("tr[data-name=\"budget-2026.txt\"]").await;

    // One file: its OpenProject tab, search, link.
    chrome
        .click("tr[data-name=\"report.txt\"] .details-button")
        .await;
    chrome.wait_for("#no-linked").await;
    chrome
        .assert_accessible("Nextcloud files, OpenProject tab")
        .await;
    chrome
        .fill_labelled("Search for a work package to link", "annual")
        .await;
    chrome
        .click(&format!(
            "#wp-results li[data-work-package-id=\"{report}\"] button"
        ))
        .await;
    let linked = format!("#linked-work-packages li[data-work-package-id=\"{report}\"]");
    chrome.wait_for(&linked).await;
    let card = chrome
        .execute(
            "return document.querySelector(arguments[0]).innerText",
            serde_json::json!([linked]),
        )
        .await;
    let card = card.as_str().unwrap_or_default();
    for shown in ["Write the annual report", "New", "Demo", "alice Example"] {
        assert!(card.contains(shown), "{shown} in {card}");
    }
    chrome.screenshot("nextcloud-files-openproject-tab").await;
    chrome.assert_accessible("Nextcloud files, linked").await;
    assert_eq!(file_link_names(&pair, report).await, ["report.txt"]);

    // Several files at once.
    chrome.press("\u{E00C}").await;
    chrome
        .click("tr[data-name=\"budget-2026.txt\"] .select-file")
        .await;
    chrome.click("tr[data-name=\"Reports\"] .select-file").await;
    chrome.click_text("Link to work package").await;
    chrome.wait_for_text("Link 2 files to a work package").await;
    chrome
        .fill_labelled("Search for a work package to link", "budget")
        .await;
    chrome
        .click(&format!(
            "#wp-results li[data-work-package-id=\"{budget}\"] button"
        ))
        .await;
    chrome.wait_for_text("2 files are now linked").await;
    assert_eq!(
        file_link_names(&pair, budget).await,
        ["Reports", "budget-2026.txt"]
    );

    // Unlink, then delete a folder.
    chrome.click("#details-close").await;
    chrome
        .click("tr[data-name=\"report.txt\"] .details-button")
        .await;
    chrome.wait_for(&linked).await;
    chrome.click(&format!("{linked} button")).await;
    chrome.click(CONFIRM).await;
    chrome.wait_for("#no-linked").await;
    assert!(file_link_names(&pair, report).await.is_empty());
    chrome.click("#details-close").await;
    chrome
        .click("tr[data-name=\"Reports\"] .delete-button")
        .await;
    chrome.wait_for_text("there is no trash bin").await;
    chrome.click(CONFIRM).await;
    // The list is drawn again without the folder; the file beside it stays.
    chrome.wait_until_gone("tr[data-name=\"Reports\"]").await;
    chrome.wait_for("tr[data-name=\"report.txt\"]").await;
    let _ = std::fs::remove_dir_all(uploads);

    // Search: files always, work packages once the user turned unified search on.
    chrome.fill("#header-search-input", "annual").await;
    chrome.press("\u{E007}").await;
    chrome.wait_for("#work-package-search-off").await;
    chrome
        .goto(&format!("{}{PERSONAL_SETTINGS}", pair.nextcloud.url))
        .await;
    chrome.click("#search-enabled").await;
    chrome.wait_for_text("Saved").await;
    chrome.fill("#header-search-input", "report").await;
    chrome.press("\u{E007}").await;
    chrome
        .wait_for(&format!(
            "#work-package-results li[data-work-package-id=\"{report}\"]"
        ))
        .await;
    chrome.wait_for_text("report.txt").await;
    chrome.assert_accessible("Nextcloud search").await;
}

#[tokio::test]
async fn every_page_fits_a_phone_works_by_keyboard_and_passes_axe() {
    let pair = spawn_pair();
    let chrome = Chrome::start(390, 844).await;
    chrome
        .goto(&format!("{}/index.php/login", pair.nextcloud.url))
        .await;
    chrome.wait_for("form").await;
    chrome.screenshot("nextcloud-phone-login").await;
    chrome.assert_accessible("Nextcloud login").await;
    sign_in(&chrome, &pair, ADMIN, NCOA_ADMIN_PASSWORD).await;

    // The user menu by keyboard: opens on Enter, closes on Escape with focus back.
    chrome
        .execute(
            "document.getElementById('user-menu-button').focus()",
            serde_json::json!([]),
        )
        .await;
    chrome.press("\u{E007}").await;
    chrome.wait_for("#user-menu").await;
    assert_eq!(chrome.focused().await, "Personal settings");
    chrome.screenshot("nextcloud-phone-user-menu").await;
    chrome.assert_accessible("Nextcloud user menu").await;
    chrome.press("\u{E00C}").await;
    assert_eq!(
        chrome
            .execute("return document.activeElement.id", serde_json::json!([]))
            .await,
        "user-menu-button"
    );
    assert!(chrome.find_now("#user-menu:not([hidden])").await.is_none());

    for (path, name) in [
        ("/index.php/apps/files/", "files"),
        ("/index.php/apps/dashboard/", "dashboard"),
        (PERSONAL_SETTINGS, "personal-settings"),
        (ADMIN_SETTINGS, "admin-settings"),
        ("/index.php/settings/apps", "apps"),
        ("/index.php/search?q=nothing", "search"),
        ("/index.php/no-such-page", "not-found"),
    ] {
        chrome.goto(&format!("{}{path}", pair.nextcloud.url)).await;
        chrome.wait_for("#content").await;
        chrome.screenshot(&format!("nextcloud-phone-{name}")).await;
        chrome
            .assert_accessible(&format!("Nextcloud {name} on a phone"))
            .await;
    }
}

/// The work package OpenProject's admin reads, with the file names linked to it.
async fn work_package_at_openproject(pair: &integration_tests::Pair, id: i64) -> serde_json::Value {
    let (status, wp) = json_of(pair.op(Method::GET, &format!("/api/v3/work_packages/{id}"))).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{wp}");
    wp
}

#[tokio::test]
async fn a_user_creates_a_work_package_for_a_file_by_keyboard_and_it_is_linked() {
    let pair = spawn_pair();
    let integration = pair.set_up_integration().await;
    let project = project_with_storage(&pair, integration.storage_id, "Demo").await;
    let alice = person(&pair, "alice", project, "Member").await;
    connect_both_ways(&pair, &integration, &alice).await;
    upload(&pair, &alice, "minutes.txt", "what we agreed").await;
    let chrome = Chrome::start(1280, 900).await;
    sign_in(&chrome, &pair, alice.login, alice.password).await;
    chrome
        .goto(&format!("{}/index.php/apps/files/", pair.nextcloud.url))
        .await;
    chrome
        .click("tr[data-name=\"minutes.txt\"] .details-button")
        .await;
    chrome.wait_for("#no-linked").await;

    // From the tab by keyboard; Escape closes the dialog and gives the focus back.
    tab_to(&chrome, "Create work package").await;
    chrome.press(ENTER).await;
    chrome.wait_for(CREATE_DIALOG).await;
    chrome.wait_for_text("Create work package").await;
    assert_eq!(focused_id(&chrome).await, "create-wp-project");
    // The only project is chosen, and OpenProject's form gives its defaults.
    wait_for_choice(&chrome, "Project", "Demo").await;
    wait_for_choice(&chrome, "Type", "Task").await;
    wait_for_choice(&chrome, "Status", "New").await;
    wait_for_choice(&chrome, "Assignee", "Unassigned").await;
    chrome
        .wait_for_text("The new work package will be linked to “minutes.txt”.")
        .await;
    chrome.screenshot("nextcloud-create-work-package").await;
    chrome
        .assert_accessible("Nextcloud files, create work package")
        .await;
    // Shift+Tab from the first field stays in the dialog.
    chrome.press_together(SHIFT_TAB).await;
    assert_eq!(focused_id(&chrome).await, "create-wp-create");
    chrome.press(ESCAPE).await;
    chrome.wait_until_gone(CREATE_DIALOG).await;
    assert_eq!(focused_id(&chrome).await, "create-work-package");

    // Create without a subject: OpenProject's message beside the field, the rest kept.
    chrome.press(ENTER).await;
    wait_for_choice(&chrome, "Type", "Task").await;
    tab_to(&chrome, "Description").await;
    chrome.press("From minutes.txt").await;
    tab_to(&chrome, "Create").await;
    chrome.press(ENTER).await;
    chrome.wait_for("#create-wp-subject-error").await;
    let (subject, invalid, message) = field_state(&chrome, "Subject").await;
    assert_eq!(
        (subject.as_str(), invalid.as_deref(), message.as_deref()),
        ("", Some("true"), Some("Subject can't be blank."))
    );
    assert_eq!(focused_id(&chrome).await, "create-wp-subject");
    assert_eq!(
        chrome.labelled_value("Description").await,
        "From minutes.txt"
    );
    chrome.wait_for(CREATE_DIALOG).await;
    chrome
        .screenshot("nextcloud-create-work-package-errors")
        .await;
    chrome
        .assert_accessible("Nextcloud files, create work package with errors")
        .await;

    // Fill in the rest by keyboard and create.
    chrome.press("Follow up on the minutes").await;
    chrome.press(TAB).await;
    assert_eq!(focused_id(&chrome).await, "create-wp-type");
    chrome.wait_until_gone("#create-wp-subject-error").await;
    chrome.press(ARROW_DOWN).await;
    wait_for_choice(&chrome, "Type", "Bug").await;
    chrome.press(TAB).await;
    chrome.press(ARROW_DOWN).await;
    wait_for_choice(&chrome, "Status", "In progress").await;
    chrome.press(TAB).await;
    assert_eq!(focused_id(&chrome).await, "create-wp-assignee");
    chrome.press("alice").await;
    wait_for_choice(&chrome, "Assignee", "alice Example").await;
    tab_to(&chrome, "Create").await;
    chrome.press(ENTER).await;
    chrome.wait_until_gone(CREATE_DIALOG).await;
    chrome.wait_for_text("Work package created").await;
    let announced = chrome
        .execute(
            "return document.getElementById('ui-announcer').textContent",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(announced, "Work package created");
    assert_eq!(focused_id(&chrome).await, "create-work-package");

    // The tab lists it at once, and OpenProject has it, linked to the file.
    let card = chrome
        .wait_for("#linked-work-packages li[data-work-package-id]")
        .await;
    let card_text = chrome.text(&card).await;
    for shown in [
        "Follow up on the minutes",
        "In progress",
        "Demo",
        "alice Example",
    ] {
        assert!(card_text.contains(shown), "{shown} in {card_text}");
    }
    chrome
        .wait_for_text("created and linked to “minutes.txt”.")
        .await;
    chrome
        .screenshot("nextcloud-create-work-package-linked")
        .await;
    chrome
        .assert_accessible("Nextcloud files, created work package linked")
        .await;
    let id: i64 = chrome
        .execute(
            "return document.querySelector('#linked-work-packages li[data-work-package-id]').dataset.workPackageId",
            serde_json::json!([]),
        )
        .await
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("the new work package's id");
    assert_eq!(file_link_names(&pair, id).await, ["minutes.txt"]);
    let wp = work_package_at_openproject(&pair, id).await;
    assert_eq!(wp["subject"], "Follow up on the minutes");
    assert_eq!(wp["description"]["raw"], "From minutes.txt");
    assert_eq!(
        wp["_links"]["project"]["href"],
        format!("/api/v3/projects/{project}")
    );
    assert_eq!(wp["_links"]["type"]["title"], "Bug");
    assert_eq!(wp["_links"]["status"]["title"], "In progress");
    assert_eq!(
        wp["_links"]["assignee"]["href"],
        format!("/api/v3/users/{}", alice.op_id)
    );
    assert_eq!(
        wp["_links"]["author"]["href"],
        format!("/api/v3/users/{}", alice.op_id)
    );
}

#[tokio::test]
async fn a_user_creates_a_work_package_from_the_dashboard_on_a_phone() {
    let pair = spawn_pair();
    let integration = pair.set_up_integration().await;
    let demo = project_with_storage(&pair, integration.storage_id, "Demo").await;
    let website = project_with_storage(&pair, integration.storage_id, "Website").await;
    let alice = person(&pair, "alice", demo, "Member").await;
    add_member(&pair, website, alice.op_id, "Member").await;
    connect_both_ways(&pair, &integration, &alice).await;
    let chrome = Chrome::start(390, 844).await;
    sign_in(&chrome, &pair, alice.login, alice.password).await;
    chrome
        .goto(&format!("{}/index.php/apps/dashboard/", pair.nextcloud.url))
        .await;
    chrome.wait_for("#no-notifications").await;
    chrome.click_text("Create work package").await;
    chrome.wait_for(CREATE_DIALOG).await;
    assert!(!chrome.page_text().await.contains("will be linked to"));

    // Two projects: none is chosen, so Type and Status wait; Create asks for a project.
    wait_for_choice(&chrome, "Project", "Select a project").await;
    let (type_shown, _, _) = field_state(&chrome, "Type").await;
    assert_eq!(type_shown, "");
    chrome.fill_labelled("Subject", &"x".repeat(256)).await;
    chrome.click_text("Create").await;
    chrome.wait_for("#create-wp-project-error").await;
    let (_, invalid, message) = field_state(&chrome, "Project").await;
    assert_eq!(
        (invalid.as_deref(), message.as_deref()),
        (Some("true"), Some("Select a project."))
    );
    assert_eq!(focused_id(&chrome).await, "create-wp-project");
    // Choosing one by keyboard brings its form and assignees.
    chrome.press("W").await;
    wait_for_choice(&chrome, "Project", "Website").await;
    wait_for_choice(&chrome, "Type", "Task").await;
    wait_for_choice(&chrome, "Status", "New").await;
    chrome.wait_until_gone("#create-wp-project-error").await;
    chrome
        .screenshot("nextcloud-phone-create-work-package")
        .await;
    chrome
        .assert_accessible("Nextcloud dashboard, create work package")
        .await;

    // OpenProject's own limit, beside the subject; the input stays.
    chrome.click_text("Create").await;
    chrome.wait_for("#create-wp-subject-error").await;
    let (subject, invalid, message) = field_state(&chrome, "Subject").await;
    assert_eq!(subject.len(), 256);
    assert_eq!(
        (invalid.as_deref(), message.as_deref()),
        (
            Some("true"),
            Some("Subject is too long (maximum is 255 characters).")
        )
    );
    chrome
        .screenshot("nextcloud-phone-create-work-package-errors")
        .await;
    chrome
        .assert_accessible("Nextcloud dashboard, create work package with errors")
        .await;

    chrome.fill_labelled("Subject", "Plan the launch").await;
    chrome.click_text("Create").await;
    chrome.wait_until_gone(CREATE_DIALOG).await;
    chrome.wait_for_text("created in Website.").await;
    assert_eq!(focused_id(&chrome).await, "create-work-package");
    chrome.wait_for("#created-work-package").await;
    chrome
        .screenshot("nextcloud-phone-dashboard-work-package-created")
        .await;
    chrome
        .assert_accessible("Nextcloud dashboard, work package created")
        .await;
    let href = chrome
        .execute(
            "return document.getElementById('created-work-package').href",
            serde_json::json!([]),
        )
        .await;
    let id: i64 = href
        .as_str()
        .and_then(|h| h.rsplit('/').next())
        .and_then(|id| id.parse().ok())
        .expect("a link to the work package");
    let wp = work_package_at_openproject(&pair, id).await;
    assert_eq!(wp["subject"], "Plan the launch");
    assert_eq!(
        wp["_links"]["project"]["href"],
        format!("/api/v3/projects/{website}")
    );
    assert!(file_link_names(&pair, id).await.is_empty());
}
