//! Users connecting their accounts across the two services the way a browser does: through
//! the settings page's "Connect" button, OpenProject's `ensure_connection`, and both services'
//! login and consent pages.

use reqwest::StatusCode;
use serde_json::json;

use crate::{json_of, Browser, Integration, Page, Pair, APP};

/// The `data-requesttoken` of Nextcloud's personal settings page: the CSRF token its script sends.
pub fn request_token(settings: &Page) -> String {
    let marker = "data-requesttoken=\"";
    let start = settings.body.find(marker).expect("a request token") + marker.len();
    let end = start + settings.body[start..].find('"').expect("closing quote");
    settings.body[start..end].to_string()
}

pub async fn nextcloud_settings(pair: &Pair, browser: &Browser) -> Page {
    browser
        .get(&format!(
            "{}/index.php/settings/user/openproject",
            pair.nextcloud.url
        ))
        .await
}

/// What the personal settings page's "Connect" button does, then the browser's journey through
/// OpenProject's login and consent back to Nextcloud.
pub async fn connect_nextcloud_user_to_openproject(
    pair: &Pair,
    browser: &Browser,
    op_user: &str,
    op_password: &str,
) -> Page {
    let settings = nextcloud_settings(pair, browser).await;
    let token = request_token(&settings);
    let (status, url) = json_of(
        browser
            .client()
            .get(format!("{}{APP}/op-oauth-url", pair.nextcloud.url))
            .header("requesttoken", &token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{url}");
    let url = url.as_str().expect("a JSON string").to_string();
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", pair.openproject.url)),
        "{url}"
    );
    assert!(url.contains("code_challenge_method=S256"));
    let (status, _) = json_of(
        browser
            .client()
            .put(format!("{}{APP}/config", pair.nextcloud.url))
            .header("requesttoken", &token)
            .json(&json!({"values": {"oauth_journey_starting_page": "{\"page\":\"settings\"}"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // OpenProject asks for a login (unless the browser has a session there), then for consent.
    let mut consent = browser.get(&url).await;
    if consent.url.path() == "/login" {
        consent = browser
            .submit(
                &consent,
                &consent.form("/login"),
                &[("username", op_user), ("password", op_password)],
            )
            .await;
    }
    assert_eq!(consent.url.path(), "/oauth/authorize", "{}", consent.body);
    assert!(consent.body.contains("Nextcloud (Nextcloud)"));
    browser
        .submit(&consent, &consent.form("/oauth/authorize"), &[])
        .await
}

/// OpenProject's `ensure_connection`, then Nextcloud's login and grant pages, back to OpenProject.
pub async fn connect_openproject_user_to_nextcloud(
    pair: &Pair,
    browser: &Browser,
    integration: &Integration,
    nc_user: &str,
    nc_password: &str,
) -> Page {
    let start = browser
        .get(&format!(
            "{}/oauth_clients/{}/ensure_connection?storage_id={}&destination_url=/",
            pair.openproject.url, integration.nextcloud_client_id, integration.storage_id
        ))
        .await;
    let consent = if start.url.path().ends_with("/login") {
        browser
            .submit(
                &start,
                &start.form("/login"),
                &[("user", nc_user), ("password", nc_password)],
            )
            .await
    } else {
        start
    };
    assert!(
        consent.url.path().contains("/login/flow"),
        "{}",
        consent.url
    );
    browser.submit(&consent, &consent.form("grant"), &[]).await
}
