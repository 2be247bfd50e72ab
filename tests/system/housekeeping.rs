//! Housekeeping (issue 16, item 4): each service deletes what has outlived its retention (retired
//! OAuth tokens after 7 days, consumed codes, expired sessions, old throttle rows), logs what it
//! removed, and keeps everything that still works. Rows are aged in the database, since no
//! request can make a token a week old; a second replica on the same database runs the purge at
//! its start, as every replica does.

use std::{path::Path, time::Duration};

use integration_tests::{
    json_of, spawn_pair_logging, Browser, Pair, Service, ADMIN, NCOA_ADMIN_PASSWORD,
    OPS_ADMIN_PASSWORD,
};
use reqwest::StatusCode;

/// Eight days in unix milliseconds: past the 7-day retention of every table purged.
const EIGHT_DAYS_MS: i64 = 8 * 24 * 3600 * 1000;

/// Moves every time of the rows `condition` selects in `table` eight days into the past.
fn age(service: &Service, table: &str, columns: &[&str], condition: &str) {
    let set: Vec<String> = columns
        .iter()
        .map(|c| format!("{c} = {c} - {EIGHT_DAYS_MS}"))
        .collect();
    service.database().execute(&format!(
        "UPDATE {table} SET {} WHERE {condition}",
        set.join(", ")
    ));
}

fn count(service: &Service, table: &str) -> i64 {
    service.database().count(table, "1 = 1")
}

/// The `(what, removed)` pairs the service's housekeeping logged in `log`.
fn logged_removals(log: &Path) -> Vec<(String, i64)> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|entry| entry["message"] == "housekeeping")
        .filter_map(|entry| {
            Some((
                entry["what"].as_str()?.to_string(),
                entry["removed"].as_i64()?,
            ))
        })
        .collect()
}

/// Starts a replica (which purges at start) and waits until it has logged the removal of `what`.
async fn purge_with_a_replica(
    service: &Service,
    log: &Path,
    what: &str,
) -> (Service, Vec<(String, i64)>) {
    let replica = service.replica();
    for _ in 0..200 {
        let removals = logged_removals(log);
        if removals.iter().any(|(w, _)| w == what) {
            return (replica, removals);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no housekeeping line for {what} in {}", log.display());
}

/// A failed sign-in at each side, which leaves a throttle row.
async fn fail_a_sign_in(pair: &Pair) {
    let status = pair
        .client
        .get(format!("{}/api/v3/users/me", pair.openproject.url))
        .basic_auth(ADMIN, Some("wrong"))
        .send()
        .await
        .expect("sent")
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let status = pair
        .client
        .get(format!(
            "{}/ocs/v2.php/cloud/user?format=json",
            pair.nextcloud.url
        ))
        .header("OCS-APIRequest", "true")
        .basic_auth(ADMIN, Some("wrong"))
        .send()
        .await
        .expect("sent")
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn refresh(url: &str, refresh_token: &str, client_id: &str, secret: &str) -> String {
    let (status, body) = json_of(reqwest::Client::new().post(url).form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
        ("client_secret", secret),
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "refresh: {body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn status_with_bearer(pair: &Pair, url: String, token: &str) -> StatusCode {
    pair.client
        .get(url)
        .header("OCS-APIRequest", "true")
        .bearer_auth(token)
        .send()
        .await
        .expect("sent")
        .status()
}

#[tokio::test]
async fn housekeeping_removes_what_outlived_its_retention_and_keeps_what_works() {
    let (pair, [op_log, nc_log]) = spawn_pair_logging("info");
    let integration = pair.set_up_integration().await;
    let (op, nc) = (&pair.openproject.url, &pair.nextcloud.url);

    // OpenProject: a token pair rotated once (the first pair retired by the second's use), a
    // consumed code, a session and a throttle row.
    let browser = Browser::new();
    pair.sign_in_to_openproject(&browser, ADMIN, OPS_ADMIN_PASSWORD)
        .await;
    let first = pair.openproject_tokens(&browser, &integration).await;
    let op_access = refresh(
        &format!("{op}/oauth/token"),
        &first.refresh_token,
        &integration.openproject_client_id,
        &integration.openproject_client_secret,
    )
    .await;
    let me = format!("{op}/api/v3/users/me");
    assert_eq!(
        status_with_bearer(&pair, me.clone(), &op_access).await,
        StatusCode::OK
    );

    // Nextcloud: the same on its side.
    let nc_browser = Browser::new();
    pair.sign_in_to_nextcloud(&nc_browser, ADMIN, NCOA_ADMIN_PASSWORD)
        .await;
    let first = pair.nextcloud_tokens(&nc_browser, &integration).await;
    let nc_access = refresh(
        &format!("{nc}/index.php/apps/oauth2/api/v1/token"),
        &first.refresh_token,
        &integration.nextcloud_client_id,
        &integration.nextcloud_client_secret,
    )
    .await;
    let user = format!("{nc}/ocs/v2.php/cloud/user?format=json");
    assert_eq!(
        status_with_bearer(&pair, user.clone(), &nc_access).await,
        StatusCode::OK
    );
    fail_a_sign_in(&pair).await;

    for service in [&pair.openproject, &pair.nextcloud] {
        assert_eq!(
            count(service, "oauth_tokens"),
            2,
            "a retired pair and its live successor"
        );
        assert!(count(service, "oauth_codes") >= 1);
        assert!(count(service, "sessions") >= 1);
        assert!(count(service, "throttle_failures") >= 1);
        let token_times = [
            "created_at",
            "access_expires_at",
            "rotated_at",
            "revoked_at",
            "retry_until",
        ];
        age(
            service,
            "oauth_tokens",
            &token_times,
            "rotated_at IS NOT NULL OR revoked_at IS NOT NULL",
        );
        age(
            service,
            "oauth_codes",
            &["created_at", "expires_at"],
            "1 = 1",
        );
        age(service, "sessions", &["created_at", "expires_at"], "1 = 1");
        age(
            service,
            "throttle_failures",
            &["window_started_at"],
            "1 = 1",
        );
    }

    let (_op_replica, removed) =
        purge_with_a_replica(&pair.openproject, &op_log, "OAuth tokens").await;
    assert!(
        removed.contains(&("OAuth tokens".to_string(), 1)),
        "{removed:?}"
    );
    assert!(
        removed
            .iter()
            .any(|(what, n)| what == "sessions" && *n >= 1),
        "{removed:?}"
    );
    assert!(
        removed
            .iter()
            .any(|(what, n)| what == "throttle rows" && *n >= 1),
        "{removed:?}"
    );
    let (_nc_replica, removed) =
        purge_with_a_replica(&pair.nextcloud, &nc_log, "OAuth tokens").await;
    assert!(
        removed.contains(&("OAuth tokens".to_string(), 1)),
        "{removed:?}"
    );
    assert!(
        removed
            .iter()
            .any(|(what, n)| what == "sessions" && *n >= 1),
        "{removed:?}"
    );

    for service in [&pair.openproject, &pair.nextcloud] {
        assert_eq!(
            count(service, "oauth_tokens"),
            1,
            "only the live pair is left"
        );
        assert_eq!(count(service, "oauth_codes"), 0);
        assert_eq!(count(service, "sessions"), 0);
        assert_eq!(count(service, "throttle_failures"), 0);
    }
    // What lives still works.
    assert_eq!(
        status_with_bearer(&pair, me, &op_access).await,
        StatusCode::OK
    );
    assert_eq!(
        status_with_bearer(&pair, user, &nc_access).await,
        StatusCode::OK
    );
}
