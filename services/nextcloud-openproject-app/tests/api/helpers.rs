use nextcloud_openproject_app::{
    config::Settings,
    db::{app_config, oauth_clients, user_preferences, users},
    domain::{app_passwords, preferences::CONNECTION_KEYS, users::set_password},
    startup::NextcloudOpenProjectApp,
};
use reqwest::{redirect::Policy, Client, Method, RequestBuilder, Response};
use serde_json::{json, Value};
use service_kit::{
    config::ServiceSettings,
    db::Db,
    testing::{self, TestDatabase},
    time::now_millis,
};
use storage_protocol::{
    client::NextcloudApi,
    integration_app::{SettingsRequest, APP_ID},
    nextcloud::ProvisionUser,
};

/// The app routes' prefix.
pub const APP: &str = "/index.php/apps/integration_openproject";

pub struct TestApp {
    pub address: String,
    pub admin_user: String,
    pub admin_password: String,
    /// No cookies, no redirects.
    pub api: Client,
    pub db: Db,
    /// What the server was built with (a restart builds a second one from it).
    pub settings: Settings,
    _database: TestDatabase,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose settings `customize` may change first. Its OpenProject (fakes, stubs) runs on
/// loopback, so local remote servers are allowed unless `customize` says otherwise.
pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::create("ncoa");
    let data_dir = std::env::temp_dir().join(format!("ncoa-files-{}", uuid::Uuid::new_v4()));
    let source = testing::server_source(
        "NCOA",
        &database,
        &service_kit::crypto::random_alphanumeric(24),
        [
            ("data_dir", data_dir.display().to_string()),
            ("allow_local_remote_servers", "true".to_string()),
        ],
    );
    let mut settings = Settings::from_source(&source).expect("test settings are valid");
    customize(&mut settings);
    let kept = settings.clone();
    let admin_user = settings.common.admin_username.clone();
    let admin_password = settings
        .common
        .admin_password
        .as_ref()
        .expect("test settings carry an admin password")
        .expose()
        .to_string();
    let (address, db) = testing::spawn::<NextcloudOpenProjectApp>(settings).await;
    TestApp {
        address,
        admin_user,
        admin_password,
        api: Client::builder()
            .redirect(Policy::none())
            .build()
            .expect("client"),
        db,
        settings: kept,
        _database: database,
    }
}

