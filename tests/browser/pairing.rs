//! Pairing with one code (Extension, issue 20), across both web UIs: the administrator adds a
//! storage in OpenProject's wizard with "Pair with a code", copies the code from the page and
//! pastes it in Nextcloud's "Pair with OpenProject" (by keyboard alone, a garbage code first),
//! confirms OpenProject's address, and both sides say they are set up; then the administrator
//! connects both ways, as in the guide.

use integration_tests::{
    flows::project_with_storage,
    nextcloud_ui::{
        self, connect_to_openproject, field_state, focused_id, tab_to, Consent, ADMIN_SETTINGS,
        ENTER, PERSONAL_SETTINGS, SELECT_ALL, SPACE,
    },
    spawn_pair,
    webdriver::Chrome,
    ADMIN, NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD,
};

use crate::whole_guide::connect_at_openproject;

const NEXTCLOUD_COMPLETE: &str = "The OpenProject integration is set up completely.";

#[tokio::test]
async fn an_administrator_pairs_both_sides_with_one_code_and_users_connect_both_ways() {
    let pair = spawn_pair();
    let (op, nc) = (pair.openproject.url.clone(), pair.nextcloud.url.clone());
    let chrome = Chrome::start(1280, 1000).await;

    // Nextcloud, first tab: the admin settings offer pairing before step 1.
    let nextcloud_tab = chrome.current_tab().await;
    nextcloud_ui::sign_in(&chrome, &pair, ADMIN, NCOA_ADMIN_PASSWORD).await;
    chrome.goto(&format!("{nc}{ADMIN_SETTINGS}")).await;
    chrome.wait_for_text("Pair with OpenProject").await;
    chrome.wait_for_text("Not paired by a code.").await;

    // OpenProject, second tab: the wizard pairs by default.
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
    chrome.wait_for_text("How to connect Nextcloud").await;
    let pairing_choice = chrome.labelled_control_id("Pair with a code").await;
    let checked = chrome
        .execute(
            "return document.getElementById(arguments[0]).checked",
            serde_json::json!([pairing_choice]),
        )
        .await;
    assert_eq!(checked, true, "pairing is the default");
    chrome.fill_labelled("Host URL", &nc).await;
    chrome.screenshot("pairing-op-wizard-choice").await;
    chrome
        .assert_accessible("OpenProject wizard, how to connect")
        .await;
    chrome.click_text("Save and continue setup").await;
    chrome.wait_for("h2:focus").await;
    chrome.wait_for_text("Pairing code").await;
    chrome.wait_for_text("Pair with OpenProject").await;
    let first_code = chrome.labelled_value("Pairing code").await;
    assert_eq!(first_code.split('.').count(), 3, "a JWT: {first_code}");
    let page = chrome.page_text().await;
    assert!(
        !page.contains("Client secret"),
        "the pairing path shows no client secret:\n{page}"
    );
    chrome.click_text("Create a new code").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let code = loop {
        let shown = chrome.labelled_value("Pairing code").await;
        if shown != first_code {
            break shown;
        }
        assert!(std::time::Instant::now() < deadline, "no new code");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    chrome.screenshot("pairing-op-code").await;
    chrome.assert_accessible("OpenProject pairing code").await;

    // Nextcloud, by keyboard alone: a garbage code is refused at the field.
    chrome.switch_to_tab(&nextcloud_tab).await;
    tab_to(&chrome, "Pairing code").await;
    chrome.press("not a pairing code").await;
    tab_to(&chrome, "Continue").await;
    chrome.press(ENTER).await;
    chrome.wait_for("#pairing-code[aria-invalid=true]").await;
    let (_, invalid, note) = field_state(&chrome, "Pairing code").await;
    assert_eq!(invalid.as_deref(), Some("true"));
    let note = note.expect("the error is described at the field");
    assert!(!note.trim().is_empty(), "an error message");
    chrome.wait_for_text(note.trim()).await;
    assert_eq!(focused_id(&chrome).await, "pairing-code");
    chrome.screenshot("pairing-nc-garbage-code").await;
    chrome
        .assert_accessible("Nextcloud pairing, garbage code")
        .await;

    // The real code: Nextcloud shows the OpenProject it names, and pairs only when confirmed.
    chrome.press_together(SELECT_ALL).await;
    chrome.press(&code).await;
    tab_to(&chrome, "Continue").await;
    chrome.press(ENTER).await;
    chrome.wait_for_text("Is this your OpenProject?").await;
    assert_eq!(focused_id(&chrome).await, "pairing-confirm-title");
    chrome.wait_for_text(&op).await;
    chrome.screenshot("pairing-nc-confirm").await;
    chrome
        .assert_accessible("Nextcloud pairing, confirm the URL")
        .await;
    tab_to(&chrome, &format!("Pair with {op}")).await;
    chrome.press(SPACE).await;
    chrome
        .wait_for_text(&format!(
            "Paired with {op}: the OpenProject integration is set up."
        ))
        .await;
    chrome
        .wait_for_text(&format!("Paired with {op} since"))
        .await;
    chrome.wait_for_text(NEXTCLOUD_COMPLETE).await;
    chrome.screenshot("pairing-nc-paired").await;
    chrome.assert_accessible("Nextcloud paired").await;

    // OpenProject notices within a poll or two and goes to the storage page.
    chrome.switch_to_tab(&openproject_tab).await;
    chrome.wait_for_url(|url| url.ends_with("/edit")).await;
    chrome
        .wait_for_text("Paired and set up: the storage Nextcloud is ready.")
        .await;
    chrome.wait_for_text("Setup complete").await;
    chrome
        .wait_for_text(&format!("with Nextcloud at {nc}"))
        .await;
    chrome.wait_for_text("Healthy").await;
    chrome.screenshot("pairing-op-storage-page").await;
    chrome
        .assert_accessible("OpenProject storage page, paired")
        .await;
    let storage_page = chrome.current_url().await;
    let storage_id: i64 = storage_page
        .trim_end_matches("/edit")
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("the storage id in the URL");

    // Users connect both ways: at OpenProject to Nextcloud, at Nextcloud to OpenProject.
    project_with_storage(&pair, storage_id, "Paired").await;
    connect_at_openproject(&chrome, &op).await;
    chrome.switch_to_tab(&nextcloud_tab).await;
    chrome.goto(&format!("{nc}{PERSONAL_SETTINGS}")).await;
    connect_to_openproject(
        &chrome,
        &pair,
        ADMIN,
        OPS_ADMIN_PASSWORD,
        Consent::Authorize,
    )
    .await;
    chrome
        .wait_for_text("Successfully connected to OpenProject.")
        .await;

    // The storage page makes another code on demand.
    chrome.switch_to_tab(&openproject_tab).await;
    chrome.goto(&storage_page).await;
    chrome.click_text("Create a pairing code").await;
    chrome.wait_for("input[readonly]:focus").await;
    assert_ne!(chrome.labelled_value("Pairing code").await, code);
    chrome.wait_for_text("Valid until").await;
    chrome
        .assert_accessible("OpenProject storage page, new code")
        .await;
}

/// Loads `page` again until its text contains `text` (what the page shows only changes when the
/// two services have exchanged a message in the background). `ready` matches what the page
/// shows once its pairing state is filled in.
async fn reload_until(chrome: &Chrome, page: &str, ready: &str, text: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        chrome.goto(page).await;
        chrome.wait_for(ready).await;
        let shown = chrome.page_text().await;
        if shown.contains(text) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "`{text}` never appeared on {page}; it says:\n{shown}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// What OpenProject's storage page shows once its Pairing section has read the pairing state.
const OP_PAIRING_READ: &str = ".pairing-state p:not(.loading)";
/// What Nextcloud's admin page shows once it has read the pairing state.
const NC_PAIRING_READ: &str = "#pairing-state p";

#[tokio::test]
async fn the_storage_page_warns_of_a_stuck_message_and_a_reset_and_pairs_again() {
    let mut pair = spawn_pair();
    let integration = pair.pair_by_code().await;
    let (op, nc) = (pair.openproject.url.clone(), pair.nextcloud.url.clone());
    let storage_page = format!(
        "{op}/admin/settings/storages/{}/edit",
        integration.storage_id
    );
    let chrome = Chrome::start(1280, 1000).await;
    let openproject_tab = chrome.current_tab().await;
    chrome.goto(&format!("{op}/login")).await;
    chrome.fill("input[name=username]", ADMIN).await;
    chrome
        .fill("input[name=password]", OPS_ADMIN_PASSWORD)
        .await;
    chrome.click_text("Sign in").await;
    chrome.wait_for_text("Welcome,").await;
    reload_until(
        &chrome,
        &storage_page,
        OP_PAIRING_READ,
        &format!("with Nextcloud at {nc}"),
    )
    .await;

    // Nextcloud is down while OpenProject replaces its values: the message to Nextcloud is
    // stuck, and the storage page says so with the reason.
    pair.nextcloud.kill();
    pair.openproject_admin()
        .replace_oauth_application(integration.storage_id)
        .await
        .expect("the OAuth application is replaced");
    reload_until(&chrome, &storage_page, OP_PAIRING_READ, "Stuck").await;
    chrome
        .wait_for_text("Last exchange with Nextcloud: OAuth values replaced.")
        .await;
    chrome.wait_for_text("Reason: ").await;
    chrome.wait_for(".section .notice-warning").await;
    chrome.screenshot("pairing-op-stuck").await;
    chrome
        .assert_accessible("OpenProject storage page, stuck message")
        .await;
    pair.nextcloud.restart();
    reload_until(&chrome, &storage_page, OP_PAIRING_READ, "Delivered").await;

    // Nextcloud resets the integration: it is no longer paired, and OpenProject's storage page
    // says the storage needs setup, and why.
    let nextcloud_tab = chrome.open_tab().await;
    nextcloud_ui::sign_in(&chrome, &pair, ADMIN, NCOA_ADMIN_PASSWORD).await;
    chrome.goto(&format!("{nc}{ADMIN_SETTINGS}")).await;
    chrome
        .wait_for_text(&format!("Paired with {op} since"))
        .await;
    // OpenProject is down at first: Nextcloud's message is stuck, with the reason.
    pair.openproject.kill();
    chrome.click("#reset-integration").await;
    chrome.click("dialog[open] button[value=confirm]").await;
    chrome
        .wait_for_text("The setup is incomplete. Next: save the OpenProject server.")
        .await;
    chrome.wait_for_text("Not paired by a code.").await;
    let admin_settings = format!("{nc}{ADMIN_SETTINGS}");
    reload_until(&chrome, &admin_settings, NC_PAIRING_READ, "Stuck").await;
    chrome
        .wait_for_text("Last exchange with OpenProject: Integration reset. Stuck")
        .await;
    chrome.wait_for("#pairing-state .notice-warning").await;
    chrome.screenshot("pairing-nc-stuck").await;
    chrome
        .assert_accessible("Nextcloud pairing, stuck message")
        .await;
    pair.openproject.restart();
    reload_until(&chrome, &admin_settings, NC_PAIRING_READ, "Delivered").await;
    chrome.switch_to_tab(&openproject_tab).await;
    reload_until(
        &chrome,
        &storage_page,
        OP_PAIRING_READ,
        "Nextcloud reset the integration",
    )
    .await;
    chrome.wait_for_text("Setup incomplete").await;
    chrome.screenshot("pairing-op-reset").await;
    chrome
        .assert_accessible("OpenProject storage page, reset by Nextcloud")
        .await;

    // Paired again from the storage page: a new code, pasted in Nextcloud; the storage page
    // notices by itself.
    chrome.click_text("Create a pairing code").await;
    chrome
        .wait_for_text("Waiting for Nextcloud to use the code…")
        .await;
    let code = chrome.labelled_value("Pairing code").await;
    chrome.screenshot("pairing-op-storage-page-code").await;
    chrome.switch_to_tab(&nextcloud_tab).await;
    chrome.fill_labelled("Pairing code", &code).await;
    chrome.click_text("Continue").await;
    chrome.click_text(&format!("Pair with {op}")).await;
    chrome.wait_for_text(NEXTCLOUD_COMPLETE).await;
    chrome.switch_to_tab(&openproject_tab).await;
    chrome
        .wait_for_text("Paired and set up: the storage Nextcloud is ready.")
        .await;
    chrome.wait_for_text("Setup complete").await;
    chrome
        .wait_for_text(&format!("with Nextcloud at {nc}"))
        .await;
}
