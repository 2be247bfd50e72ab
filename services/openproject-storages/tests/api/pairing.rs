//! Pairing by one code (Extension, issue 20), OpenProject's half: the code, its single-use nonce
//! and the keys that verify it.

use reqwest::Method;
use serde_json::{json, Value};
use service_kit::time::now_millis;
use storage_protocol::pairing::{
    JwkSet, PairingCode, PairingExchange, Refusal, SigningKey, EXCHANGE_PATH, JWKS_PATH,
};

use crate::{
    fake_nextcloud::{Behaviour, FakeNextcloud},
    helpers::{body, spawn_app, TestApp, PASSWORD},
};

async fn jwks(app: &TestApp) -> JwkSet {
    let response = app.get(JWKS_PATH).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=300",
        "Nextcloud may cache the keys for a while"
    );
    response.json().await.unwrap()
}

async fn pairing_code(app: &TestApp, storage_id: i64) -> reqwest::Response {
    app.admin_json(
        Method::POST,
        &format!("/api/v3/storages/{storage_id}/pairing_code"),
        &serde_json::json!({}),
    )
    .await
}

/// A storage at a healthy Nextcloud (the host check passes), as created.
async fn storage_at_nextcloud(app: &TestApp) -> (FakeNextcloud, Value) {
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: String::new(),
    });
    let storage = app.create_storage("Cloud", &nextcloud.url).await;
    (nextcloud, storage)
}

