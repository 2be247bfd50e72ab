//! No secret reaches a log line (spec/README.md §5.3, oauth.md §7.9): both services log at
//! `debug` through the setup, both authorization-code flows, bearer use and refreshes, and
//! nothing they were handed or issued appears in the logs.

use integration_tests::{
    json_of, spawn_pair_logging, Browser, ADMIN, NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD,
};
use reqwest::StatusCode;

#[tokio::test]
async fn tokens_secrets_and_passwords_never_appear_in_debug_logs() {
    let (pair, logs) = spawn_pair_logging("debug");
    let integration = pair.set_up_integration().await;

    let op_browser = Browser::new();
    pair.sign_in_to_openproject(&op_browser, ADMIN, OPS_ADMIN_PASSWORD)
        .await;
    let op_tokens = pair.openproject_tokens(&op_browser, &integration).await;
    let nc_browser = Browser::new();
    pair.sign_in_to_nextcloud(&nc_browser, ADMIN, NCOA_ADMIN_PASSWORD)
        .await;
    let nc_tokens = pair.nextcloud_tokens(&nc_browser, &integration).await;

    let response = pair
        .client
        .get(format!("{}/api/v3/users/me", pair.openproject.url))
        .bearer_auth(&op_tokens.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = pair
        .client
        .get(format!("{}/ocs/v2.php/cloud/user", pair.nextcloud.url))
        .header("OCS-APIRequest", "true")
        .bearer_auth(&nc_tokens.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, refreshed) = json_of(
        pair.client
            .post(format!("{}/oauth/token", pair.openproject.url))
            .basic_auth(
                &integration.openproject_client_id,
                Some(&integration.openproject_client_secret),
            )
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", op_tokens.refresh_token.as_str()),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, nc_refreshed) = json_of(
        pair.client
            .post(format!(
                "{}/index.php/apps/oauth2/api/v1/token",
                pair.nextcloud.url
            ))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", nc_tokens.refresh_token.as_str()),
                ("client_id", integration.nextcloud_client_id.as_str()),
                (
                    "client_secret",
                    integration.nextcloud_client_secret.as_str(),
                ),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Let the last lines reach the files.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let secrets = [
        OPS_ADMIN_PASSWORD.to_string(),
        NCOA_ADMIN_PASSWORD.to_string(),
        integration.openproject_client_secret.clone(),
        integration.nextcloud_client_secret.clone(),
        op_tokens.access_token.clone(),
        op_tokens.refresh_token.clone(),
        nc_tokens.access_token.clone(),
        nc_tokens.refresh_token.clone(),
        refreshed["access_token"].as_str().unwrap().to_string(),
        refreshed["refresh_token"].as_str().unwrap().to_string(),
        nc_refreshed["access_token"].as_str().unwrap().to_string(),
        nc_refreshed["refresh_token"].as_str().unwrap().to_string(),
    ];
    for log in &logs {
        let text = std::fs::read_to_string(log).expect("log readable");
        assert!(
            text.contains("/oauth/token") || text.contains("/apps/oauth2/api/v1/token"),
            "debug logging reached {}: {text}",
            log.display()
        );
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{} holds a secret",
                log.display()
            );
        }
        assert!(
            !text.contains("code="),
            "no query strings with codes: {}",
            log.display()
        );
        assert!(
            !text.contains("Basic "),
            "no Authorization header: {}",
            log.display()
        );
        assert!(
            !text.contains("Bearer "),
            "no Authorization header: {}",
            log.display()
        );
    }
    let _ = std::fs::remove_dir_all(logs[0].parent().expect("log folder"));
}

/// A direct-download link is a bearer credential in the URL path (nextcloud-openproject-app.md
/// §8): the request log shows the path with its token replaced.
#[tokio::test]
async fn direct_download_tokens_never_appear_in_request_logs() {
    let (pair, logs) = spawn_pair_logging("info");
    let uploaded = pair
        .nc(reqwest::Method::PUT, "/remote.php/dav/files/admin/plan.txt")
        .body("the plan")
        .send()
        .await
        .unwrap();
    assert!(uploaded.status().is_success(), "{}", uploaded.status());
    let file_id: i64 = uploaded.headers()["OC-FileId"]
        .to_str()
        .unwrap()
        .trim_start_matches('0')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap();
    let (status, body) = json_of(
        pair.nc(
            reqwest::Method::POST,
            "/ocs/v2.php/apps/dav/api/v1/direct?format=json",
        )
        .header("OCS-APIRequest", "true")
        .json(&serde_json::json!({"fileId": file_id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["ocs"]["data"]["url"].as_str().unwrap().to_string();
    let token = url.rsplit('/').next().unwrap().to_string();
    assert!(token.len() >= 32, "{url}");
    let response = pair.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let named = format!(
        "{}/index.php/apps/integration_openproject/direct/{token}/plan.txt",
        pair.nextcloud.url
    );
    assert_eq!(
        pair.client.get(&named).send().await.unwrap().status(),
        StatusCode::OK
    );

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let text = std::fs::read_to_string(&logs[1]).expect("log readable");
    assert!(
        text.contains("/remote.php/direct/***"),
        "the request was logged: {text}"
    );
    assert!(!text.contains(&token), "the token was logged");
    let _ = std::fs::remove_dir_all(logs[0].parent().expect("log folder"));
}

/// A direct-upload link is a bearer credential in the URL path too (nextcloud-openproject-app.md
/// §10.1): neither the token's answer nor the upload's request line shows it.
#[tokio::test]
async fn direct_upload_tokens_never_appear_in_request_logs() {
    let (pair, logs) = spawn_pair_logging("debug");
    let listing = pair
        .nc(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            "/remote.php/dav/files/admin/",
        )
        .header("Depth", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status().as_u16(), 207);
    let root = listing.text().await.unwrap();
    let start = root.find("<oc:fileid>").expect("a file id") + "<oc:fileid>".len();
    let folder_id: i64 = root[start..start + root[start..].find('<').unwrap()]
        .parse()
        .unwrap();
    let (status, body) = json_of(
        pair.nc(
            reqwest::Method::POST,
            "/index.php/apps/integration_openproject/direct-upload-token",
        )
        .json(&serde_json::json!({"folder_id": folder_id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"the plan".to_vec()).file_name("plan.txt"),
    );
    let response = pair
        .client
        .post(format!(
            "{}/index.php/apps/integration_openproject/direct-upload/{token}",
            pair.nextcloud.url
        ))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let text = std::fs::read_to_string(&logs[1]).expect("log readable");
    assert!(
        text.contains("/direct-upload/***"),
        "the request was logged: {text}"
    );
    assert!(!text.contains(&token), "the token was logged");
    let _ = std::fs::remove_dir_all(logs[0].parent().expect("log folder"));
}
