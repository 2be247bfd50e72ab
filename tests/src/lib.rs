//! The process harness of the system tests: both services started from their built binaries
//! (`cargo build --bins` first; `make test` does), each on port 0 with its own fresh database,
//! pointed at each other.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use service_kit::{crypto::SecretKey, testing::TestDatabase};
use storage_protocol::client::{NextcloudApi, OpenProjectApi};

pub mod clients;
pub mod dav;
pub mod flows;
pub mod nextcloud_ui;
pub mod webdriver;

pub const ADMIN: &str = "admin";
pub const OPS_ADMIN_PASSWORD: &str = "ops-admin-password";
pub const NCOA_ADMIN_PASSWORD: &str = "ncoa-admin-password";

/// `target/<profile>/<name>`: beside the running executable (a binary such as the benchmark),
/// or one folder up from it (a test executable lives in `target/<profile>/deps/`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("executable path");
    let dir = exe.parent().expect("executable folder");
    let candidates = [dir.join(name), dir.parent().unwrap_or(dir).join(name)];
    candidates
        .iter()
        .find(|path| path.exists())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{name} is not built next to {}: run `cargo build --bins` first",
                exe.display()
            )
        })
}

/// A running service process, killed on drop; or a service deployed elsewhere, reached by URL.
pub struct Service {
    pub url: String,
    /// `None` for a service this harness did not start ([`Service::external`]).
    child: Option<Child>,
    binary_name: String,
    env: Vec<(String, String)>,
    /// Where the process's log (stderr) goes; `None` inherits the test's stderr.
    log: Option<PathBuf>,
    /// Dropped with the service that created it; replicas share it and own none.
    db: Option<TestDatabase>,
}

impl Service {
    /// Sends SIGTERM and waits up to `timeout` for the process to exit on its own.
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The environment variables of a service started on port 0 with a fresh database.
pub fn base_env(prefix: &str, db: &TestDatabase, admin_password: &str) -> Vec<(String, String)> {
    vec![
        (format!("{prefix}_LISTEN"), "127.0.0.1:0".into()),
        (format!("{prefix}_DATABASE_URL"), db.url_string()),
        (format!("{prefix}_ADMIN_USERNAME"), ADMIN.into()),
        (format!("{prefix}_ADMIN_PASSWORD"), admin_password.into()),
        (
            format!("{prefix}_SECRET_KEY"),
            SecretKey::generate().to_base64(),
        ),
        (format!("{prefix}_LOG"), "warn".into()),
        // A peer back from an outage hears within a second or two, not minutes.
        (format!("{prefix}_PEER_RETRY_MAX_SECS"), "1".into()),
    ]
}

/// Starts `binary` with `env` and waits for its `listening on http://ADDR` line.
pub fn start(binary_name: &str, env: Vec<(String, String)>, db: TestDatabase) -> Service {
    start_logging(binary_name, env, db, None)
}

/// [`start`], with the log appended to `log` when given.
pub fn start_logging(
    binary_name: &str,
    env: Vec<(String, String)>,
    db: TestDatabase,
    log: Option<PathBuf>,
) -> Service {
    let (url, child) = spawn_process(binary_name, &env, log.as_deref());
    Service {
        url,
        child: Some(child),
        binary_name: binary_name.to_string(),
        env,
        log,
        db: Some(db),
    }
}

impl Service {
    /// A service running elsewhere (a container, behind a proxy), reached at `url`.
    pub fn external(url: &str) -> Service {
        Service {
            url: url.trim_end_matches('/').to_string(),
            child: None,
            binary_name: String::new(),
            env: Vec::new(),
            log: None,
            db: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .expect("a process this harness started")
            .id()
    }

    /// Resident memory of the process in KiB (`VmRSS` of `/proc/<pid>/status`), when readable.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// The value of the environment variable `name` the process was started with.
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find_map(|(key, value)| (key == name).then_some(value.as_str()))
    }

