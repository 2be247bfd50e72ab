//! Users connecting in both directions through the real login and consent pages of both
//! services (spec/oauth.md §4–§5, flows.md §4–§5), and what resets do to those connections.

use integration_tests::{
    flows::{
        connect_nextcloud_user_to_openproject, connect_openproject_user_to_nextcloud,
        nextcloud_settings, request_token,
    },
    json_of, spawn_pair, Browser, Integration, Pair, ADMIN, APP, NCOA_ADMIN_PASSWORD,
    OPS_ADMIN_PASSWORD,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

const ALICE_PASSWORD: &str = "alice-password-1";

async fn authorization_state(pair: &Pair, browser: &Browser, storage_id: i64) -> String {
    let (status, storage) = json_of(
        browser
            .client()
            .get(format!(
                "{}/api/v3/storages/{storage_id}",
                pair.openproject.url
            ))
            .header("X-Requested-With", "XMLHttpRequest"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{storage}");
    storage["_links"]["authorizationState"]["title"]
        .as_str()
        .expect("a title")
        .to_string()
}

#[tokio::test]
async fn a_nextcloud_user_connects_to_openproject_through_login_and_consent() {
    let pair = spawn_pair();
    pair.set_up_integration().await;
    let (status, _) = json_of(pair.op(Method::POST, "/api/v3/users").json(&json!({
        "login": "alice", "password": ALICE_PASSWORD, "firstName": "Alice", "lastName": "Example",
        "email": "alice@example.com"})))
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = json_of(
        pair.nc(Method::POST, "/ocs/v2.php/cloud/users?format=json")
            .header("OCS-APIRequest", "true")
            .form(&[("userid", "alice"), ("password", ALICE_PASSWORD)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let browser = Browser::new();
    pair.sign_in_to_nextcloud(&browser, "alice", ALICE_PASSWORD)
        .await;
    let back =
        connect_nextcloud_user_to_openproject(&pair, &browser, "alice", ALICE_PASSWORD).await;
    assert_eq!(
        back.url.path(),
        "/index.php/settings/user/openproject",
        "{}",
        back.url
    );
    assert!(back.body.contains("id=\"oauth-success\""), "{}", back.body);
    assert!(back.body.contains("Alice Example"), "{}", back.body);
    // The result is shown once.
    let again = nextcloud_settings(&pair, &browser).await;
    assert!(!again.body.contains("id=\"oauth-success\""));
    assert!(again.body.contains("Connected as"));

    // Disconnecting clears the connection.
    let token = request_token(&again);
    let (status, body) = json_of(
        browser
            .client()
            .put(format!("{}{APP}/config", pair.nextcloud.url))
            .header("requesttoken", &token)
            .json(&json!({"values": {"token": ""}})),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"user_name": ""})));
    let after = nextcloud_settings(&pair, &browser).await;
    assert!(after.body.contains("Not connected to OpenProject."));

    // Disconnecting revoked the grant at OpenProject, so connecting again asks for consent
    // once more (the OpenProject session is still there: no login).
    let back =
        connect_nextcloud_user_to_openproject(&pair, &browser, "alice", ALICE_PASSWORD).await;
    assert!(back.body.contains("id=\"oauth-success\""), "{}", back.body);
}

#[tokio::test]
async fn an_openproject_user_connects_to_nextcloud_and_resets_end_the_connection() {
    let pair = spawn_pair();
    let integration = pair.set_up_integration().await;
    let browser = Browser::new();
    pair.sign_in_to_openproject(&browser, ADMIN, OPS_ADMIN_PASSWORD)
        .await;
    assert_eq!(
        authorization_state(&pair, &browser, integration.storage_id).await,
        "Not connected"
    );

    let home = connect_openproject_user_to_nextcloud(
        &pair,
        &browser,
        &integration,
        ADMIN,
        NCOA_ADMIN_PASSWORD,
    )
    .await;
    assert_eq!(home.url.as_str(), format!("{}/", pair.openproject.url));
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(
        authorization_state(&pair, &browser, integration.storage_id).await,
        "Connected"
    );
    // The health report now finds the admin's token and Nextcloud accepting it.
    let (status, health) = json_of(
        browser
            .client()
            .get(format!(
                "{}/api/v3/storages/{}/health",
                pair.openproject.url, integration.storage_id
            ))
            .header("X-Requested-With", "XMLHttpRequest"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "healthy", "{health}");
    assert_eq!(
        health["groups"][1],
        json!({"key": "authentication", "checks": [
            {"key": "existing_token", "state": "success", "code": null, "message": null},
            {"key": "user_bound_request", "state": "success", "code": null, "message": null}]})
    );

    // Already connected: ensure_connection goes straight to the destination.
    let direct = browser
        .get(&format!(
            "{}/oauth_clients/{}/ensure_connection?storage_id={}&destination_url=/api/v3",
            pair.openproject.url, integration.nextcloud_client_id, integration.storage_id
        ))
        .await;
    assert_eq!(direct.redirects.len(), 1, "{:?}", direct.redirects);

    // A second POST /setup rotates Nextcloud's client: the token OpenProject holds dies, the
    // refresh fails, and the user is told so once, then is not connected.
    let (status, setup) = json_of(
        pair.nc(Method::PATCH, &format!("{APP}/setup"))
            .json(&json!({"values": {"default_enable_navigation": true}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    assert_eq!(
        authorization_state(&pair, &browser, integration.storage_id).await,
        "Connected",
        "a PATCH does not rotate the client"
    );
    let (status, rotated) = json_of(pair.nc(Method::POST, &format!("{APP}/nc-oauth"))).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(
        authorization_state(&pair, &browser, integration.storage_id).await,
        "Authorization failed"
    );
    assert_eq!(
        authorization_state(&pair, &browser, integration.storage_id).await,
        "Not connected"
    );

    // The admin hands the new values to OpenProject; the user connects again.
    let new_client_id = rotated["nextcloud_client_id"].as_str().unwrap().to_string();
    let (status, _) = json_of(
        pair.op(
            Method::POST,
            &format!(
                "/api/v3/storages/{}/oauth_client_credentials",
                integration.storage_id
            ),
        )
        .json(
            &json!({"clientId": new_client_id, "clientSecret": rotated["nextcloud_client_secret"]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let integration = Integration {
        nextcloud_client_id: new_client_id,
        ..integration
    };
    connect_openproject_user_to_nextcloud(
        &pair,
        &browser,
        &integration,
        ADMIN,
        NCOA_ADMIN_PASSWORD,
    )
    .await;
    assert_eq!(
        authorization_state(&pair, &browser, integration.storage_id).await,
        "Connected"
    );

    // DELETE /setup on Nextcloud: every token it issued dies at once.
    let (status, body) = json_of(pair.nc(Method::DELETE, &format!("{APP}/setup"))).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": true})));
    assert_eq!(
        authorization_state(&pair, &browser, integration.storage_id).await,
        "Authorization failed"
    );
}
