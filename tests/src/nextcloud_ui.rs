//! Steps of the Nextcloud side's browser tests: signing in through the login page, the
//! OpenProject values those tests need (taken from OpenProject's API while its UI is being
//! built), and a user's OAuth journey from Nextcloud's personal settings through OpenProject.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use storage_protocol::{
    storages::{OAuthApplication, OAuthClientCredentialsWrite, StorageWrite},
    work_packages::WorkPackageWrite,
};

use crate::{json_of, webdriver::Chrome, Pair, STORAGE_NAME};

/// The personal settings page of the integration.
pub const PERSONAL_SETTINGS: &str = "/index.php/settings/user/openproject";
/// The admin settings page of the integration.
pub const ADMIN_SETTINGS: &str = "/index.php/settings/admin/openproject";

/// Signs `chrome` in to Nextcloud through its login page.
pub async fn sign_in(chrome: &Chrome, pair: &Pair, user: &str, password: &str) {
    chrome
        .goto(&format!("{}/index.php/login", pair.nextcloud.url))
        .await;
    chrome.fill_labelled("Account name", user).await;
    chrome.fill_labelled("Password", password).await;
    chrome.click_text("Log in").await;
    chrome.wait_for("#user-menu-button").await;
}

/// Opens the user menu and follows its entry `entry`.
pub async fn user_menu(chrome: &Chrome, entry: &str) {
    chrome.click("#user-menu-button").await;
    chrome.click_text(entry).await;
}

/// OpenProject's OAuth application for Nextcloud, as its storage form shows it once.
#[derive(Debug, Clone)]
pub struct OpenProjectValues {
    pub storage_id: i64,
    pub client_id: String,
    pub client_secret: String,
}

impl OpenProjectValues {
    /// The values of `application`, which shows its secret only when it was just created.
    fn of(storage_id: i64, application: OAuthApplication) -> Self {
        Self {
            storage_id,
            client_id: application.client_id,
            client_secret: application
                .client_secret
                .expect("a new application shows its secret"),
        }
    }
}

/// Step 2 at OpenProject: the Nextcloud storage and its OAuth application.
pub async fn create_storage(pair: &Pair) -> OpenProjectValues {
    let storage = pair
        .openproject_admin()
        .create_storage(&StorageWrite::nextcloud(STORAGE_NAME, &pair.nextcloud.url))
        .await
        .expect("the storage is created");
    let application = storage
        .embedded
        .and_then(|embedded| embedded.oauth_application)
        .expect("a new storage shows its OAuth application");
    OpenProjectValues::of(storage.id, application)
}

/// OpenProject replaces the storage's OAuth application: every token it issued stops working.
pub async fn replace_openproject_application(pair: &Pair, storage_id: i64) -> OpenProjectValues {
    let application = pair
        .openproject_admin()
        .replace_oauth_application(storage_id)
        .await
        .expect("the OAuth application is replaced");
    OpenProjectValues::of(storage_id, application)
}

/// Step 4 at OpenProject: Nextcloud's client id and secret.
pub async fn enter_nextcloud_values(pair: &Pair, storage_id: i64, id: &str, secret: &str) {
    pair.openproject_admin()
        .set_oauth_client_credentials(storage_id, &OAuthClientCredentialsWrite::new(id, secret))
        .await
        .expect("OpenProject takes Nextcloud's client");
}

/// The storage as OpenProject's admin sees it.
pub async fn storage(pair: &Pair, storage_id: i64) -> Value {
    let (status, body) =
        json_of(pair.op(Method::GET, &format!("/api/v3/storages/{storage_id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// A work package in `project`, assigned to `assignee` when given.
pub async fn work_package(pair: &Pair, project: i64, subject: &str, assignee: Option<i64>) -> i64 {
    pair.openproject_admin()
        .create_work_package(project, &WorkPackageWrite::assigned(subject, assignee))
        .await
        .expect("the work package is created")
        .id
}

/// What the person does at OpenProject's consent page.
#[derive(Debug, Clone, Copy)]
pub enum Consent {
    Authorize,
    Deny,
}

/// Clicks "Connect to OpenProject" on the personal settings page, signs in at OpenProject
/// when it asks, answers its consent page, and waits to be back on the personal settings.
pub async fn connect_to_openproject(
    chrome: &Chrome,
    pair: &Pair,
    login: &str,
    password: &str,
    consent: Consent,
) {
    chrome.click_text("Connect to OpenProject").await;
    let at_openproject = chrome
        .wait_for_url(|url| url.starts_with(&pair.openproject.url))
        .await;
    if url::Url::parse(&at_openproject).is_ok_and(|u| u.path() == "/login") {
        chrome.fill("input[name=username]", login).await;
        chrome.fill("input[name=password]", password).await;
        chrome.press("\u{E007}").await;
    }
    let decision = match consent {
        Consent::Authorize => "Authorize",
        Consent::Deny => "Deny",
    };
    chrome.click_text(decision).await;
    chrome
        .wait_for_url(|url| url.starts_with(&format!("{}{PERSONAL_SETTINGS}", pair.nextcloud.url)))
        .await;
}

pub use crate::webdriver::{keys::*, tab_to};

/// The "Create work package" dialog while it is open.
pub const CREATE_DIALOG: &str = "#create-wp-dialog[open]";

/// What the control labelled `label` says about itself to assistive technology: its value
/// (for a select, the chosen option's text), `aria-invalid`, and the text of the element its
/// `aria-describedby` names.
pub async fn field_state(chrome: &Chrome, label: &str) -> (String, Option<String>, Option<String>) {
    let id = chrome.labelled_control_id(label).await;
    let state = chrome
        .execute(
            "const e = document.getElementById(arguments[0]);
             const value = e.tagName === 'SELECT' ? (e.selectedOptions[0] ? e.selectedOptions[0].text : '') : e.value;
             const described = e.getAttribute('aria-describedby');
             const note = described && document.getElementById(described);
             return [value, e.getAttribute('aria-invalid'), note ? note.innerText : null];",
            json!([id]),
        )
        .await;
    let text = |i: usize| state[i].as_str().map(str::to_string);
    (text(0).unwrap_or_default(), text(1), text(2))
}

/// Waits until the select labelled `label` is enabled and shows `choice`.
pub async fn wait_for_choice(chrome: &Chrome, label: &str, choice: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let id = chrome.labelled_control_id(label).await;
        let shown = chrome
            .execute(
                "const e = document.getElementById(arguments[0]);
                 return !e.disabled && e.selectedOptions[0] ? e.selectedOptions[0].text : null;",
                json!([id]),
            )
            .await;
        if shown.as_str() == Some(choice) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "`{label}` shows {shown} instead of `{choice}`"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The `id` of the focused element.
pub async fn focused_id(chrome: &Chrome) -> String {
    chrome
        .execute(
            "return document.activeElement ? document.activeElement.id : ''",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}
