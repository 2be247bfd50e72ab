//! Pairing by one code (Extension, issue 20), OpenProject's half: the code, its single-use nonce
//! and the keys that verify it.

use base64::{engine::general_purpose::STANDARD, Engine};
use openproject_storages::db::pairing;
use reqwest::Method;
use service_kit::time::now_millis;
use storage_protocol::pairing::{JwkSet, PairingCode, Refusal, JWKS_PATH};

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

#[tokio::test]
async fn an_admin_gets_a_code_that_the_published_keys_verify() {
    let app = spawn_app().await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: String::new(),
    });
    let storage = app.create_storage("Cloud", &nextcloud.url).await;
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

    // A second code: another nonce, the same key; the key's seed is sealed at rest.
    let second = PairingCode(
        body(pairing_code(&app, storage_id).await).await["code"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let second_claims = second
        .verify(&jwks(&app).await, &app.base, started)
        .unwrap();
    assert_ne!(second_claims.jti, claims.jti);
    assert_eq!(jwks(&app).await, keys);
    let rows = pairing::keys(&mut app.db.get().unwrap()).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].seed_sealed.starts_with("v1.") && STANDARD.decode(&rows[0].seed_sealed).is_err(),
        "the seed is stored sealed with the secret box"
    );
}

#[tokio::test]
async fn only_admins_get_codes_and_only_for_storages_that_exist() {
    let app = spawn_app().await;
    let nextcloud = FakeNextcloud::start(Behaviour::Healthy {
        app_password: String::new(),
    });
    let storage_id = app.create_storage("Cloud", &nextcloud.url).await["id"]
        .as_i64()
        .unwrap();
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
