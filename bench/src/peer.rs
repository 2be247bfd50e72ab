//! The peer reference: node's `oidc-provider` (in-memory store) answering client_credentials
//! token requests, installed from the npm registry into `bench/peer/` on first use.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
};

use crate::load::{self, Figures};

const CLIENT_ID: &str = "bench";
const CLIENT_SECRET: &str = "bench-secret-bench-secret-bench-secret";

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peer")
}

/// The peer's process, stopped on drop.
struct Peer {
    child: Child,
    url: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Result<Peer, String> {
    let dir = peer_dir();
    if !dir.join("node_modules").exists() {
        let installed = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .map_err(|e| format!("npm is not available: {e}"))?;
        if !installed.success() {
            return Err("npm install failed".into());
        }
    }
    let mut child = Command::new("node")
        .args(["server.mjs", "0"])
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
        .find(|l| l.contains("listening on "))
        .ok_or("the peer did not start")?;
    let url = line
        .split("listening on ")
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_string();
    Ok(Peer { child, url })
}

/// `runs` runs of client_credentials token requests against the peer; `Err` when node or npm
/// are missing (the report then says so instead of a figure).
pub async fn token_load(runs: usize) -> Result<Figures, String> {
    let peer = start()?;
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
