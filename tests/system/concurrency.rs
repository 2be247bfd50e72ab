//! Concurrent requests never make a 5xx (issue 16, items 7 and 8): read-then-write transactions
//! take SQLite's write lock up front instead of failing to upgrade ("database is locked"), and
//! upserts are single statements instead of inserts that lose a race on PostgreSQL.

use integration_tests::{spawn_pair, Browser, ADMIN, NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD};
use reqwest::StatusCode;

const CLIENTS: usize = 16;
const ROUNDS: usize = 15;

/// Runs `CLIENTS` tasks of `ROUNDS` requests each, returning every status.
async fn hammer<F, Fut>(request: F) -> Vec<StatusCode>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = StatusCode> + Send,
{
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for _ in 0..ROUNDS {
                    statuses.push(request().await);
                }
                statuses
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task finishes"));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_personal_settings_page_holds_under_concurrent_load() {
    let pair = spawn_pair();
    pair.set_up_integration().await;
    let browser = Browser::new();
    pair.sign_in_to_nextcloud(&browser, ADMIN, NCOA_ADMIN_PASSWORD)
        .await;
    let client = browser.client().clone();
    let url = format!("{}/index.php/settings/user/openproject", pair.nextcloud.url);
    let statuses = hammer(move || {
        let (client, url) = (client.clone(), url.clone());
        async move { client.get(&url).send().await.expect("sent").status() }
    })
    .await;
    assert_eq!(statuses.len(), CLIENTS * ROUNDS);
    let failed: Vec<_> = statuses.iter().filter(|s| !s.is_success()).collect();
    assert!(failed.is_empty(), "{failed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_api_token_replacements_leave_one_working_token() {
    let pair = spawn_pair();
    let client = pair.client.clone();
    let url = format!("{}/api/v3/users/me/api_token", pair.openproject.url);
    let issued = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = issued.clone();
    let statuses = hammer(move || {
        let (client, url, seen) = (client.clone(), url.clone(), seen.clone());
        async move {
            let response = client
                .post(&url)
                .basic_auth(ADMIN, Some(OPS_ADMIN_PASSWORD))
                .header("Content-Type", "application/json")
                .send()
                .await
                .expect("sent");
            let status = response.status();
            if let Ok(body) = response.json::<serde_json::Value>().await {
                if let Some(token) = body["token"].as_str() {
                    seen.lock().unwrap().push(token.to_string());
                }
            }
            status
        }
    })
    .await;
    let failed: Vec<_> = statuses.iter().filter(|s| s.is_server_error()).collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(issued.lock().unwrap().len(), CLIENTS * ROUNDS);
    // One token per user: a new one works and replaced ones no longer do.
    let fresh = pair
        .client
        .post(format!(
            "{}/api/v3/users/me/api_token",
            pair.openproject.url
        ))
        .basic_auth(ADMIN, Some(OPS_ADMIN_PASSWORD))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let me = |token: String| {
        pair.client
            .get(format!("{}/api/v3/users/me", pair.openproject.url))
            .basic_auth("apikey", Some(token))
            .send()
    };
    let replaced: Vec<String> = issued.lock().unwrap().iter().take(3).cloned().collect();
    for old in replaced {
        assert_eq!(me(old).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(me(fresh).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_preference_writes_all_succeed() {
    let pair = spawn_pair();
    pair.set_up_integration().await;
    let client = pair.client.clone();
    let url = format!(
        "{}/index.php/apps/integration_openproject/config",
        pair.nextcloud.url
    );
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let statuses = hammer(move || {
        let (client, url, counter) = (client.clone(), url.clone(), counter.clone());
        async move {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            client
                .put(&url)
                .basic_auth(ADMIN, Some(NCOA_ADMIN_PASSWORD))
                .json(&serde_json::json!({"values": {"navigation_enabled": (n % 2 == 0).to_string(), "search_enabled": "1"}}))
                .send()
                .await
                .expect("sent")
                .status()
        }
    })
    .await;
    let failed: Vec<_> = statuses.iter().filter(|s| !s.is_success()).collect();
    assert!(failed.is_empty(), "{failed:?}");
}

/// Fifty clients at once, each sending a mix of the requests both sides serve every day: no
/// answer is a server error, on either database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mixed_load_of_fifty_clients_gets_no_server_error() {
    let pair = spawn_pair();
    let integration = pair.set_up_integration().await;
    let (op, nc) = (pair.openproject.url.clone(), pair.nextcloud.url.clone());
    let tasks: Vec<_> = (0..50)
        .map(|client| {
            let (http, op, nc) = (pair.client.clone(), op.clone(), nc.clone());
            let (client_id, storage) = (
                integration.openproject_client_id.clone(),
                integration.storage_id,
            );
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for round in 0..8 {
                    let request = match (client + round) % 8 {
                        0 => http.get(format!("{op}/api/v3/storages/{storage}")),
                        1 => http.get(format!("{op}/api/v3/users/me")),
                        2 => http
                            .post(format!("{op}/oauth/token"))
                            .form(&[
                                ("grant_type", "refresh_token"),
                                ("refresh_token", "not-a-token"),
                                ("client_id", client_id.as_str()),
                                ("client_secret", "wrong"),
                            ]),
                        3 => http
                            .request(
                                reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
                                format!("{nc}/remote.php/dav/files/{ADMIN}/"),
                            )
                            .header("Depth", "1"),
                        4 => http
                            .put(format!("{nc}/remote.php/dav/files/{ADMIN}/load-{client}-{round}.txt"))
                            .body(format!("client {client} round {round}")),
                        5 => http
                            .get(format!("{nc}/ocs/v2.php/cloud/user?format=json"))
                            .header("OCS-APIRequest", "true"),
                        6 => http
                            .put(format!("{nc}/index.php/apps/integration_openproject/config"))
                            .json(&serde_json::json!({"values": {"search_enabled": (round % 2).to_string()}})),
                        _ => http.get(format!("{nc}/ocs/v2.php/cloud/capabilities?format=json")),
                    };
                    let (user, password) = if (client + round) % 8 <= 2 {
                        (ADMIN, OPS_ADMIN_PASSWORD)
                    } else {
                        (ADMIN, NCOA_ADMIN_PASSWORD)
                    };
                    let status = request
                        .basic_auth(user, Some(password))
                        .send()
                        .await
                        .expect("sent")
                        .status();
                    statuses.push(status);
                }
                statuses
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task finishes"));
    }
    assert_eq!(all.len(), 400);
    let failed: Vec<_> = all.iter().filter(|s| s.is_server_error()).collect();
    assert!(failed.is_empty(), "{failed:?}");
}
