//! The peer references: node's `oidc-provider`, installed from the npm registry into
//! `bench/peer/` on first use, in two stores: in memory answering client_credentials token
//! requests, and on SQLite (`better-sqlite3`, as durable as the services) answering
//! refresh_token grants with rotation.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
};

use crate::{
    load::{self, Figures},
    oauth::{self, Chain},
};

const CLIENT_ID: &str = "bench";
const CLIENT_SECRET: &str = "bench-secret-bench-secret-bench-secret";

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peer")
}

/// Where the peer keeps its tokens.
enum Store {
    Memory,
    /// A fresh SQLite file in this folder, removed with the peer.
    Sqlite(PathBuf),
}

/// The peer's process, stopped on drop.
struct Peer {
    child: Child,
    url: String,
    store: Store,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Store::Sqlite(dir) = &self.store {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Installs the peer's packages once. better-sqlite3 builds from source where no prebuilt
/// binary can be fetched, against the headers of the machine's node (Debian's `/usr`) rather
/// than headers downloaded from nodejs.org; it is optional, so the in-memory peer runs where it
/// cannot be built.
fn install(dir: &std::path::Path) -> Result<(), String> {
    if dir.join("node_modules").exists() {
        return Ok(());
    }
    let mut npm = Command::new("npm");
    npm.args(["install", "--no-audit", "--no-fund"])
        .current_dir(dir);
    if std::path::Path::new("/usr/include/node/node_version.h").exists() {
        npm.env("npm_config_nodedir", "/usr");
    }
    let installed = npm
        .status()
        .map_err(|e| format!("npm is not available: {e}"))?;
    if !installed.success() {
        return Err("npm install failed".into());
    }
    Ok(())
}

fn start(store: Store) -> Result<Peer, String> {
    let dir = peer_dir();
    install(&dir)?;
    let mut args = vec!["server.mjs".to_string(), "0".to_string()];
    match &store {
        Store::Memory => args.push("memory".into()),
        Store::Sqlite(folder) => {
            std::fs::create_dir_all(folder).map_err(|e| e.to_string())?;
            args.push("sqlite".into());
            args.push(folder.join("peer.db").display().to_string());
        }
    }
    let mut child = Command::new("node")
        .args(&args)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("node is not available: {e}"))?;
    crate::cores::pin_server(child.id());
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let line = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("listening on "));
    let mut peer = Peer {
        child,
        url: String::new(),
        store,
    };
    let line = line.ok_or("the peer did not start (is better-sqlite3 built?)")?;
    peer.url = line
        .split("listening on ")
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_string();
    Ok(peer)
}

/// `runs` runs of client_credentials token requests against the in-memory peer; `Err` when node
/// or npm are missing (the report then says so instead of a figure).
pub async fn token_load(runs: usize) -> Result<Figures, String> {
    let peer = start(Store::Memory)?;
    let url = Arc::new(format!("{}/token", peer.url));
    let client = reqwest::Client::new();
    let step = Arc::new(move |state: ()| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let response = client
                .post(url.as_str())
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", CLIENT_ID),
                    ("client_secret", CLIENT_SECRET),
                ])
                .send()
                .await
                .expect("peer token request");
            assert!(
                response.status().is_success(),
                "peer: {}",
                response.status()
            );
            let _ = response.bytes().await;
            state
        }
    });
    let (figures, _) =
        load::measured(runs, &[peer.child.id()], vec![(); load::CONCURRENCY], step).await;
    drop(peer);
    Ok(figures)
}

/// `runs` runs of refresh_token grants with rotation against the SQLite peer, one token family
/// per worker as on the services.
pub async fn refresh_load(runs: usize) -> Result<Figures, String> {
    let folder = std::env::temp_dir().join(format!("bench-peer-{}", uuid::Uuid::new_v4()));
    let peer = start(Store::Sqlite(folder))?;
    let issued: Vec<String> = reqwest::Client::new()
        .post(format!(
            "{}/bench/refresh-tokens?count={}",
            peer.url,
            load::CONCURRENCY
        ))
        .send()
        .await
        .and_then(|response| response.error_for_status())
        .map_err(|e| format!("the peer issued no refresh tokens: {e}"))?
        .json()
        .await
        .map_err(|e| format!("the peer's refresh tokens: {e}"))?;
    let chains = issued
        .into_iter()
        .map(|refresh_token| Chain::new(CLIENT_ID, CLIENT_SECRET, refresh_token))
        .collect();
    let figures = oauth::refresh_load(&peer.url, "/token", &[peer.child.id()], chains, runs).await;
    drop(peer);
    Ok(figures)
}