    /// Stops the process (SIGKILL) and starts it again on the same address, database and
    /// secret key: a peer that went down and came back.
    pub fn restart(&mut self) {
        self.kill();
        let address = self.url.trim_start_matches("http://").to_string();
        let listen = self
            .env
            .iter()
            .position(|(key, _)| key.ends_with("_LISTEN"))
            .expect("a service started by this harness has a listen address");
        self.env[listen].1 = address;
        let (url, child) = spawn_process(&self.binary_name, &self.env, self.log.as_deref());
        assert_eq!(url, self.url, "the service came back on its address");
        self.child = Some(child);
    }

    /// Stops the process (SIGKILL) until [`Service::restart`].
    pub fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The database this service created (a replica has none of its own).
    pub fn database(&self) -> &TestDatabase {
        self.db
            .as_ref()
            .expect("the first process of a service owns its database")
    }

    /// Another process of the same service on the same database and secret key, on its own
    /// port: a second replica behind a load balancer.
    /// Its public URL is the first process's, as behind a load balancer: what it signs and
    /// redirects to names the service, not the replica.
    pub fn replica(&self) -> Service {
        let prefix = self
            .env
            .iter()
            .find_map(|(key, _)| key.strip_suffix("_LISTEN"))
            .expect("a service started by this harness has a listen address");
        let mut env = self.env.clone();
        let public_url = format!("{prefix}_PUBLIC_URL");
        if !env.iter().any(|(key, _)| *key == public_url) {
            env.push((public_url, self.url.clone()));
        }
        let (url, child) = spawn_process(&self.binary_name, &env, self.log.as_deref());
        Service {
            url,
            child: Some(child),
            binary_name: self.binary_name.clone(),
            env,
            log: self.log.clone(),
            db: None,
        }
    }
}

fn spawn_process(
    binary_name: &str,
    env: &[(String, String)],
    log: Option<&std::path::Path>,
) -> (String, Child) {
    let stderr = match log {
        Some(path) => Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("log file opens"),
        ),
        None => Stdio::inherit(),
    };
    let mut child = Command::new(binary(binary_name))
        .arg("serve")
        .envs(env.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("service starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on ").nth(1) {
                let address = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let _ = sender.send(address);
            }
        }
    });
    let url = receiver
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("{binary_name} did not report its address"));
    (url, child)
}

/// A Nextcloud side process on its own fresh database, allowed to probe loopback addresses.
pub fn spawn_nextcloud() -> Service {
    let db = TestDatabase::create("ncoa_sys");
    start("nextcloud-openproject-app", nextcloud_env(&db), db)
}

/// The Nextcloud side's variables: [`base_env`], loopback peers allowed, and file contents in a
/// folder of its own under the system's temporary folder (on PostgreSQL the default would be
/// `./data` of the test's working directory).
fn nextcloud_env(db: &TestDatabase) -> Vec<(String, String)> {
    let mut env = base_env("NCOA", db, NCOA_ADMIN_PASSWORD);
    env.push(("NCOA_ALLOW_LOCAL_REMOTE_SERVERS".into(), "true".into()));
    let files = std::env::temp_dir().join(format!(
        "ncoa-sys-files-{}",
        service_kit::crypto::random_alphanumeric(12)
    ));
    env.push(("NCOA_DATA_DIR".into(), files.display().to_string()));
    env
}

/// [`spawn_nextcloud`] with `extra` variables added (they win over the defaults), e.g. its own
/// `NCOA_DATA_DIR` or a larger `NCOA_MAX_UPLOAD_BYTES`.
pub fn spawn_nextcloud_with(extra: &[(&str, String)]) -> Service {
    let db = TestDatabase::create("ncoa_sys");
    let mut env = nextcloud_env(&db);
    for (key, value) in extra {
        env.retain(|(k, _)| k != key);
        env.push((key.to_string(), value.clone()));
    }
    start("nextcloud-openproject-app", env, db)
}

/// Both services, each knowing the other's URL where configuration allows, and a client that
/// does not follow redirects. Both run on loopback, so both may reach local remote servers.
pub struct Pair {
    pub openproject: Service,
    pub nextcloud: Service,
    pub client: reqwest::Client,
}

/// The tests' HTTP client: redirects are not followed (each hop is checked), cookies kept when
/// asked. Idle connections are dropped after 2 s, before the services' 5 s keep-alive closes
/// them: reusing a connection the server is closing at that instant fails the request
/// (`IncompleteMessage`), which a starved test machine otherwise hits now and then.
pub fn test_client(cookies: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(cookies)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .expect("client")
}

