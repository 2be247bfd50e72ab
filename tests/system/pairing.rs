//! Pairing by one code, and the signed messages that carry replacements, deletes and resets to
//! the other side afterwards (Extension, issue 20): both real processes.

use std::time::Duration;

use integration_tests::{
    flows::{connect_both_ways, ocs, person, project_with_storage},
    json_of, spawn_pair, spawn_pair_logging, Pair, APP, STORAGE_NAME,
};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use service_kit::{crypto::SecretKey, db::Db, time::now_millis};
use storage_protocol::{
    client::{ClientError, NextcloudApi},
    integration_app::CheckAdminConfig,
    pairing::{
        messages, PairingClaims, PairingCode, PeerEvent, PeerMessage, Refusal, SigningKey,
        NEXTCLOUD_MESSAGES_PATH,
    },
    storages::StorageWrite,
};

/// OpenProject's signing key, read as OpenProject reads it: to forge what only it could sign
/// (an expired code, a stale message) and check Nextcloud refuses them for the right reason.
fn openproject_key(pair: &Pair) -> SigningKey {
    let secret_box = SecretKey::from_base64(pair.openproject.env_var("OPS_SECRET_KEY").unwrap())
        .unwrap()
        .secret_box();
    let db = Db::connect(&pair.openproject.database().url).unwrap();
    peer_link::keys::signing_key(&mut db.get().unwrap(), &secret_box, "op", now_millis()).unwrap()
}

/// The `error` Nextcloud answered a failed call with.
fn nextcloud_error(error: ClientError) -> String {
    match error {
        ClientError::Status { status, body } => {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            serde_json::from_str::<Value>(&body).unwrap()["error"]
                .as_str()
                .unwrap()
                .to_string()
        }
        other => panic!("an error answer, not {other}"),
    }
}

/// Why Nextcloud refused to pair with `code` confirming `openproject_url`.
async fn pairing_refused(nextcloud: &NextcloudApi, code: &str, openproject_url: &str) -> String {
    nextcloud_error(
        nextcloud
            .pair_with_openproject(code, openproject_url)
            .await
            .unwrap_err(),
    )
}

async fn nextcloud_configured(pair: &Pair) -> bool {
    let (status, check) = json_of(pair.nc(Method::GET, &format!("{APP}/check-admin-config"))).await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_value::<CheckAdminConfig>(check)
        .unwrap()
        .config_status_without_project_folder
}

/// The client id Nextcloud sends its users to OpenProject with: `op-oauth-url`'s `client_id`.
async fn nextcloud_uses_openproject_client(pair: &Pair) -> String {
    let (status, url) = json_of(pair.nc(Method::GET, &format!("{APP}/op-oauth-url"))).await;
    assert_eq!(status, StatusCode::OK, "{url}");
    url::Url::parse(url.as_str().unwrap())
        .unwrap()
        .query_pairs()
        .find_map(|(k, v)| (k == "client_id").then(|| v.into_owned()))
        .unwrap()
}

/// Whether the last message OpenProject sent for `storage_id` was delivered.
async fn openproject_delivered(pair: &Pair, storage_id: i64) -> bool {
    pair.openproject_admin()
        .storage_pairing(storage_id)
        .await
        .unwrap()
        .last_exchange
        .is_some_and(|exchange| exchange.state == "delivered")
}

/// Waits until `done` holds (the outboxes deliver within a second or two in tests).
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("not within 30 s: {what}");
}

