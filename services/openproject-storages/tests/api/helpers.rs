use std::sync::Arc;

use openproject_storages::{config::Settings, startup::OpenProjectStorages};
use reqwest::{cookie::Jar, header, Client, RequestBuilder, Response};
use serde_json::{json, Value};
use service_kit::{
    auth::ThrottlePolicy,
    config::ServiceSettings,
    db::Db,
    testing::{self, TestDatabase},
};
use storage_protocol::{
    client::OpenProjectApi,
    openproject::UserWrite,
    projects::{role_href, MembershipWrite, ProjectStorageWrite, ProjectWrite},
    storages::PROVIDER_NEXTCLOUD,
    work_packages::WorkPackageWrite,
};

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const PASSWORD: &str = "user-password-1";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    /// The application's database, for asserting what was stored.
    pub db: Db,
    _db: TestDatabase,
}

/// Starts the real application on a free port with a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_configured(&[], customize).await
}

/// A server whose configuration has `variables` besides the test defaults (keys as in the TOML
/// file: `trusted_proxies` for `OPS_TRUSTED_PROXIES`), then `customize`d. Its Nextcloud (fakes,
/// a real process) runs on loopback, so local remote servers are allowed by default.
pub async fn spawn_app_configured(
    variables: &[(&str, &str)],
    customize: impl FnOnce(&mut Settings),
) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        service_kit::telemetry::init(&service_kit::telemetry::LogSettings {
            filter: "debug".into(),
            json: false,
        });
    }
    let db = TestDatabase::create("ops");
    let source = testing::server_source(
        "OPS",
        &db,
        ADMIN_PASSWORD,
        [("allow_local_remote_servers", "true".to_string())]
            .into_iter()
            .chain(variables.iter().map(|(k, v)| (*k, v.to_string()))),
    );
    let mut settings = Settings::from_source(&source).expect("test settings are valid");
    // Tight throttling so the tests reach the limit quickly, without delays.
    settings.common.throttle = ThrottlePolicy {
        free_failures: 100,
        max_failures: 100,
        window_millis: 60_000,
    };
    customize(&mut settings);
    let (base, app_db) = testing::spawn::<OpenProjectStorages>(settings).await;
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        client,
        db: app_db,
        _db: db,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn as_admin(&self, builder: RequestBuilder) -> RequestBuilder {
        builder.basic_auth(ADMIN, Some(ADMIN_PASSWORD))
    }

    /// A JSON write as the admin.
    pub async fn admin_json(&self, method: reqwest::Method, path: &str, body: &Value) -> Response {
        self.as_admin(self.client.request(method, self.url(path)))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// The API as the admin, for setting up what a test needs.
    pub fn admin_api(&self) -> OpenProjectApi {
        OpenProjectApi::new(self.client.clone(), &self.base, ADMIN, ADMIN_PASSWORD)
    }

    /// Creates an active non-admin user through the API and returns its id.
    pub async fn create_user(&self, login: &str) -> i64 {
        self.admin_api()
            .create_user(&UserWrite::new(
                login,
                PASSWORD,
                "Test",
                login,
                &format!("{login}@example.com"),
            ))
            .await
            .unwrap_or_else(|e| panic!("creating {login}: {e}"))
            .id
    }
}

impl TestApp {
    /// Creates a Nextcloud storage at `host` as the admin (the host check must pass).
    pub async fn create_storage(&self, name: &str, host: &str) -> Value {
        let response = self
            .admin_json(
                reqwest::Method::POST,
                "/api/v3/storages",
                &json!({"name": name, "applicationPassword": "",
                        "_links": {"origin": {"href": host}, "type": {"href": PROVIDER_NEXTCLOUD}}}),
            )
            .await;
        assert_eq!(response.status(), 201, "creating storage {name} at {host}");
        body(response).await
    }

    /// Sets Nextcloud's OAuth client credentials of a storage as the admin.
    pub async fn add_client_credentials(
        &self,
        storage_id: i64,
        client_id: &str,
        secret: &str,
    ) -> Response {
        self.admin_json(
            reqwest::Method::POST,
            &format!("/api/v3/storages/{storage_id}/oauth_client_credentials"),
            &json!({"clientId": client_id, "clientSecret": secret}),
        )
        .await
    }