/// A client sending from another loopback address (all of 127.0.0.0/8 reaches the server):
/// no cookies, no redirects.
pub fn client_from(address: &str) -> Client {
    Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// A browser: keeps cookies, does not follow redirects.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.api.get(self.url(path))
    }

    pub fn get_as(&self, path: &str, user: &str, password: &str) -> RequestBuilder {
        self.get(path).basic_auth(user, Some(password))
    }

    pub fn get_as_admin(&self, path: &str) -> RequestBuilder {
        self.get_as(path, &self.admin_user, &self.admin_password)
    }

    /// `POST /ocs/<version>.php/cloud/users?format=json` as admin with a form body.
    pub async fn provision(&self, version: &str, form: &[(&str, &str)]) -> Response {
        self.api
            .post(self.url(&format!("/ocs/{version}.php/cloud/users?format=json")))
            .basic_auth(&self.admin_user, Some(&self.admin_password))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// The API as the admin, for setting up what a test needs.
    pub fn admin_api(&self) -> NextcloudApi {
        NextcloudApi::new(
            self.api.clone(),
            &self.address,
            &self.admin_user,
            &self.admin_password,
        )
    }

    /// Creates a user through the API and checks it worked.
    pub async fn create_user(&self, uid: &str, password: &str) {
        self.provision_user(ProvisionUser {
            userid: uid.into(),
            password: password.into(),
            ..Default::default()
        })
        .await;
    }

    /// Provisions `user` as the admin and checks that it got the id asked for.
    async fn provision_user(&self, user: ProvisionUser) {
        let id = self
            .admin_api()
            .provision_user(&user)
            .await
            .unwrap_or_else(|e| panic!("provisioning {}: {e}", user.userid));
        assert_eq!(id, user.userid);
    }

    /// Logs `browser` in through the form (GET for the token, then POST).
    pub async fn login(&self, browser: &Client, user: &str, password: &str) -> Response {
        self.login_with(browser, user, password, "").await
    }

    pub async fn login_with(
        &self,
        browser: &Client,
        user: &str,
        password: &str,
        redirect_url: &str,
    ) -> Response {
        let page = browser
            .get(self.url("/index.php/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = hidden_value(&page, "requesttoken");
        browser
            .post(self.url("/index.php/login"))
            .form(&[
                ("user", user),
                ("password", password),
                ("redirect_url", redirect_url),
                ("requesttoken", token.as_str()),
            ])
            .send()
            .await
            .unwrap()
    }

    /// The CSRF token a logged-in browser's files page carries.
    pub async fn page_token(&self, browser: &Client) -> String {
        let page = browser
            .get(self.url("/index.php/apps/files/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        attribute(&page, "data-requesttoken")
    }

    /// A second server on the same database and secret key, as after a restart; its base URL.
    pub async fn restart(&self) -> String {
        testing::spawn::<NextcloudOpenProjectApp>(self.settings.clone())
            .await
            .0
    }

    /// `<address>/index.php/apps/integration_openproject/<path>`.
    pub fn app_url(&self, path: &str) -> String {
        self.url(&format!("{APP}/{path}"))
    }

    /// An app route as admin (Basic), with a JSON body when given.
    pub async fn admin_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .api
            .request(method, self.app_url(path))
            .basic_auth(&self.admin_user, Some(&self.admin_password));
        if let Some(body) = body {
            request = request.json(&body);
        }
        status_and_json(request.send().await.expect("request")).await
    }

    /// `/setup` as admin with `{"values": values}`.
    pub async fn setup(&self, method: Method, values: Value) -> (u16, Value) {
        self.admin_call(method, "setup", Some(json!({ "values": values })))
            .await
    }

    /// A WebDAV request as `user` (Basic, password = the user id twice, as `add_user` sets it).
    pub fn dav(&self, method: &str, user: &str, path: &str) -> RequestBuilder {
        self.api
            .request(
                Method::from_bytes(method.as_bytes()).expect("method"),
                self.url(path),
            )
            .basic_auth(user, Some(format!("{user}-{user}-pw")))
    }

    /// Creates a user whose password `dav` knows, in `groups`.
    pub async fn add_user(&self, uid: &str, groups: &[&str]) {
        self.provision_user(ProvisionUser {
            userid: uid.into(),
            password: format!("{uid}-{uid}-pw"),
            groups: groups.iter().map(|group| group.to_string()).collect(),
            ..Default::default()
        })
        .await;
    }

    /// PUT of a file as `user` under their tree; returns the status and the file id.
    pub async fn upload(&self, user: &str, path: &str, content: &str) -> (u16, i64) {
        let response = self
            .dav("PUT", user, &format!("/remote.php/dav/files/{user}/{path}"))
            .header("Content-Type", "application/octet-stream")
            .body(content.to_string())
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let id = response
            .headers()
            .get("OC-FileId")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.get(..8))
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1);
        (status, id)
    }

    /// Sets up the team folder (user and group `OpenProject`) through `/setup`.
    pub async fn setup_team_folder(&self) {
        let request: SettingsRequest =
            serde_json::from_value(storage_protocol::fixtures::load("nc_setup_request"))
                .expect("the setup fixture is a settings request");
        self.admin_api()
            .setup(&request)
            .await
            .unwrap_or_else(|e| panic!("setting up the team folder: {e}"));
    }

    /// Stores the six OpenProject connection keys and one toggle for `uid`, as a connected
    /// user has them.
    pub fn db_connect_user(&self, uid: &str) {
        let conn = &mut self.db.get().unwrap();
        for key in CONNECTION_KEYS.into_iter().chain(["search_enabled"]) {
            user_preferences::set(conn, uid, APP_ID, key, "stored").unwrap();
        }
    }

    /// The integration app's preference keys of `uid`.
    pub fn db_preference_keys(&self, uid: &str) -> Vec<String> {
        user_preferences::of_user(&mut self.db.get().unwrap(), uid, APP_ID)
            .unwrap()
            .into_iter()
            .map(|(key, _)| key)
            .collect()
    }

    /// The raw stored value of an app config key of the integration app.
    pub fn db_app_config(&self, key: &str) -> Option<String> {
        app_config::get(&mut self.db.get().unwrap(), APP_ID, key).unwrap()
    }

    /// The size of the database, in bytes.
    pub fn db_bytes(&self) -> i64 {
        service_kit::testing::database_bytes(&mut self.db.get().unwrap())
    }

    /// The keys of the throttle's rows.
    pub fn db_throttle_keys(&self) -> Vec<String> {
        service_kit::testing::throttle_keys(&mut self.db.get().unwrap())
    }

    pub fn db_oauth_clients(&self) -> Vec<oauth_clients::OAuthClientRow> {
        oauth_clients::all(&mut self.db.get().unwrap()).unwrap()
    }

    pub fn db_create_app_password(&self, uid: &str, name: &str) -> String {
        app_passwords::create(&mut self.db.get().unwrap(), uid, name).unwrap()
    }

    pub fn db_set_password(&self, uid: &str, password: &str) {
        assert!(set_password(&mut self.db.get().unwrap(), uid, password).unwrap());
    }

    pub fn db_set_enabled(&self, uid: &str, enabled: bool) {
        let changed =
            users::set_enabled(&mut self.db.get().unwrap(), uid, enabled, now_millis()).unwrap();
        assert_eq!(changed, 1);
    }
}

pub async fn status_and_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}

/// Asserts that `live` has exactly the keys of the golden fixture, each with the same JSON type.
pub fn assert_shape(live: &Value, fixture: &str) {
    let golden = storage_protocol::fixtures::load(fixture);
    let (Some(live_map), Some(golden_map)) = (live.as_object(), golden.as_object()) else {
        panic!("{fixture}: not objects: {live} / {golden}");
    };
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let keys = |m: &serde_json::Map<String, Value>| {
        let mut keys: Vec<_> = m.keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(live_map),
        keys(golden_map),
        "{fixture}: keys of {live}"
    );
    for (key, value) in golden_map {
        assert_eq!(
            kind(&live_map[key]),
            kind(value),
            "{fixture}: type of {key}"
        );
    }
}

/// A string of `len` characters `[A-Za-z0-9]`.
pub fn is_alphanumeric(value: &Value, len: usize) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() == len && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The value of `<input … name="<name>" value="…">` in a page.
pub fn hidden_value(page: &str, name: &str) -> String {
    let start = page
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in page"))
        + name.len()
        + 15;
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

/// The value of the first `<attr>="…"` in a page.
pub fn attribute(page: &str, attr: &str) -> String {
    let start = page
        .find(&format!("{attr}=\""))
        .unwrap_or_else(|| panic!("no {attr} in page"))
        + attr.len()
        + 2;
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

/// The OCS meta of a JSON envelope.
pub fn meta(body: &Value) -> (&str, u64, &str) {
    let meta = &body["ocs"]["meta"];
    (
        meta["status"].as_str().unwrap(),
        meta["statuscode"].as_u64().unwrap(),
        meta["message"].as_str().unwrap(),
    )
}
