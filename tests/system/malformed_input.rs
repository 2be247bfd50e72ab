//! Bad input never makes a 5xx (issue 16, items 6 and 9): a matrix of malformed requests over
//! the routes of both services (a NUL character in JSON, forms, paths, queries and Basic user
//! names; malformed JSON; wrong types; unknown paths), answered alike on SQLite and PostgreSQL.

use integration_tests::{spawn_pair, ADMIN, NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD};
use reqwest::{Method, StatusCode};

/// A request of the matrix: method, path (with query), body and its content type, user.
struct Case {
    method: &'static str,
    path: String,
    body: Option<(&'static str, String)>,
    user: String,
}

fn case(method: &'static str, path: &str) -> Case {
    Case {
        method,
        path: path.to_string(),
        body: None,
        user: ADMIN.to_string(),
    }
}

impl Case {
    fn json(mut self, body: &str) -> Self {
        self.body = Some(("application/json", body.to_string()));
        self
    }

    fn form(mut self, body: &str) -> Self {
        self.body = Some(("application/x-www-form-urlencoded", body.to_string()));
        self
    }

    fn user(mut self, user: &str) -> Self {
        self.user = user.to_string();
        self
    }
}

const NUL_JSON: &str = r#"{"name": "a\u0000b", "subject": "x\u0000", "values": {"openproject_instance_url": "http://x\u0000", "openproject_client_id": "\u0000", "openproject_client_secret": "s", "default_enable_navigation": false, "default_enable_unified_search": false, "setup_project_folder": false, "setup_app_password": false}, "_links": {"origin": {"href": "http://nc.example\u0000"}, "type": {"href": "urn:openproject-org:api:v3:storages:Nextcloud"}}}"#;

fn openproject_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (method, path) in [
        ("POST", "/api/v3/storages"),
        ("PATCH", "/api/v3/storages/1"),
        ("POST", "/api/v3/projects"),
        ("POST", "/api/v3/projects/1/work_packages"),
        ("POST", "/api/v3/file_links"),
        ("POST", "/api/v3/work_packages/1/file_links"),
        ("POST", "/api/v3/project_storages"),
        ("POST", "/api/v3/storages/1/oauth_client_credentials"),
        ("POST", "/api/v3/users"),
    ] {
        cases.push(case(method, path).json(NUL_JSON));
        cases.push(case(method, path).json("{\"name\": "));
        cases.push(case(method, path).json("[1, 2]"));
        cases.push(case(method, path).json("{\"name\": 5, \"_links\": []}"));
    }
    for path in [
        "/api/v3/storages/%00",
        "/api/v3/users/%00",
        "/api/v3/projects/a%00",
        "/api/v3/work_packages/%00/file_links",
        "/api/v3/storages?filters=%00",
        "/api/v3/work_packages?filters=[%00]",
        "/oauth/authorize?client_id=%00&response_type=code",
        "/login?back_url=%00",
        "/%00",
    ] {
        cases.push(case("GET", path));
    }
    cases.push(case("GET", "/api/v3/storages").user("ad\0min"));
    cases.push(case("GET", "/api/v3/users/me").user("\0"));
    cases.push(
        case("POST", "/oauth/token")
            .form("grant_type=refresh_token&refresh_token=%00&client_id=%00&client_secret=x"),
    );
    cases.push(
        case("POST", "/oauth/token")
            .form("grant_type=authorization_code&code=%00&client_id=a&redirect_uri=%00"),
    );
    cases.push(case("POST", "/oauth/revoke").form("token=%00&client_id=%00"));
    cases.push(case("POST", "/oauth/introspect").form("token=%00"));
    cases.push(case("POST", "/login").form("username=ad%00min&password=x%00"));
    cases
}

fn nextcloud_cases() -> Vec<Case> {
    let app = "/index.php/apps/integration_openproject";
    let ocs = "/ocs/v2.php/apps/integration_openproject/api/v1";
    let mut cases = Vec::new();
    for (method, path) in [
        ("POST", format!("{app}/setup")),
        ("PATCH", format!("{app}/setup")),
        ("PUT", format!("{app}/admin-config")),
        ("PUT", format!("{app}/config")),
        ("POST", format!("{app}/is-valid-op-instance")),
        ("POST", format!("{ocs}/work-packages?format=json")),
        ("POST", "/ocs/v2.php/cloud/users?format=json".to_string()),
        (
            "PUT",
            "/ocs/v2.php/cloud/users/admin?format=json".to_string(),
        ),
        (
            "POST",
            "/ocs/v2.php/apps/integration_openproject/filesinfo?format=json".to_string(),
        ),
        (
            "POST",
            "/ocs/v2.php/apps/dav/api/v1/direct?format=json".to_string(),
        ),
    ] {
        cases.push(case(method, &path).json(NUL_JSON));
        cases.push(case(method, &path).json("{\"values\": "));
        cases.push(case(method, &path).json("{\"values\": [1], \"fileIds\": \"x\"}"));
        cases.push(
            case(method, &path).form("userid=a%00b&password=p%00&url=%00&key=quota&value=%00"),
        );
    }
    for path in [
        "/ocs/v2.php/cloud/users/%00?format=json",
        "/ocs/v2.php/cloud/user?format=%00",
        "/ocs/v2.php/apps/integration_openproject/fileinfo/%00?format=json",
        &format!("{ocs}/work-packages?searchQuery=%00&format=json"),
        &format!("{ocs}/work-packages/%00/file-links?format=json"),
        "/remote.php/dav/files/admin/a%00b",
        "/remote.php/dav/uploads/admin/%00",
        "/remote.php/direct/%00",
        "/index.php/f/%00",
        "/index.php/apps/files/?dir=%00",
        "/index.php/login?redirect_url=%00",
        "/index.php/apps/oauth2/authorize?client_id=%00&response_type=code",
    ] {
        cases.push(case("GET", path));
    }
    cases.push(case("PROPFIND", "/remote.php/dav/files/admin/").user("ad\0min"));
    cases.push(case("GET", "/ocs/v2.php/cloud/user?format=json").user("ad\0min"));
    cases.push(
        case("POST", "/index.php/apps/oauth2/api/v1/token")
            .form("grant_type=refresh_token&refresh_token=%00&client_id=%00&client_secret=x"),
    );
    cases
}