/// Both services as deployed elsewhere, reached at their URLs.
pub fn external_pair(openproject: &str, nextcloud: &str) -> Pair {
    Pair {
        openproject: Service::external(openproject),
        nextcloud: Service::external(nextcloud),
        client: test_client(false),
    }
}

/// Both services on fresh databases, logging warnings to the test's stderr.
pub fn spawn_pair() -> Pair {
    launch_pair(None)
}

/// Both services logging at `level` as JSON lines into two files (OpenProject's, then
/// Nextcloud's).
pub fn spawn_pair_logging(level: &str) -> (Pair, [PathBuf; 2]) {
    let dir = std::env::temp_dir().join(format!(
        "system-logs-{}",
        SecretKey::generate()
            .to_base64()
            .replace(['/', '+', '='], "")
    ));
    std::fs::create_dir_all(&dir).expect("log folder");
    let logs = [dir.join("openproject.log"), dir.join("nextcloud.log")];
    let pair = launch_pair(Some((&logs, level)));
    (pair, logs)
}

fn launch_pair(logging: Option<(&[PathBuf; 2], &str)>) -> Pair {
    let nc_db = TestDatabase::create("ncoa_sys");
    let mut nc_env = nextcloud_env(&nc_db);
    let op_db = TestDatabase::create("ops_sys");
    let mut op_env = base_env("OPS", &op_db, OPS_ADMIN_PASSWORD);
    op_env.push(("OPS_ALLOW_LOCAL_REMOTE_SERVERS".into(), "true".into()));
    if let Some((_, level)) = logging {
        nc_env.push(("NCOA_LOG".into(), level.into()));
        op_env.push(("OPS_LOG".into(), level.into()));
        // Log files are read by tests: one JSON object per line, no terminal colours.
        nc_env.push(("NCOA_LOG_FORMAT".into(), "json".into()));
        op_env.push(("OPS_LOG_FORMAT".into(), "json".into()));
    }
    let log = |i: usize| logging.map(|(files, _)| files[i].clone());
    let nextcloud = start_logging("nextcloud-openproject-app", nc_env, nc_db, log(1));
    let openproject = start_logging("openproject-storages", op_env, op_db, log(0));
    Pair {
        openproject,
        nextcloud,
        client: test_client(false),
    }
}

/// Starts `binary` with `env`, waits until it is listening, stops it, and returns what it
/// printed on stdout up to then.
pub fn start_capturing(binary_name: &str, env: Vec<(String, String)>) -> String {
    let mut child = Command::new(binary(binary_name))
        .arg("serve")
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("service starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut printed = String::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("listening on ") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    printed
}

/// A browser for the system tests: keeps cookies, follows redirects itself (so each hop is
/// visible), and fills in and submits the HTML forms of both services' pages.
pub struct Browser {
    client: reqwest::Client,
}

/// Where a navigation ended, and the redirects it went through.
#[derive(Debug)]
pub struct Page {
    pub url: url::Url,
    pub status: reqwest::StatusCode,
    pub body: String,
    pub redirects: Vec<url::Url>,
}

/// A `<form>` of a page: where it goes, how, and its input fields with their values.
#[derive(Debug, Clone)]
pub struct Form {
    pub action: String,
    pub method: String,
    pub fields: Vec<(String, String)>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self {
            client: test_client(true),
        }
    }

    /// The underlying client, for requests that are not navigations (carries the cookies).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn get(&self, url: &str) -> Page {
        let response = self.client.get(url).send().await.expect("GET is sent");
        self.follow(response).await
    }

    /// Submits `form` of `page` with `overrides` replacing (or adding) fields, following the
    /// redirects.
    pub async fn submit(&self, page: &Page, form: &Form, overrides: &[(&str, &str)]) -> Page {
        let response = self.send_form(page, form, overrides).await;
        self.follow(response).await
    }

    /// Submits a form without following where it leads (e.g. to read a code off a redirect).
    pub async fn send_form(
        &self,
        page: &Page,
        form: &Form,
        overrides: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut fields = form.fields.clone();
        for (name, value) in overrides {
            match fields.iter_mut().find(|(n, _)| n == name) {
                Some(field) => field.1 = value.to_string(),
                None => fields.push((name.to_string(), value.to_string())),
            }
        }
        let target = page.url.join(&form.action).expect("form action resolves");
        let request = if form.method.eq_ignore_ascii_case("get") {
            let mut target = target;
            target.query_pairs_mut().extend_pairs(&fields);
            self.client.get(target)
        } else {
            self.client.post(target).form(&fields)
        };
        request.send().await.expect("form is sent")
    }

    async fn follow(&self, mut response: reqwest::Response) -> Page {
        let mut redirects = Vec::new();
        for _ in 0..20 {
            if !response.status().is_redirection() {
                break;
            }
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .expect("a redirect has a Location");
            let next = response.url().join(location).expect("Location resolves");
            redirects.push(next.clone());
            response = self
                .client
                .get(next)
                .send()
                .await
                .expect("redirect is followed");
        }
        Page {
            url: response.url().clone(),
            status: response.status(),
            body: response.text().await.unwrap_or_default(),
            redirects,
        }
    }
}