/// A new code for the storage, as the admin copies it.
async fn issued_code(app: &TestApp, storage_id: i64) -> String {
    let response = pairing_code(app, storage_id).await;
    assert_eq!(response.status(), 201);
    body(response).await["code"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_admin_gets_a_code_that_the_published_keys_verify() {
    let app = spawn_app().await;
    let (_nextcloud, storage) = storage_at_nextcloud(&app).await;
    let storage_id = storage["id"].as_i64().unwrap();
    // No code yet: nothing to publish.
    assert!(jwks(&app).await.keys.is_empty());

    let started = now_millis() / 1000;
    let response = pairing_code(&app, storage_id).await;
    assert_eq!(response.status(), 201);
    let answer = body(response).await;
    assert_eq!(answer["_type"], "PairingCode");
    let code = PairingCode(answer["code"].as_str().unwrap().to_string());
    assert_eq!(code.claimed_issuer().unwrap(), app.base);

    let keys = jwks(&app).await;
    assert_eq!(keys.keys.len(), 1);
    let claims = code.verify(&keys, &app.base, started).unwrap();
    assert_eq!(claims.storage_id, storage_id);
    assert!((claims.exp - started - 600).abs() <= 2, "ten minutes");
    assert_eq!(
        answer["expiresAt"].as_str().unwrap().len(),
        "2026-12-04T10:00:00.000Z".len()
    );
    assert_eq!(
        code.verify(&keys, &app.base, claims.exp),
        Err(Refusal::Expired)
    );

    // A second code: another nonce, the same key (peer-link's tests check the seed is sealed).
    let second = PairingCode(issued_code(&app, storage_id).await);
    let second_claims = second
        .verify(&jwks(&app).await, &app.base, started)
        .unwrap();
    assert_ne!(second_claims.jti, claims.jti);
    assert_eq!(jwks(&app).await, keys);
    assert_eq!(keys.keys.len(), 1);
}

#[tokio::test]
async fn only_admins_get_codes_and_only_for_storages_that_exist() {
    let app = spawn_app().await;
    let (_nextcloud, storage) = storage_at_nextcloud(&app).await;
    let storage_id = storage["id"].as_i64().unwrap();
    app.create_user("bo").await;
    let as_member = app
        .client
        .post(app.url(&format!("/api/v3/storages/{storage_id}/pairing_code")))
        .basic_auth("bo", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    // A storage not enabled in any of the user's projects is not visible to them (§6.1).
    assert_eq!(as_member.status(), 404);
    assert_eq!(pairing_code(&app, storage_id + 1).await.status(), 404);
    let anonymous = app
        .client
        .post(app.url(&format!("/api/v3/storages/{storage_id}/pairing_code")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(jwks(&app).await.keys.is_empty(), "no code was issued");
}

/// What Nextcloud sends for `code`, as the Nextcloud at `nextcloud_url`.
fn exchange_body(code: &str, nextcloud_url: &str) -> PairingExchange {
    PairingExchange {
        code: code.to_string(),
        nextcloud_url: nextcloud_url.to_string(),
        client_id: "nc-client-id".into(),
        client_secret: "nc-client-secret".into(),
        nextcloud_key: SigningKey::from_seed("nc-1", &[9; 32]).public_jwk(),
    }
}

async fn send_exchange(app: &TestApp, body: &impl serde::Serialize) -> reqwest::Response {
    app.client
        .post(app.url(EXCHANGE_PATH))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn storage(app: &TestApp, id: i64) -> Value {
    body(
        app.as_admin(app.get(&format!("/api/v3/storages/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_exchange_configures_both_halves_once_and_only_for_the_storages_host() {
    let app = spawn_app().await;
    let (nextcloud, created) = storage_at_nextcloud(&app).await;
    let storage_id = created["id"].as_i64().unwrap();
    let first_client_id = created["_embedded"]["oauthApplication"]["clientId"].clone();
    let code = issued_code(&app, storage_id).await;

    // Another Nextcloud than the storage's: refused, and the code stays usable.
    let elsewhere =
        send_exchange(&app, &exchange_body(&code, "https://elsewhere.example.com")).await;
    assert_eq!(elsewhere.status(), 422);
    let refusal = body(elsewhere).await;
    assert_eq!(
        refusal["message"],
        format!("The pairing code is for the storage at {}/.", nextcloud.url)
    );
    assert_eq!(storage(&app, storage_id).await["configured"], false);

    // The storage's Nextcloud: both halves stored, OpenProject's new values answered once.
    let paired = send_exchange(&app, &exchange_body(&code, &nextcloud.url)).await;
    assert_eq!(paired.status(), 200);
    let answer = body(paired).await;
    assert_eq!(answer["storageId"], storage_id);
    let shown = storage(&app, storage_id).await;
    assert_eq!(shown["configured"], true);
    assert_eq!(
        shown["_embedded"]["oauthClientCredentials"]["clientId"],
        "nc-client-id"
    );
    assert_eq!(
        shown["_embedded"]["oauthApplication"]["clientId"],
        answer["clientId"]
    );
    assert_ne!(
        answer["clientId"], first_client_id,
        "a new OAuth application"
    );
    assert_eq!(answer["clientSecret"].as_str().unwrap().len(), 43);
    assert!(shown["_embedded"]["oauthApplication"]["clientSecret"].is_null());

    // The same code again: used up.
    let replayed = send_exchange(&app, &exchange_body(&code, &nextcloud.url)).await;
    assert_eq!(replayed.status(), 401);
    assert_eq!(body(replayed).await["message"], Refusal::Used.to_string());
}

#[tokio::test]
async fn codes_that_do_not_verify_and_malformed_exchanges_are_refused() {
    let app = spawn_app().await;
    let (nextcloud, storage) = storage_at_nextcloud(&app).await;
    let storage_id = storage["id"].as_i64().unwrap();
    let issued = issued_code(&app, storage_id).await;

    // Signed by a key this OpenProject does not have, claiming to be it.
    let now = now_millis() / 1000;
    let forged = PairingCode::issue(
        &SigningKey::from_seed("op-forged", &[1; 32]),
        &app.base,
        storage_id,
        "nonce",
        now,
    )
    .unwrap();
    let response = send_exchange(&app, &exchange_body(&forged.0, &nextcloud.url)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        body(response).await["message"],
        Refusal::UnknownKey(app.base.clone()).to_string()
    );

    // The issued code with one character inside its signature changed.
    let mut altered: Vec<char> = issued.chars().collect();
    let at = altered.len() - 10;
    altered[at] = if altered[at] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    let response = send_exchange(&app, &exchange_body(&altered, &nextcloud.url)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        body(response).await["message"],
        Refusal::BadSignature.to_string()
    );

    // Not the exchange's shape: 400, as OpenProject answers a malformed body.
    for malformed in [
        json!({"code": issued}),
        json!({"code": issued, "nextcloudUrl": nextcloud.url, "clientId": "a",
               "clientSecret": "b", "nextcloudKey": {}, "extra": 1}),
        json!([]),
    ] {
        let response = send_exchange(&app, &malformed).await;
        assert_eq!(response.status(), 400, "{malformed}");
    }

    // After all that, the issued code still pairs.
    let response = send_exchange(&app, &exchange_body(&issued, &nextcloud.url)).await;
    assert_eq!(response.status(), 200);
}
