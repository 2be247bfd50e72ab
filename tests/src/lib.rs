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

pub const ADMIN: &str = "admin";
pub const OPS_ADMIN_PASSWORD: &str = "ops-admin-password";
pub const NCOA_ADMIN_PASSWORD: &str = "ncoa-admin-password";

/// `target/<profile>/<name>`, beside the test executable's `deps/` folder.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --bins` first",
        path.display()
    );
    path
}

/// A running service process; killed on drop.
pub struct Service {
    pub url: String,
    child: Child,
    _db: TestDatabase,
}

impl Service {
    /// Sends SIGTERM and waits up to `timeout` for the process to exit on its own.
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    ]
}

/// Starts `binary` with `env` and waits for its `listening on http://ADDR` line.
pub fn start(binary_name: &str, env: Vec<(String, String)>, db: TestDatabase) -> Service {
    let mut child = Command::new(binary(binary_name))
        .arg("serve")
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
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
    Service {
        url,
        child,
        _db: db,
    }
}

/// A Nextcloud side process on its own fresh database, allowed to probe loopback addresses.
pub fn spawn_nextcloud() -> Service {
    let db = TestDatabase::create("ncoa_sys");
    let mut env = base_env("NCOA", &db, NCOA_ADMIN_PASSWORD);
    env.push(("NCOA_ALLOW_LOCAL_REMOTE_SERVERS".into(), "true".into()));
    start("nextcloud-openproject-app", env, db)
}

/// Both services, each knowing the other's URL where configuration allows.
pub struct Pair {
    pub openproject: Service,
    pub nextcloud: Service,
    pub client: reqwest::Client,
}

pub fn spawn_pair() -> Pair {
    let nextcloud = spawn_nextcloud();
    let op_db = TestDatabase::create("ops_sys");
    let op_env = base_env("OPS", &op_db, OPS_ADMIN_PASSWORD);
    let openproject = start("openproject-storages", op_env, op_db);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Pair {
        openproject,
        nextcloud,
        client,
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