impl Page {
    /// Every form on the page, in document order.
    pub fn forms(&self) -> Vec<Form> {
        let mut forms = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find("<form") {
            let after = &rest[start..];
            let end = after.find("</form>").unwrap_or(after.len());
            let html = &after[..end];
            let tag_end = html.find('>').unwrap_or(html.len());
            let tag = &html[..tag_end];
            let fields = html
                .split("<input")
                .skip(1)
                .filter_map(|input| {
                    let input = &input[..input.find('>').unwrap_or(input.len())];
                    let name = attribute(input, "name")?;
                    let kind = attribute(input, "type").unwrap_or_default();
                    if kind == "submit" || kind == "button" {
                        return None;
                    }
                    Some((name, attribute(input, "value").unwrap_or_default()))
                })
                .collect();
            forms.push(Form {
                action: attribute(tag, "action").unwrap_or_default(),
                method: attribute(tag, "method").unwrap_or_else(|| "get".into()),
                fields,
            });
            rest = &after[end..];
        }
        forms
    }

    /// The first form whose action contains `action`.
    pub fn form(&self, action: &str) -> Form {
        self.forms()
            .into_iter()
            .find(|f| f.action.contains(action))
            .unwrap_or_else(|| panic!("no form to {action} on {}: {}", self.url, self.body))
    }

    pub fn query(&self, key: &str) -> Option<String> {
        self.url
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

/// The value of `name="…"` in a tag, with HTML entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = start + tag[start..].find('"')?;
    Some(decode_entities(&tag[start..end]))
}

fn decode_entities(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&#x3d;", "=")
        .replace("&#x3D;", "=")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The Nextcloud app's route prefix.
pub const APP: &str = "/index.php/apps/integration_openproject";
pub const STORAGE_NAME: &str = "Nextcloud";

impl Pair {
    /// A request to OpenProject as its admin, as an admin script sends it.
    pub fn op(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.openproject.url))
            .basic_auth(ADMIN, Some(OPS_ADMIN_PASSWORD))
            .header("Accept", "application/hal+json")
            .header("X-Requested-With", "XMLHttpRequest")
    }

