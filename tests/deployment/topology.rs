//! The deployment, proven: `deploy/compose.yaml` itself brought up with podman-compose on the
//! images of `make image` (PostgreSQL, two replicas of each service, nginx in front of each
//! pair), then driven through the proxies only: the setup of both sides, users connecting both
//! ways, a file link, a replace of OAuth values that no replica then forgets, a rolling restart
//! of each pair under load, and a killed replica.
//!
//! Run by `make test-deployment` (part of `make test`), which builds the images first; it is
//! `#[ignore]`d so that `cargo test --workspace` does not start containers twice per backend.

use std::{
    net::TcpListener,
    process::Command,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use integration_tests::{
    external_pair,
    flows::{connect_both_ways, file_link_statuses, ocs, person, project_with_storage, upload},
    json_of, Pair, ADMIN, NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD,
};
use reqwest::{Method, StatusCode};

use crate::workspace;
use serde_json::json;

const VIEW_ALLOWED: &str = "urn:openproject-org:api:v3:file-links:permission:ViewAllowed";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The compose project: its containers and volumes are removed on drop.
struct Deployment {
    project: String,
    env: Vec<(String, String)>,
    ops_url: String,
    ncoa_url: String,
    /// Replica name → its own URL (for probes and metrics; requests go through the proxies).
    replicas: Vec<(&'static str, String)>,
}

impl Deployment {
    fn up() -> Deployment {
        let project = format!(
            "storagesdeploy{}",
            service_kit::crypto::random_alphanumeric(8).to_lowercase()
        );
        let ports: Vec<u16> = (0..7).map(|_| free_port()).collect();
        let names = [
            "OPS_PORT",
            "NCOA_PORT",
            "OPS_1_PORT",
            "OPS_2_PORT",
            "NCOA_1_PORT",
            "NCOA_2_PORT",
            "PG_PORT",
        ];
        let mut env: Vec<(String, String)> = names
            .iter()
            .zip(&ports)
            .map(|(name, port)| (name.to_string(), port.to_string()))
            .collect();
        let ops_url = format!("http://127.0.0.1:{}", ports[0]);
        let ncoa_url = format!("http://127.0.0.1:{}", ports[1]);
        env.extend([
            ("OPS_PUBLIC_URL".into(), ops_url.clone()),
            ("NCOA_PUBLIC_URL".into(), ncoa_url.clone()),
            (
                "OPS_SECRET_KEY".into(),
                service_kit::crypto::SecretKey::generate().to_base64(),
            ),
            (
                "NCOA_SECRET_KEY".into(),
                service_kit::crypto::SecretKey::generate().to_base64(),
            ),
            ("OPS_ADMIN_PASSWORD".into(), OPS_ADMIN_PASSWORD.into()),
            ("NCOA_ADMIN_PASSWORD".into(), NCOA_ADMIN_PASSWORD.into()),
            (
                "CONTAINERS_CONF".into(),
                workspace()
                    .join("deploy/local/containers.conf")
                    .display()
                    .to_string(),
            ),
        ]);
        let replicas = vec![
            ("ops-1", format!("http://127.0.0.1:{}", ports[2])),
            ("ops-2", format!("http://127.0.0.1:{}", ports[3])),
            ("ncoa-1", format!("http://127.0.0.1:{}", ports[4])),
            ("ncoa-2", format!("http://127.0.0.1:{}", ports[5])),
        ];
        let deployment = Deployment {
            project,
            env,
            ops_url,
            ncoa_url,
            replicas,
        };
        deployment.compose(&["up", "-d"]);
        deployment
    }

    fn compose(&self, args: &[&str]) {
        let output = Command::new("podman-compose")
            .current_dir(workspace())
            .args(["-p", &self.project, "-f", "deploy/compose.yaml"])
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("podman-compose runs (make test-deployment installs it)");
        assert!(
            output.status.success(),
            "podman-compose {args:?}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn podman(&self, args: &[&str]) {
        let status = Command::new("podman")
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(std::process::Stdio::null())
            .status()
            .expect("podman runs");
        assert!(status.success(), "podman {args:?}");
    }

    fn container(&self, service: &str) -> String {
        format!("{}_{service}_1", self.project)
    }

    fn replica_url(&self, name: &str) -> &str {
        &self
            .replicas
            .iter()
            .find(|(n, _)| *n == name)
            .expect("a replica")
            .1
    }

    /// Waits until `url/readyz` answers 200.
    async fn wait_ready(&self, url: &str) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(response) = client.get(format!("{url}/readyz")).send().await {
                if response.status() == StatusCode::OK {
                    return;
                }
            }
            if Instant::now() > deadline {
                let logs = Command::new("podman")
                    .args(["ps", "-a", "--format", "{{.Names}} {{.Status}}"])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
                    .unwrap_or_default();
                panic!("{url} did not become ready; containers:\n{logs}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_all_ready(&self) {
        for (_, url) in &self.replicas {
            self.wait_ready(url).await;
        }
        self.wait_ready(&self.ops_url).await;
        self.wait_ready(&self.ncoa_url).await;
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let _ = Command::new("podman-compose")
            .current_dir(workspace())
            .args([
                "-p",
                &self.project,
                "-f",
                "deploy/compose.yaml",
                "down",
                "-v",
            ])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output();
    }
}

/// The value of the samples of `metric` whose labels contain `label`, summed.
fn metric_sum(metrics: &str, metric: &str, label: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(metric) && line.contains(label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn metrics(url: &str) -> String {
    reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("text")
}

/// Clients sending requests through both proxies until stopped; counts the failures.
struct Load {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(pair: &Pair, storage_id: i64) -> Load {
        let (stop, sent, failed) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let tasks = (0..4)
            .map(|client| {
                let (stop, sent, failed) = (stop.clone(), sent.clone(), failed.clone());
                let (http, op, nc) = (
                    pair.client.clone(),
                    pair.openproject.url.clone(),
                    pair.nextcloud.url.clone(),
                );
                tokio::spawn(async move {
                    let mut round = 0usize;
                    while !stop.load(Ordering::Relaxed) {
                        round += 1;
                        let request = match (client + round) % 3 {
                            0 => http
                                .get(format!("{op}/api/v3/storages/{storage_id}"))
                                .basic_auth(ADMIN, Some(OPS_ADMIN_PASSWORD)),
                            1 => http
                                .post(format!("{op}/api/v3/projects"))
                                .basic_auth(ADMIN, Some(OPS_ADMIN_PASSWORD))
                                .json(&json!({"name": format!("Load {client} {round}")})),
                            _ => http
                                .get(format!("{nc}/ocs/v2.php/cloud/user?format=json"))
                                .header("OCS-APIRequest", "true")
                                .basic_auth(ADMIN, Some(NCOA_ADMIN_PASSWORD)),
                        };
                        sent.fetch_add(1, Ordering::Relaxed);
                        let outcome = request.send().await;
                        if !outcome.as_ref().is_ok_and(|r| r.status().is_success())
                            && failed.fetch_add(1, Ordering::Relaxed) < 5
                        {
                            eprintln!("failed during the rolling restart: {outcome:?}");
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                })
            })
            .collect();
        Load {
            stop,
            sent,
            failed,
            tasks,
        }
    }

    async fn stop(self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("load task");
        }
        (
            self.sent.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "starts containers: run by `make test-deployment` after `make image`"]
async fn the_compose_topology_serves_the_whole_integration_through_its_proxies() {
    let started = Instant::now();
    let deployment = Deployment::up();
    deployment.wait_all_ready().await;
    let up = started.elapsed();
    let pair = external_pair(&deployment.ops_url, &deployment.ncoa_url);

    // Setup of both sides, through the proxies.
    let integration = pair.set_up_integration().await;
    let (status, storage) = json_of(pair.op(
        Method::GET,
        &format!("/api/v3/storages/{}", integration.storage_id),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(storage["configured"], true, "{storage}");

    // A user connects both ways and links a file.
    let project = project_with_storage(&pair, integration.storage_id, "Deployed").await;
    let alice = person(&pair, "alice", project, "Member").await;
    connect_both_ways(&pair, &integration, &alice).await;
    let (status, work_package) = json_of(
        pair.op(
            Method::POST,
            &format!("/api/v3/projects/{project}/work_packages"),
        )
        .json(&json!({"subject": "Deployed report"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{work_package}");
    let wp = work_package["id"].as_i64().expect("id");
    let file_id = upload(&pair, &alice, "report.txt", "numbers").await;
    let (status, linked) = json_of(ocs(&pair, &alice, Method::POST, "/work-packages").json(
        &json!({"values": {"workpackageId": wp, "fileinfo": [{"id": file_id, "name": "report.txt"}]}}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{linked}");
    for _ in 0..4 {
        // Every replica of OpenProject asks Nextcloud with alice's token and sees the same.
        assert_eq!(
            file_link_statuses(&pair, &alice, wp).await,
            vec![VIEW_ALLOWED]
        );
    }

    // Replace OpenProject's OAuth values: the token Nextcloud held for alice fails everywhere.
    let tokens = pair.openproject_tokens(&alice.browser, &integration).await;
    let (status, replaced) = json_of(pair.op(
        Method::POST,
        &format!(
            "/api/v3/storages/{}/oauth_application",
            integration.storage_id
        ),
    ))
    .await;
    assert!(status.is_success(), "{replaced}");
    for name in ["ops-1", "ops-2"] {
        let status = reqwest::Client::new()
            .get(format!("{}/api/v3/users/me", deployment.replica_url(name)))
            .bearer_auth(&tokens.access_token)
            .send()
            .await
            .expect("sent")
            .status();
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{name} still takes the old token"
        );
    }

    // Rolling restart of each pair under load: no request fails.
    // One replica of each pair at a time; after a replica is back, nginx takes it again once
    // the 2 s it holds a failed upstream out (`fail_timeout`) have passed.
    let load = Load::start(&pair, integration.storage_id);
    for replicas in [["ops-1", "ncoa-1"], ["ops-2", "ncoa-2"]] {
        for name in replicas {
            deployment.podman(&["restart", "--time", "20", &deployment.container(name)]);
        }
        for name in replicas {
            deployment.wait_ready(deployment.replica_url(name)).await;
        }
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }
    let (sent, failed) = load.stop().await;
    eprintln!("rolling restart: {sent} requests, {failed} failed");
    assert!(sent > 20, "the load ran ({sent} requests)");
    assert_eq!(failed, 0, "requests failed during the rolling restart");

    // Requests landed on both replicas of each pair; metrics show the test's traffic.
    for (name, url) in &deployment.replicas {
        let text = metrics(url).await;
        let answered = metric_sum(&text, "http_requests_total", "status=\"200\"");
        assert!(answered > 0.0, "{name} served nothing:\n{text}");
    }

    // A replica killed: its pair keeps serving.
    deployment.podman(&["kill", &deployment.container("ops-2")]);
    deployment.podman(&["kill", &deployment.container("ncoa-1")]);
    for _ in 0..6 {
        let (status, _) = json_of(pair.op(Method::GET, "/api/v3/users/me")).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = json_of(
            pair.nc(Method::GET, "/ocs/v2.php/cloud/user?format=json")
                .header("OCS-APIRequest", "true"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    eprintln!(
        "deployment test: up in {:.1} s, all in {:.1} s",
        up.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