    /// A browser signed in through the login form as `login`: keeps cookies, does not follow
    /// redirects.
    pub async fn browser(&self, login: &str, password: &str) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = self.sign_in(&client, login, password, "/").await;
        assert_eq!(response.status(), 302, "{login} signs in");
        Browser { client, jar }
    }

    /// What a browser does to sign in: loads the form (which sets the pre-session cookie
    /// `client` must keep), then posts it with its token. `client` needs a cookie store.
    pub async fn sign_in(
        &self,
        client: &Client,
        login: &str,
        password: &str,
        back_url: &str,
    ) -> Response {
        let token = login_form_token(client, &self.base).await;
        client
            .post(format!("{}/login", self.base))
            .form(&[
                ("username", login),
                ("password", password),
                ("back_url", back_url),
                ("authenticity_token", token.as_str()),
            ])
            .send()
            .await
            .unwrap()
    }
}

/// Loads `<base>/login` with `client` and returns the form's `authenticity_token`.
pub async fn login_form_token(client: &Client, base: &str) -> String {
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"authenticity_token\" value=\"";
    // No token on the page signs in with an empty one (which the server refuses).
    let Some(start) = page.find(marker).map(|at| at + marker.len()) else {
        return String::new();
    };
    let end = start + page[start..].find('"').unwrap();
    page[start..end].to_string()
}

/// A signed-in browser and its cookie jar.
pub struct Browser {
    pub client: Client,
    pub jar: Arc<Jar>,
}

pub async fn body(response: Response) -> Value {
    assert_eq!(
        response.headers().get(header::CONTENT_TYPE).unwrap(),
        "application/hal+json; charset=utf-8"
    );
    response.json().await.unwrap()
}

pub fn fixture(name: &str) -> Value {
    storage_protocol::fixtures::load(name)
}

/// Seeded role ids (openproject-storages.md §2).
pub const PROJECT_ADMIN_ROLE: i64 = 1;
pub const MEMBER_ROLE: i64 = 2;
pub const READER_ROLE: i64 = 3;

#[allow(dead_code)] // Each test module uses some of these.
impl TestApp {
    /// Sends `method path` with a JSON body as `login` (Basic with the test password).
    pub async fn user_json(
        &self,
        login: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .basic_auth(login, Some(PASSWORD));
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    pub async fn user_get(&self, login: &str, path: &str) -> Response {
        self.user_json(login, reqwest::Method::GET, path, None)
            .await
    }

    pub async fn admin_get(&self, path: &str) -> Response {
        self.as_admin(self.get(path)).send().await.unwrap()
    }

    /// Creates a project as the admin and returns its id.
    pub async fn create_project(&self, name: &str) -> i64 {
        self.admin_api()
            .create_project(&ProjectWrite::named(name))
            .await
            .unwrap_or_else(|e| panic!("creating project {name}: {e}"))
            .id
    }

    /// Enables a module of a project as the admin.
    pub async fn enable_module(&self, project_id: i64, module: &str) {
        self.admin_api()
            .enable_module(project_id, module)
            .await
            .unwrap_or_else(|e| panic!("enabling {module}: {e}"));
    }

    /// Makes `user_id` a member of the project with one role, as the admin.
    pub async fn add_member(&self, project_id: i64, user_id: i64, role_id: i64) -> i64 {
        self.admin_api()
            .create_membership(&MembershipWrite::new(
                project_id,
                user_id,
                &role_href(role_id),
            ))
            .await
            .unwrap_or_else(|e| panic!("adding member {user_id}: {e}"))
            .id
    }

    /// Enables a storage in a project as the admin; returns the project storage id.
    pub async fn enable_storage(&self, project_id: i64, storage_id: i64) -> i64 {
        self.admin_api()
            .create_project_storage(&ProjectStorageWrite::inactive(project_id, storage_id))
            .await
            .unwrap_or_else(|e| panic!("enabling storage {storage_id}: {e}"))
            .id
    }

    /// Creates a work package in a project as the admin; returns its id.
    pub async fn create_work_package(&self, project_id: i64, subject: &str) -> i64 {
        self.admin_api()
            .create_work_package(project_id, &WorkPackageWrite::new(subject))
            .await
            .unwrap_or_else(|e| panic!("creating work package {subject}: {e}"))
            .id
    }
}

/// A client sending from another loopback address (all of 127.0.0.0/8 reaches the server):
/// no cookies, no redirects.
pub fn client_from(address: &str) -> Client {
    Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[allow(dead_code)] // Each test module uses some of these.
impl TestApp {
    /// The size of the application's database, in bytes.
    pub fn database_bytes(&self) -> i64 {
        service_kit::testing::database_bytes(&mut self.db.get().unwrap())
    }

    /// The keys of the throttle's rows.
    pub fn throttle_keys(&self) -> Vec<String> {
        service_kit::testing::throttle_keys(&mut self.db.get().unwrap())
    }
}
