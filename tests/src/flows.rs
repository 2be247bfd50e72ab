//! Users connecting their accounts across the two services the way a browser does: through
//! the settings page's "Connect" button, OpenProject's `ensure_connection`, and both services'
//! login and consent pages.

use reqwest::{Method, StatusCode};
use serde_json::json;
use storage_protocol::{
    nextcloud::ProvisionUser,
    openproject::UserWrite,
    projects::{MembershipWrite, ProjectStorageWrite, ProjectWrite, MODULE_STORAGES},
};

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

pub struct Person {
    pub login: &'static str,
    pub password: &'static str,
    pub op_id: i64,
    /// Signed in to both services, connected in both directions.
    pub browser: Browser,
}

/// The integration app's OCS API, below which [`ocs`] requests go.
pub const OCS_API: &str = "/ocs/v2.php/apps/integration_openproject/api/v1";

/// A user with the same login on both sides, member of `project` with role `role`.
pub async fn person(pair: &Pair, login: &'static str, project: i64, role: &str) -> Person {
    let password = "a-long-password-1";
    let op_id = user_on_both_sides(pair, login, password, "Example", project, role).await;
    Person {
        login,
        password,
        op_id,
        browser: Browser::new(),
    }
}

/// A user with the same login and password on both sides, member of `project` with `role` at
/// OpenProject; returns the OpenProject user id.
pub async fn user_on_both_sides(
    pair: &Pair,
    login: &str,
    password: &str,
    last_name: &str,
    project: i64,
    role: &str,
) -> i64 {
    let user = pair
        .openproject_admin()
        .create_user(&UserWrite::new(
            login,
            password,
            login,
            last_name,
            &format!("{login}@example.com"),
        ))
        .await
        .expect("the OpenProject user is created");
    add_member(pair, project, user.id, role).await;
    pair.nextcloud_admin()
        .provision_user(&ProvisionUser {
            userid: login.into(),
            password: password.into(),
            display_name: Some(format!("{login} {last_name}")),
            ..Default::default()
        })
        .await
        .expect("the Nextcloud user is provisioned");
    user.id
}

/// Makes the OpenProject user `op_id` a member of `project` with the role named `role`.
pub async fn add_member(pair: &Pair, project: i64, op_id: i64, role: &str) {
    let openproject = pair.openproject_admin();
    let roles = openproject.roles().await.expect("the roles");
    let role_href = roles
        .embedded
        .elements
        .iter()
        .find(|r| r.name == role)
        .and_then(|r| r.links.self_.href.clone())
        .unwrap_or_else(|| panic!("role {role} in {roles:?}"));
    openproject
        .create_membership(&MembershipWrite::new(project, op_id, &role_href))
        .await
        .expect("the membership is created");
}

pub async fn connect_both_ways(pair: &Pair, integration: &Integration, who: &Person) {
    pair.sign_in_to_nextcloud(&who.browser, who.login, who.password)
        .await;
    connect_nextcloud_user_to_openproject(pair, &who.browser, who.login, who.password).await;
    connect_openproject_user_to_nextcloud(pair, &who.browser, integration, who.login, who.password)
        .await;
}

/// The file links of a work package as `who` sees them in OpenProject, with live status.
pub async fn file_link_statuses(pair: &Pair, who: &Person, work_package: i64) -> Vec<String> {
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

pub fn ocs(pair: &Pair, who: &Person, method: Method, path: &str) -> reqwest::RequestBuilder {
    pair.client
        .request(method, format!("{}{OCS_API}{path}", pair.nextcloud.url))
        .basic_auth(who.login, Some(who.password))
        .header("OCS-APIRequest", "true")
        .header("Accept", "application/json")
}

/// Setup step 5: a project named `name` with the "File storages" module and the storage enabled.
pub async fn project_with_storage(pair: &Pair, storage_id: i64, name: &str) -> i64 {
    let openproject = pair.openproject_admin();
    let project = openproject
        .create_project(&ProjectWrite::named(name))
        .await
        .expect("the project is created");
    openproject
        .enable_module(project.id, MODULE_STORAGES)
        .await
        .expect("the storages module is enabled");
    openproject
        .create_project_storage(&ProjectStorageWrite::inactive(project.id, storage_id))
        .await
        .expect("the storage is enabled in the project");
    project.id
}

/// The names of a work package's linked files as OpenProject's admin reads them (stored data),
/// sorted.
pub async fn file_link_names(pair: &Pair, work_package: i64) -> Vec<String> {
    let (status, links) = json_of(pair.op(
        Method::GET,
        &format!("/api/v3/work_packages/{work_package}/file_links?pageSize=0"),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{links}");
    let mut names: Vec<String> = links["_embedded"]["elements"]
        .as_array()
        .expect("elements")
        .iter()
        .filter_map(|l| l["originData"]["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// `who` uploads `body` as `name` at the top of their Nextcloud files over WebDAV; the file id
/// Nextcloud answers in `OC-FileId` (its leading digits).
pub async fn upload(pair: &Pair, who: &Person, name: &str, body: &'static str) -> i64 {
    pair.nextcloud_as(who.login, who.password)
        .upload(name, body)
        .await
        .expect("the file is uploaded")
}
