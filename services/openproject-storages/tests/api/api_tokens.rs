use crate::helpers::{body, fixture, spawn_app, PASSWORD};

#[tokio::test]
async fn api_tokens_authenticate_until_replaced_or_deleted() {
    let app = spawn_app().await;
    app.create_user("bo").await;
    let created = app
        .client
        .post(app.url("/api/v3/users/me/api_token"))
        .basic_auth("bo", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let token = body(created).await;
    assert_eq!(token["_type"], "ApiToken");
    let first = token["token"].as_str().unwrap().to_string();
    assert_eq!(first.len(), 64);
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()));

    let me = body(
        app.get("/api/v3/users/me")
            .basic_auth("apikey", Some(&first))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["login"], "bo");

    let by_api_key = app
        .client
        .post(app.url("/api/v3/users/me/api_token"))
        .basic_auth("apikey", Some(&first))
        .send()
        .await
        .unwrap();
    assert_eq!(by_api_key.status(), 403, "an API key cannot mint API keys");
    assert_eq!(
        body(by_api_key).await,
        fixture("op_error_missing_permission")
    );

    let replaced = app
        .client
        .post(app.url("/api/v3/users/me/api_token"))
        .basic_auth("bo", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    let second = body(replaced).await["token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    let old = app
        .get("/api/v3/users/me")
        .basic_auth("apikey", Some(&first))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401);

    let deleted = app
        .client
        .delete(app.url("/api/v3/users/me/api_token"))
        .basic_auth("bo", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = app
        .get("/api/v3/users/me")
        .basic_auth("apikey", Some(&second))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 401);
}
