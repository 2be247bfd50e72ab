//! SQLite's write-ahead log stays bounded under sustained load (issue 16, item 5): it once grew
//! to 489 MB in 30 seconds because readers never let a checkpoint reset it. Fifty clients write
//! large work packages (160 MiB in all) and read at once while the test samples the `-wal` file's size.
//! PostgreSQL's log is the server's own business, so on that backend only the load's answers
//! are checked.

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use integration_tests::{json_of, spawn_pair, ADMIN, OPS_ADMIN_PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::json;
use service_kit::db::DatabaseUrl;

const CLIENTS: usize = 50;
const LIMIT_BYTES: u64 = 64 * 1024 * 1024;
/// How much the clients write in all: by volume, not time, so a slow machine tests the same.
const TO_WRITE: u64 = 5 * LIMIT_BYTES / 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_write_ahead_log_stays_under_64_mb_while_fifty_clients_write() {
    let pair = spawn_pair();
    let (status, project) = json_of(
        pair.op(Method::POST, "/api/v3/projects")
            .json(&json!({"name": "Load"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let project_id = project["id"].as_i64().expect("project id");

    let wal: Option<PathBuf> = match &pair.openproject.database().url {
        DatabaseUrl::Sqlite(path) => Some(PathBuf::from(format!("{}-wal", path.display()))),
        DatabaseUrl::Postgres(_) => None,
    };
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done, wal) = (peak.clone(), done.clone(), wal.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Some(size) = wal.as_ref().and_then(|w| std::fs::metadata(w).ok()) {
                    peak.fetch_max(size.len(), Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };

    let description = "A long description that makes each write large. ".repeat(5000);
    let total_written = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (http, op, description, total_written) = (
                pair.client.clone(),
                pair.openproject.url.clone(),
                description.clone(),
                total_written.clone(),
            );
            tokio::spawn(async move {
                let (mut written, mut server_errors) = (0u64, 0usize);
                let mut round = 0usize;
                while total_written.load(Ordering::Relaxed) < TO_WRITE {
                    round += 1;
                    let request = if (client + round).is_multiple_of(4) {
                        http.get(format!("{op}/api/v3/projects/{project_id}"))
                    } else {
                        http.post(format!("{op}/api/v3/projects/{project_id}/work_packages"))
                            .json(&json!({"subject": format!("Load {client}/{round}"),
                                          "description": {"raw": description}}))
                    };
                    let status = request
                        .basic_auth(ADMIN, Some(OPS_ADMIN_PASSWORD))
                        .send()
                        .await
                        .expect("sent")
                        .status();
                    if status == StatusCode::CREATED {
                        written += description.len() as u64;
                        total_written.fetch_add(description.len() as u64, Ordering::Relaxed);
                    }
                    server_errors += usize::from(status.is_server_error());
                }
                (written, server_errors)
            })
        })
        .collect();
    let (mut written, mut server_errors) = (0u64, 0usize);
    for client in clients {
        let (w, e) = client.await.expect("client finishes");
        written += w;
        server_errors += e;
    }
    done.store(true, Ordering::Relaxed);
    sampler.await.expect("sampler finishes");

    assert_eq!(server_errors, 0, "answers ≥ 500 under load");
    let peak = peak.load(Ordering::Relaxed);
    assert!(written >= TO_WRITE, "the load stopped early");
    if wal.is_some() {
        eprintln!(
            "wrote {} MiB of descriptions; write-ahead log peak {:.1} MiB",
            written >> 20,
            peak as f64 / 1048576.0
        );
        assert!(
            peak <= LIMIT_BYTES,
            "the write-ahead log peaked at {peak} bytes"
        );
    }
}
