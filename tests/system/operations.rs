//! What operators read (issue 22): `/healthz`, `/readyz`, `/metrics` on both services, and a
//! request id that follows one request from a caller through OpenProject into Nextcloud's log.

use integration_tests::{binary, json_of, spawn_pair_logging, ADMIN, OPS_ADMIN_PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn metrics_of(client: &reqwest::Client, base: &str) -> String {
    let response = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.expect("text")
}

/// The value of the sample whose line starts with `series` (name and labels), if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn both_services_report_health_readiness_and_metrics_and_pass_request_ids_on() {
    let (pair, [_, nc_log]) = spawn_pair_logging("info");
    for base in [&pair.openproject.url, &pair.nextcloud.url] {
        let (status, alive) = json_of(pair.client.get(format!("{base}/healthz"))).await;
        assert_eq!((status, alive), (StatusCode::OK, json!({"status": "ok"})));
        let (status, ready) = json_of(pair.client.get(format!("{base}/readyz"))).await;
        assert_eq!(status, StatusCode::OK, "{ready}");
        assert_eq!(ready["status"], "ready");
        let checks: Vec<_> = ready["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .map(|c| (c["name"].as_str().unwrap_or_default(), c["ok"].as_bool()))
            .collect();
        assert_eq!(
            checks,
            [
                ("database", Some(true)),
                ("migrations", Some(true)),
                ("secret_key", Some(true))
            ]
        );
    }

    // Creating a storage makes OpenProject check the Nextcloud host: the caller's request id
    // comes back in the answer and shows up in Nextcloud's log.
    let response = pair
        .op(Method::POST, "/api/v3/storages")
        .header("X-Request-Id", "setup-trace-0001")
        .json(&json!({"name": "Nextcloud", "_links": {
            "type": {"href": "urn:openproject-org:api:v3:storages:Nextcloud"},
            "origin": {"href": pair.nextcloud.url}}}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["x-request-id"], "setup-trace-0001");
    let nextcloud_log = std::fs::read_to_string(&nc_log).expect("Nextcloud's log");
    assert!(
        nextcloud_log.contains("setup-trace-0001"),
        "the request id reached Nextcloud's log"
    );
    // An id that could forge log lines is replaced by one of ours.
    let response = pair
        .client
        .get(format!("{}/healthz", pair.openproject.url))
        .header("X-Request-Id", "x\"}, {\"forged\": 1")
        .send()
        .await
        .expect("sent");
    let answered = response.headers()["x-request-id"].to_str().expect("ascii");
    assert_eq!(answered.len(), 32, "{answered}");

    // A failed and a successful grant at OpenProject's token endpoint.
    let status = pair
        .client
        .post(format!("{}/oauth/token", pair.openproject.url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "nope"),
            ("client_id", "x"),
        ])
        .send()
        .await
        .expect("sent")
        .status();
    assert!(status.is_client_error());
    let status = pair
        .client
        .get(format!("{}/api/v3/users/me", pair.openproject.url))
        .basic_auth(ADMIN, Some(OPS_ADMIN_PASSWORD))
        .send()
        .await
        .expect("sent")
        .status();
    assert_eq!(status, StatusCode::OK);

    let op = metrics_of(&pair.client, &pair.openproject.url).await;
    assert!(
        sample(
            &op,
            r#"http_requests_total{method="POST",route="/api/v3/storages",status="201"}"#
        ) >= Some(1.0),
        "{op}"
    );
    assert!(
        sample(
            &op,
            r#"http_requests_total{method="GET",route="/api/v3/users/me",status="200"}"#
        ) >= Some(1.0)
    );
    assert!(
        sample(
            &op,
            r#"oauth_token_requests_total{grant_type="refresh_token",outcome="refused"}"#
        ) >= Some(1.0)
    );
    assert!(
        sample(&op, r#"peer_requests_total{outcome="2xx"}"#) >= Some(1.0),
        "{op}"
    );
    assert!(op
        .contains(r#"http_request_duration_seconds_bucket{method="GET",route="/api/v3/users/me""#));
    assert!(sample(&op, r#"db_pool_connections{state="idle"}"#).is_some());
    assert!(!op.contains("setup-trace"), "no raw paths or ids as labels");
    let nc = metrics_of(&pair.client, &pair.nextcloud.url).await;
    assert!(nc.contains("http_requests_total{"), "{nc}");
}

/// `<binary> ready` with the service's listen address in `variable`: its exit status.
fn ready_command(name: &str, variable: &str, address: &str) -> std::process::ExitStatus {
    std::process::Command::new(binary(name))
        .arg("ready")
        .env(variable, address)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("the binary runs")
}

#[tokio::test]
async fn the_ready_command_answers_for_container_health_checks() {
    let (pair, _) = spawn_pair_logging("warn");
    let op = pair
        .openproject
        .url
        .trim_start_matches("http://")
        .to_string();
    let nc = pair.nextcloud.url.trim_start_matches("http://").to_string();
    assert!(ready_command("openproject-storages", "OPS_LISTEN", &op).success());
    assert!(ready_command("nextcloud-openproject-app", "NCOA_LISTEN", &nc).success());
    // Nobody listens on port 1.
    let status = ready_command("openproject-storages", "OPS_LISTEN", "127.0.0.1:1");
    assert_eq!(status.code(), Some(1));
}