#[tokio::test]
async fn one_code_configures_both_sides_and_users_connect_both_ways() {
    let pair = spawn_pair();
    assert!(!nextcloud_configured(&pair).await);
    let integration = pair.pair_by_code().await;

    // Both sides configured, exactly as after the manual steps.
    assert!(nextcloud_configured(&pair).await);
    let storage = pair
        .openproject_admin()
        .storage(integration.storage_id)
        .await
        .unwrap();
    assert!(storage.configured, "{storage:?}");
    assert_eq!(
        nextcloud_uses_openproject_client(&pair).await,
        integration.openproject_client_id
    );
    let nextcloud = pair.nextcloud_admin().pairing().await.unwrap();
    assert!(nextcloud.paired);
    assert_eq!(
        nextcloud.openproject_url.as_deref(),
        Some(pair.openproject.url.as_str())
    );
    assert_eq!(nextcloud.storage_id, Some(integration.storage_id));
    assert_eq!(nextcloud.last_exchange, None);
    let openproject = pair
        .openproject_admin()
        .storage_pairing(integration.storage_id)
        .await
        .unwrap();
    assert!(openproject.paired);
    assert_eq!(
        openproject.nextcloud_url.as_deref(),
        Some(pair.nextcloud.url.as_str())
    );
    assert_eq!(openproject.reset_at, None);

    // Users connect both ways with the values the services exchanged.
    let project = project_with_storage(&pair, integration.storage_id, "Paired").await;
    let alice = person(&pair, "alice", project, "Member").await;
    connect_both_ways(&pair, &integration, &alice).await;
    let (status, notifications) = json_of(ocs(&pair, &alice, Method::GET, "/notifications")).await;
    assert_eq!(status, StatusCode::OK, "{notifications}");
    let (status, storage) = json_of(
        alice
            .browser
            .client()
            .get(format!(
                "{}/api/v3/storages/{}",
                pair.openproject.url, integration.storage_id
            ))
            .header("X-Requested-With", "XMLHttpRequest"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        storage["_links"]["authorizationState"]["title"],
        "Connected"
    );
}

#[tokio::test]
async fn expired_reused_altered_and_misdirected_codes_are_refused_with_clear_messages() {
    let pair = spawn_pair();
    let openproject = pair.openproject_admin();
    let nextcloud = pair.nextcloud_admin();
    let storage = openproject
        .create_storage(&StorageWrite::nextcloud(STORAGE_NAME, &pair.nextcloud.url))
        .await
        .unwrap();
    let code = openproject.pairing_code(storage.id).await.unwrap().code;
    let op = pair.openproject.url.as_str();

    // Expired: signed by OpenProject's own key, eleven minutes ago.
    let key = openproject_key(&pair);
    let expired = PairingCode::issue(&key, op, storage.id, "n-1", now_millis() / 1000 - 660)
        .unwrap()
        .0;
    for error in [
        nextcloud.inspect_pairing_code(&expired).await.unwrap_err(),
        nextcloud
            .pair_with_openproject(&expired, op)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(nextcloud_error(error), Refusal::Expired.to_string());
    }

    // Altered: another storage id in the payload, OpenProject's signature kept.
    let parts: Vec<&str> = code.split('.').collect();
    let mut claims: PairingClaims = PairingCode(code.clone()).unverified_claims().unwrap();
    claims.storage_id += 1;
    let payload = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        serde_json::to_vec(&claims).unwrap(),
    );
    let altered = format!("{}.{payload}.{}", parts[0], parts[2]);
    assert_eq!(
        pairing_refused(&nextcloud, &altered, op).await,
        Refusal::BadSignature.to_string()
    );

    // Pointing at another URL: someone else's code names their server. Nextcloud shows it, and
    // confirming OpenProject's URL instead does not send anything there.
    let elsewhere = "http://127.0.0.1:9";
    let foreign = SigningKey::from_seed("x-1", &[3; 32]);
    let misdirected =
        PairingCode::issue(&foreign, elsewhere, storage.id, "n-2", now_millis() / 1000)
            .unwrap()
            .0;
    let found = nextcloud.inspect_pairing_code(&misdirected).await.unwrap();
    assert_eq!(found.openproject_url, elsewhere);
    assert_eq!(
        pairing_refused(&nextcloud, &misdirected, op).await,
        messages::not_confirmed(elsewhere, op)
    );
    let unreachable = pairing_refused(&nextcloud, &misdirected, elsewhere).await;
    assert!(
        unreachable.starts_with(&format!("OpenProject at {elsewhere} could not be reached")),
        "{unreachable}"
    );
    // Not a code at all.
    assert_eq!(
        nextcloud_error(nextcloud.inspect_pairing_code("hello").await.unwrap_err()),
        Refusal::Malformed.to_string()
    );

    // Nothing of the refused attempts was stored on either side.
    assert!(!nextcloud.pairing().await.unwrap().paired);
    assert!(!nextcloud_configured(&pair).await);
    assert!(
        !openproject
            .storage_pairing(storage.id)
            .await
            .unwrap()
            .paired
    );

    // The real code works once; used again it is refused by Nextcloud itself, and by
    // OpenProject when another Nextcloud tries it.
    nextcloud.pair_with_openproject(&code, op).await.unwrap();
    assert_eq!(
        pairing_refused(&nextcloud, &code, op).await,
        Refusal::Used.to_string()
    );
    let other = integration_tests::spawn_nextcloud();
    let other_admin = NextcloudApi::new(
        pair.client.clone(),
        &other.url,
        integration_tests::ADMIN,
        integration_tests::NCOA_ADMIN_PASSWORD,
    );
    assert_eq!(
        pairing_refused(&other_admin, &code, op).await,
        messages::refused_by_openproject(&Refusal::Used.to_string())
    );
}