    /// A request to Nextcloud as its admin.
    pub fn nc(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.nextcloud.url))
            .basic_auth(ADMIN, Some(NCOA_ADMIN_PASSWORD))
    }

    /// OpenProject's API as its admin, as an admin script uses it.
    pub fn openproject_admin(&self) -> OpenProjectApi {
        OpenProjectApi::new(
            self.client.clone(),
            &self.openproject.url,
            ADMIN,
            OPS_ADMIN_PASSWORD,
        )
    }

    /// Nextcloud's API as its admin.
    pub fn nextcloud_admin(&self) -> NextcloudApi {
        self.nextcloud_as(ADMIN, NCOA_ADMIN_PASSWORD)
    }

    /// Nextcloud's API as `user`.
    pub fn nextcloud_as(&self, user: &str, password: &str) -> NextcloudApi {
        NextcloudApi::new(self.client.clone(), &self.nextcloud.url, user, password)
    }

    /// Setup steps 2–4 (flows.md §1): the storage, Nextcloud's `/setup` with OpenProject's
    /// values, OpenProject's client credentials with Nextcloud's.
    pub async fn set_up_integration(&self) -> Integration {
        use storage_protocol::{
            integration_app::{SettingValues, SettingsRequest},
            storages::{OAuthClientCredentialsWrite, StorageWrite},
        };
        let openproject = self.openproject_admin();
        let storage = openproject
            .create_storage(&StorageWrite::nextcloud(STORAGE_NAME, &self.nextcloud.url))
            .await
            .expect("the storage is created");
        let application = storage
            .embedded
            .and_then(|embedded| embedded.oauth_application)
            .expect("a new storage shows its OAuth application");
        let request = SettingsRequest {
            values: SettingValues {
                openproject_instance_url: Some(self.openproject.url.clone()),
                openproject_client_id: Some(application.client_id.clone()),
                openproject_client_secret: application.client_secret.clone(),
                default_enable_navigation: Some(false),
                default_enable_unified_search: Some(false),
                setup_project_folder: Some(false),
                setup_app_password: Some(false),
                ..Default::default()
            },
        };
        let setup = self
            .nextcloud_admin()
            .setup(&request)
            .await
            .expect("Nextcloud is set up");
        openproject
            .set_oauth_client_credentials(
                storage.id,
                &OAuthClientCredentialsWrite::new(
                    &setup.nextcloud_client_id,
                    &setup.nextcloud_client_secret,
                ),
            )
            .await
            .expect("OpenProject takes Nextcloud's client");
        Integration {
            storage_id: storage.id,
            openproject_client_id: application.client_id,
            openproject_client_secret: application.client_secret.unwrap_or_default(),
            nextcloud_client_id: setup.nextcloud_client_id,
            nextcloud_client_secret: setup.nextcloud_client_secret,
        }
    }
}

impl Pair {
    /// Pairing by one code (Extension): a storage at OpenProject, its code, and Nextcloud's
    /// "Pair with OpenProject" with the URL the code names confirmed. Secrets stay between the
    /// services, so the integration carries none.
    pub async fn pair_by_code(&self) -> Integration {
        use storage_protocol::storages::StorageWrite;
        let openproject = self.openproject_admin();
        let storage = openproject
            .create_storage(&StorageWrite::nextcloud(STORAGE_NAME, &self.nextcloud.url))
            .await
            .expect("the storage is created");
        let code = openproject
            .pairing_code(storage.id)
            .await
            .expect("a pairing code")
            .code;
        let nextcloud = self.nextcloud_admin();
        let found = nextcloud
            .inspect_pairing_code(&code)
            .await
            .expect("Nextcloud reads the code");
        assert_eq!(found.openproject_url, self.openproject.url);
        assert_eq!(found.storage_id, storage.id);
        let paired = nextcloud
            .pair_with_openproject(&code, &found.openproject_url)
            .await
            .expect("Nextcloud pairs");
        assert!(paired.status);
        self.integration_of(storage.id).await
    }

    /// What a paired storage's setup produced, as far as OpenProject shows it.
    pub async fn integration_of(&self, storage_id: i64) -> Integration {
        let storage = self
            .openproject_admin()
            .storage(storage_id)
            .await
            .expect("the storage");
        let embedded = storage.embedded.expect("the storage's OAuth details");
        Integration {
            storage_id,
            openproject_client_id: embedded
                .oauth_application
                .map(|application| application.client_id)
                .unwrap_or_default(),
            openproject_client_secret: String::new(),
            nextcloud_client_id: embedded
                .oauth_client_credentials
                .map(|credentials| credentials.client_id)
                .unwrap_or_default(),
            nextcloud_client_secret: String::new(),
        }
    }
}

/// What the setup produced that the flows refer to.
#[derive(Debug, Clone)]
pub struct Integration {
    pub storage_id: i64,
    /// OpenProject's OAuth application for Nextcloud (the secret as shown once at creation).
    pub openproject_client_id: String,
    pub openproject_client_secret: String,
    /// Nextcloud's OAuth client for OpenProject.
    pub nextcloud_client_id: String,
    pub nextcloud_client_secret: String,
}

