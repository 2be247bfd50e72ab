//! What the tests with real clients (`nextcloudcmd`, `rclone`) share: temporary folders,
//! deterministic file contents and their SHA-1, and the clients run as processes with a bound
//! on how long they may take.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    time::Duration,
};

use sha1::{Digest, Sha1};

/// A folder under the system's temporary folder, removed with everything in it on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        Self::new_in(&std::env::temp_dir(), label)
    }

    /// A folder of its own below `parent`.
    pub fn new_in(parent: &Path, label: &str) -> Self {
        let path = parent.join(format!(
            "{label}-{}",
            service_kit::crypto::random_alphanumeric(12)
        ));
        std::fs::create_dir_all(&path).expect("temporary folder");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, relative: &str) -> PathBuf {
        self.0.join(relative)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `len` pseudo-random bytes, the same for the same `seed` (xorshift64*, 8 bytes a step: a
/// 120 MB file takes a fraction of a second even unoptimised).
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes = vec![0u8; len];
    for chunk in bytes.chunks_mut(8) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let word = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
    bytes
}

pub fn sha1_hex(bytes: &[u8]) -> String {
    hex(&Sha1::digest(bytes))
}

pub fn sha1_of_file(path: &Path) -> String {
    use std::io::Read;
    let mut file = std::fs::File::open(path)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", path.display()));
    let mut hasher = Sha1::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).expect("file read");
        if n == 0 {
            return hex(&hasher.finalize());
        }
        hasher.update(&buffer[..n]);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file of a test's tree: its path relative to the root (`/`-separated), size and seed.
#[derive(Debug, Clone)]
pub struct TestFile {
    pub path: String,
    pub size: usize,
    pub seed: u64,
}

impl TestFile {
    pub fn new(path: &str, size: usize, seed: u64) -> Self {
        Self {
            path: path.into(),
            size,
            seed,
        }
    }

    pub fn content(&self) -> Vec<u8> {
        pseudo_random(self.size, self.seed)
    }

    /// Writes the file below `root` (creating its folders) and returns its SHA-1.
    pub fn write_below(&self, root: &Path) -> String {
        let path = root.join(&self.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent folder");
        }
        let content = self.content();
        std::fs::write(&path, &content).expect("file written");
        sha1_hex(&content)
    }
}

/// Sets the modification time of `path` to `age` ago. Sync clients leave files alone that
/// changed in the last seconds (they may still be written), and tell versions apart by it.
pub fn set_age(path: &Path, age: Duration) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(std::time::SystemTime::now() - age))
        .unwrap_or_else(|e| panic!("modification time of {}: {e}", path.display()));
}

/// Every regular file below `root` as its relative `/`-separated path and SHA-1, leaving out
/// what `skip` matches (a client's own bookkeeping files).
pub fn local_tree(root: &Path, skip: impl Fn(&str) -> bool) -> BTreeMap<String, String> {
    fn walk(
        root: &Path,
        dir: &Path,
        skip: &dyn Fn(&str) -> bool,
        out: &mut BTreeMap<String, String>,
    ) {
        for entry in std::fs::read_dir(dir).expect("folder listing") {
            let path = entry.expect("folder entry").path();
            let relative = path
                .strip_prefix(root)
                .expect("below the root")
                .to_string_lossy()
                .replace('\\', "/");
            if skip(&relative) {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, skip, out);
            } else {
                out.insert(relative, sha1_of_file(&path));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &skip, &mut out);
    out
}

/// How many regular files there are below `dir` (a service's data folder, to see that nothing
/// was left behind).
pub fn file_count(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map_while(Result::ok)
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                file_count(&path)
            } else {
                1
            }
        })
        .sum()
}

/// Whether the client `command` is installed. When it is not, a test returns early with a
/// printed message, except under `CI=true`, where a missing client fails the test (as a missing
/// PostgreSQL does): `scripts/install-deps.sh` installs them.
pub fn client_installed(command: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(command).is_file()));
    if found {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{command} is not installed (scripts/install-deps.sh installs it)");
    }
    eprintln!(
        "skipping: {command} is not installed (scripts/install-deps.sh installs it; under CI=true this fails)"
    );
    false
}

/// What a client process did.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs `command` to its end, killing it and failing the test after `timeout`.
pub async fn run(mut command: tokio::process::Command, timeout: Duration) -> Run {
    let program = format!("{:?}", command.as_std().get_program());
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("{program} starts: {e}"));
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(output) => {
            let output = output.unwrap_or_else(|e| panic!("{program} runs: {e}"));
            Run {
                status: output.status,
                stdout: output.stdout,
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }
        }
        Err(_) => panic!("{program} did not finish within {timeout:?}"),
    }
}