/// Sends every case and returns those answered with a 5xx, with what they got.
async fn failures(
    client: &reqwest::Client,
    base: &str,
    password: &str,
    cases: Vec<Case>,
) -> Vec<String> {
    let mut failed = Vec::new();
    for case in cases {
        let method = Method::from_bytes(case.method.as_bytes()).unwrap();
        let mut request = client
            .request(method, format!("{base}{}", case.path))
            .basic_auth(&case.user, Some(password))
            .header("OCS-APIRequest", "true");
        if let Some((content_type, body)) = &case.body {
            request = request
                .header("Content-Type", *content_type)
                .body(body.clone());
        }
        let response = request.send().await.expect("request is sent");
        let status = response.status();
        if status.is_server_error() {
            let body = response.text().await.unwrap_or_default();
            failed.push(format!("{} {} -> {status} {body}", case.method, case.path));
        }
    }
    failed
}

#[tokio::test]
async fn no_malformed_request_gets_a_server_error_on_either_side() {
    let pair = spawn_pair();
    // Something to address by id: the integration set up, a project with a work package.
    pair.set_up_integration().await;
    let openproject = failures(
        &pair.client,
        &pair.openproject.url,
        OPS_ADMIN_PASSWORD,
        openproject_cases(),
    )
    .await;
    let nextcloud = failures(
        &pair.client,
        &pair.nextcloud.url,
        NCOA_ADMIN_PASSWORD,
        nextcloud_cases(),
    )
    .await;
    assert!(openproject.is_empty(), "OpenProject: {openproject:#?}");
    assert!(nextcloud.is_empty(), "Nextcloud: {nextcloud:#?}");
}

#[tokio::test]
async fn nul_characters_are_refused_where_they_enter() {
    let pair = spawn_pair();
    let op = |path: &str| format!("{}{path}", pair.openproject.url);
    let nc = |path: &str| format!("{}{path}", pair.nextcloud.url);
    let status = |request: reqwest::RequestBuilder| async move {
        request.send().await.expect("request is sent").status()
    };
    let admin_op =
        |request: reqwest::RequestBuilder| request.basic_auth(ADMIN, Some(OPS_ADMIN_PASSWORD));
    let admin_nc = |request: reqwest::RequestBuilder| {
        request
            .basic_auth(ADMIN, Some(NCOA_ADMIN_PASSWORD))
            .header("OCS-APIRequest", "true")
    };
    // JSON: the contract's invalid body, not a stored or failed write.
    let storage = admin_op(pair.client.post(op("/api/v3/storages")))
        .header("Content-Type", "application/json")
        .body(NUL_JSON)
        .send()
        .await
        .unwrap();
    assert_eq!(storage.status(), StatusCode::BAD_REQUEST);
    assert!(storage
        .text()
        .await
        .unwrap()
        .contains("urn:openproject-org:api:v3:errors:InvalidRequestBody"));
    // A path no resource has; a query that is not valid.
    assert_eq!(
        status(admin_op(pair.client.get(op("/api/v3/storages/%00")))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(admin_op(
            pair.client.get(op("/api/v3/storages?filters=%00"))
        ))
        .await,
        StatusCode::BAD_REQUEST
    );
    // Basic with a NUL in the user name is not a login.
    assert_eq!(
        status(
            pair.client
                .get(op("/api/v3/users/me"))
                .basic_auth("ad\0min", Some(OPS_ADMIN_PASSWORD))
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(
            pair.client
                .get(nc("/ocs/v2.php/cloud/user?format=json"))
                .header("OCS-APIRequest", "true")
                .basic_auth("ad\0min", Some(NCOA_ADMIN_PASSWORD))
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    let setup = admin_nc(
        pair.client
            .post(nc("/index.php/apps/integration_openproject/setup")),
    )
    .header("Content-Type", "application/json")
    .body(NUL_JSON)
    .send()
    .await
    .unwrap();
    assert_eq!(setup.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        setup.json::<serde_json::Value>().await.unwrap()["error"],
        "Invalid settings."
    );
    assert_eq!(
        status(admin_nc(
            pair.client
                .get(nc("/ocs/v2.php/cloud/users/%00?format=json"))
        ))
        .await,
        StatusCode::NOT_FOUND
    );
    // Nothing was stored: no storage, no setting.
    let storages = admin_op(pair.client.get(op("/api/v3/storages")))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(storages["total"], 0);
}