/// Sends `request` and reads the JSON answer.
pub async fn json_of(request: reqwest::RequestBuilder) -> (reqwest::StatusCode, serde_json::Value) {
    let response = request.send().await.expect("request is sent");
    let status = response.status();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// An access and refresh token as a token endpoint issued them.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// The `code` of the redirect an authorization ended with.
fn code_of(response: &reqwest::Response) -> String {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("the authorization ends in a redirect");
    url::Url::parse(location)
        .expect("an absolute redirect")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {location}"))
}

async fn exchange(url: &str, form: &[(&str, &str)]) -> Tokens {
    let (status, body) = json_of(reqwest::Client::new().post(url).form(form)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "token exchange: {body}");
    Tokens {
        access_token: body["access_token"].as_str().expect("access_token").into(),
        refresh_token: body["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .into(),
    }
}

impl Pair {
    /// Signs `browser` in to OpenProject's pages.
    pub async fn sign_in_to_openproject(&self, browser: &Browser, user: &str, password: &str) {
        let login = browser
            .get(&format!("{}/login", self.openproject.url))
            .await;
        let page = browser
            .submit(
                &login,
                &login.form("/login"),
                &[("username", user), ("password", password)],
            )
            .await;
        assert_eq!(
            page.status,
            reqwest::StatusCode::OK,
            "signed in: {}",
            page.url
        );
    }

    /// Signs `browser` in to Nextcloud's pages.
    pub async fn sign_in_to_nextcloud(&self, browser: &Browser, user: &str, password: &str) {
        let login = browser
            .get(&format!("{}/index.php/login", self.nextcloud.url))
            .await;
        let page = browser
            .submit(
                &login,
                &login.form("/login"),
                &[("user", user), ("password", password)],
            )
            .await;
        assert_eq!(
            page.status,
            reqwest::StatusCode::OK,
            "signed in: {}",
            page.url
        );
    }

    /// Tokens of OpenProject's application for the user `browser` is signed in as at
    /// OpenProject: authorize (consenting when asked), then the code exchange Nextcloud makes.
    pub async fn openproject_tokens(&self, browser: &Browser, integration: &Integration) -> Tokens {
        let op = &self.openproject.url;
        let redirect_uri = format!(
            "{}/index.php/apps/integration_openproject/oauth-redirect",
            self.nextcloud.url
        );
        let mut authorize = url::Url::parse(&format!("{op}/oauth/authorize")).expect("URL");
        authorize
            .query_pairs_mut()
            .append_pair("client_id", &integration.openproject_client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("state", "bench");
        let mut response = browser
            .client()
            .get(authorize.as_str())
            .send()
            .await
            .expect("authorize");
        if response.status() == reqwest::StatusCode::OK {
            let consent = Page {
                url: authorize.clone(),
                status: response.status(),
                body: response.text().await.expect("consent page"),
                redirects: Vec::new(),
            };
            response = browser
                .send_form(&consent, &consent.form("/oauth/authorize"), &[])
                .await;
        }
        exchange(
            &format!("{op}/oauth/token"),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code_of(&response)),
                ("redirect_uri", &redirect_uri),
                ("client_id", &integration.openproject_client_id),
                ("client_secret", &integration.openproject_client_secret),
            ],
        )
        .await
    }

    /// Tokens of Nextcloud's client for the user `browser` is signed in as at Nextcloud:
    /// authorize, grant, then the code exchange OpenProject makes.
    pub async fn nextcloud_tokens(&self, browser: &Browser, integration: &Integration) -> Tokens {
        let nc = &self.nextcloud.url;
        let consent = browser
            .get(&format!(
                "{nc}/index.php/apps/oauth2/authorize?response_type=code&client_id={}&state=bench",
                integration.nextcloud_client_id
            ))
            .await;
        let response = browser
            .send_form(&consent, &consent.form("grant"), &[])
            .await;
        exchange(
            &format!("{nc}/index.php/apps/oauth2/api/v1/token"),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code_of(&response)),
                ("client_id", &integration.nextcloud_client_id),
                ("client_secret", &integration.nextcloud_client_secret),
            ],
        )
        .await
    }
}