#[tokio::test]
async fn forged_stale_and_replayed_messages_change_nothing() {
    let pair = spawn_pair();
    let integration = pair.pair_by_code().await;
    let key = openproject_key(&pair);
    let op = pair.openproject.url.as_str();
    let post = |signed: String| {
        pair.client
            .post(format!("{}{NEXTCLOUD_MESSAGES_PATH}", pair.nextcloud.url))
            .header("Content-Type", "application/jwt")
            .body(signed)
    };
    let replace = |id: &str| {
        PeerMessage::new(
            op,
            id,
            now_millis() / 1000,
            PeerEvent::OAuthValuesReplaced {
                client_id: format!("forged-{id}"),
                client_secret: "forged-secret".into(),
            },
        )
    };

    // Signed by a key OpenProject does not publish.
    let foreign = SigningKey::from_seed(key.kid(), &[3; 32]);
    let (status, body) = json_of(post(replace("m-1").sign(&foreign).unwrap())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], Refusal::BadSignature.of_message());
    // Stale: signed by OpenProject's key ten minutes ago.
    let mut stale = replace("m-2");
    stale.iat -= 600;
    let (status, body) = json_of(post(stale.sign(&key).unwrap())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], Refusal::StaleTimestamp.of_message());
    assert_eq!(
        nextcloud_uses_openproject_client(&pair).await,
        integration.openproject_client_id
    );

    // A genuine message applies once; its replay is acknowledged and ignored, even after
    // the values changed again.
    let genuine = replace("m-3").sign(&key).unwrap();
    let response = post(genuine.clone()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(nextcloud_uses_openproject_client(&pair).await, "forged-m-3");
    let response = post(replace("m-4").sign(&key).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = post(genuine).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(nextcloud_uses_openproject_client(&pair).await, "forged-m-4");

    // OpenProject's endpoint refuses what Nextcloud did not sign.
    let (status, body) = json_of(
        pair.client
            .post(format!(
                "{}/api/v3/storages/{}/peer_messages",
                pair.openproject.url, integration.storage_id
            ))
            .header("Content-Type", "application/jwt")
            .body(replace("m-5").sign(&foreign).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body["errorIdentifier"],
        "urn:openproject-org:api:v3:errors:Unauthenticated"
    );
    assert_eq!(
        body["message"],
        Refusal::UnknownKey(pair.nextcloud.url.clone()).of_message()
    );
}

#[tokio::test]
async fn replicas_deliver_each_message_once() {
    let (pair, logs) = spawn_pair_logging("info");
    let integration = pair.pair_by_code().await;
    let replica = pair.openproject.replica();
    let admins = [
        pair.openproject_admin(),
        storage_protocol::client::OpenProjectApi::new(
            pair.client.clone(),
            &replica.url,
            integration_tests::ADMIN,
            integration_tests::OPS_ADMIN_PASSWORD,
        ),
    ];
    let mut last = String::new();
    for round in 0..10 {
        last = admins[round % 2]
            .replace_oauth_application(integration.storage_id)
            .await
            .unwrap()
            .client_id;
    }
    eventually("every message is delivered", || {
        openproject_delivered(&pair, integration.storage_id)
    })
    .await;
    assert_eq!(nextcloud_uses_openproject_client(&pair).await, last);
    let log = std::fs::read_to_string(&logs[1]).unwrap();
    let received: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("message from OpenProject"))
        .collect();
    assert_eq!(received.len(), 10, "{log}");
    assert!(received
        .iter()
        .all(|line| line.contains("\"applied\":true")));
}

#[tokio::test]
async fn a_peer_stopped_during_a_replace_gets_the_new_values_when_it_comes_back() {
    let (mut pair, logs) = spawn_pair_logging("info");
    let integration = pair.pair_by_code().await;
    let openproject = pair.openproject_admin();

    pair.nextcloud.kill();
    let replaced = openproject
        .replace_oauth_application(integration.storage_id)
        .await
        .unwrap();
    eventually(
        "OpenProject reports the message it cannot deliver",
        || async {
            let exchange = openproject
                .storage_pairing(integration.storage_id)
                .await
                .unwrap()
                .last_exchange
                .unwrap();
            exchange.event == "oauth_values_replaced"
                && exchange.state != "delivered"
                && exchange.last_error.is_some()
        },
    )
    .await;

    pair.nextcloud.restart();
    eventually("the message reaches Nextcloud once it is back", || {
        openproject_delivered(&pair, integration.storage_id)
    })
    .await;
    assert_eq!(
        nextcloud_uses_openproject_client(&pair).await,
        replaced.client_id
    );

    // Nextcloud applied it once, whatever number of times it arrived.
    let log = std::fs::read_to_string(&logs[1]).unwrap();
    let applied = log
        .lines()
        .filter(|line| {
            line.contains("message from OpenProject") && line.contains("\"applied\":true")
        })
        .count();
    assert_eq!(applied, 1, "{log}");
}

#[tokio::test]
async fn a_reset_and_a_delete_reach_the_other_side() {
    let pair = spawn_pair();
    let openproject = pair.openproject_admin();
    let nextcloud = pair.nextcloud_admin();

    // A reset on Nextcloud: OpenProject marks the storage as needing setup, and says why.
    let integration = pair.pair_by_code().await;
    nextcloud.reset().await.unwrap();
    assert!(!nextcloud.pairing().await.unwrap().paired);
    eventually("OpenProject hears of the reset", || async {
        openproject
            .storage_pairing(integration.storage_id)
            .await
            .unwrap()
            .reset_at
            .is_some()
    })
    .await;
    let storage = openproject.storage(integration.storage_id).await.unwrap();
    assert!(!storage.configured);
    assert!(storage
        .embedded
        .is_none_or(|embedded| embedded.oauth_client_credentials.is_none()));
    assert!(
        !openproject
            .storage_pairing(integration.storage_id)
            .await
            .unwrap()
            .paired
    );

    // Paired again by a new code; then deleting the storage resets Nextcloud.
    let code = openproject
        .pairing_code(integration.storage_id)
        .await
        .unwrap()
        .code;
    nextcloud
        .pair_with_openproject(&code, &pair.openproject.url)
        .await
        .unwrap();
    assert!(nextcloud_configured(&pair).await);
    assert!(
        openproject
            .storage_pairing(integration.storage_id)
            .await
            .unwrap()
            .paired
    );
    openproject
        .delete_storage(integration.storage_id)
        .await
        .unwrap();
    eventually("Nextcloud hears of the delete", || async {
        !nextcloud.pairing().await.unwrap().paired
    })
    .await;
    assert!(!nextcloud_configured(&pair).await);
}

#[tokio::test]
async fn a_hundred_replaces_in_a_row_end_with_both_sides_agreeing() {
    let pair = spawn_pair();
    let integration = pair.pair_by_code().await;
    let openproject = pair.openproject_admin();
    let nextcloud = pair.nextcloud_admin();
    let (mut last_openproject, mut last_nextcloud) = (String::new(), String::new());
    for _ in 0..50 {
        last_openproject = openproject
            .replace_oauth_application(integration.storage_id)
            .await
            .unwrap()
            .client_id;
        last_nextcloud = nextcloud
            .create_oauth_client()
            .await
            .unwrap()
            .nextcloud_client_id;
    }
    eventually("both outboxes are empty", || async {
        let op = openproject
            .storage_pairing(integration.storage_id)
            .await
            .unwrap();
        let nc = nextcloud.pairing().await.unwrap();
        [op.last_exchange, nc.last_exchange]
            .iter()
            .all(|exchange| exchange.as_ref().is_some_and(|e| e.state == "delivered"))
    })
    .await;
    assert_eq!(
        nextcloud_uses_openproject_client(&pair).await,
        last_openproject
    );
    assert_eq!(
        pair.integration_of(integration.storage_id)
            .await
            .nextcloud_client_id,
        last_nextcloud
    );

    // And the last values work: a user connects both ways.
    let integration = pair.integration_of(integration.storage_id).await;
    let project = project_with_storage(&pair, integration.storage_id, "Agreed").await;
    let bob = person(&pair, "bob", project, "Member").await;
    connect_both_ways(&pair, &integration, &bob).await;
    let (status, _) = json_of(ocs(&pair, &bob, Method::GET, "/notifications")).await;
    assert_eq!(status, StatusCode::OK);
}