/// The lines of a client's log worth showing when a test fails: requests, statuses, warnings.
pub fn log_excerpt(log: &str, limit: usize) -> String {
    let interesting = [
        " PUT ",
        "PUT of",
        " MOVE",
        "MKCOL",
        "FINISHED WITH STATUS",
        "warning",
        "ERROR",
        "error",
        "Upload chunk",
        "chunk",
        "HTTP/1.1 4",
        "HTTP/1.1 5",
    ];
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| interesting.iter().any(|word| line.contains(word)))
        .collect();
    let start = lines.len().saturating_sub(limit);
    lines[start..]
        .iter()
        .map(|line| {
            let cut = line
                .char_indices()
                .nth(400)
                .map_or(line.len(), |(at, _)| at);
            &line[..cut]
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Nextcloud's desktop client on the command line, with a home folder of its own.
pub struct Nextcloudcmd {
    home: TempDir,
}

impl Default for Nextcloudcmd {
    fn default() -> Self {
        Self::new()
    }
}

impl Nextcloudcmd {
    pub const COMMAND: &'static str = "nextcloudcmd";
    /// A sync of a few hundred megabytes over loopback takes seconds; this is the bound.
    pub const TIMEOUT: Duration = Duration::from_secs(300);

    pub fn new() -> Self {
        Self {
            home: TempDir::new("nextcloudcmd-home"),
        }
    }

    /// One sync run of `local` with the server's root folder, as `user`.
    pub async fn sync(&self, local: &Path, server_url: &str, user: &str, password: &str) -> Run {
        let mut command = tokio::process::Command::new(Self::COMMAND);
        command
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("QT_QPA_PLATFORM", "offscreen")
            .args(["--non-interactive", "--max-sync-retries", "1"])
            .args(["-u", user, "-p", password])
            .arg(local)
            .arg(server_url);
        run(command, Self::TIMEOUT).await
    }

    /// The client's own files in a synced folder (its journal), not part of the data.
    pub fn is_bookkeeping(relative: &str) -> bool {
        let name = relative.rsplit('/').next().unwrap_or(relative);
        name.starts_with(".sync_") || name.starts_with("._sync_") || name == ".owncloudsync.log"
    }
}

/// rclone with a remote `nc:` of type webdav, vendor nextcloud, configured through the
/// environment for one user; its config file and home are temporary.
pub struct Rclone {
    home: TempDir,
    env: Vec<(String, String)>,
}

impl Rclone {
    pub const COMMAND: &'static str = "rclone";
    pub const TIMEOUT: Duration = Duration::from_secs(180);

    pub async fn new(server_url: &str, user: &str, password: &str) -> Self {
        let home = TempDir::new("rclone-home");
        let mut obscure = tokio::process::Command::new(Self::COMMAND);
        obscure.args(["obscure", password]);
        let obscured = run(obscure, Self::TIMEOUT).await;
        assert!(obscured.status.success(), "{}", obscured.stderr);
        let env = vec![
            ("RCLONE_CONFIG_NC_TYPE".into(), "webdav".into()),
            (
                "RCLONE_CONFIG_NC_URL".into(),
                format!("{server_url}/remote.php/dav/files/{user}"),
            ),
            ("RCLONE_CONFIG_NC_VENDOR".into(), "nextcloud".into()),
            ("RCLONE_CONFIG_NC_USER".into(), user.into()),
            (
                "RCLONE_CONFIG_NC_PASS".into(),
                obscured.stdout_text().trim().into(),
            ),
        ];
        Self { home, env }
    }

    /// `rclone <args>`, whatever its outcome.
    pub async fn run(&self, args: &[&str]) -> Run {
        let mut command = tokio::process::Command::new(Self::COMMAND);
        command
            .env("HOME", self.home.path())
            .envs(self.env.iter().cloned())
            .arg("--config")
            .arg(self.home.join("rclone.conf"))
            .args(["--retries", "1", "--low-level-retries", "1"])
            .args(args);
        run(command, Self::TIMEOUT).await
    }

    /// `rclone <args>`, which must succeed; its standard output.
    pub async fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args).await;
        assert!(
            run.status.success(),
            "rclone {args:?} failed ({}):\n{}",
            run.status,
            log_excerpt(&run.stderr, 40)
        );
        run
    }
}
