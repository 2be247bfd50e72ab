//! Direct download links (spec §8) as OpenProject makes and browsers follow them.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, status_and_json, TestApp, APP};

async fn direct(app: &TestApp, user: &str, version: &str, body: Value) -> (u16, Value) {
    let response = app
        .dav(
            "POST",
            user,
            &format!("/ocs/{version}.php/apps/dav/api/v1/direct"),
        )
        .header("OCS-APIRequest", "true")
        .header("Accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

#[tokio::test]
async fn a_link_serves_the_file_until_it_is_gone() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    app.add_user("bob", &[]).await;
    let (_, id) = app.upload("alice", "plan.pdf", "abc").await;
    let (status, body) = direct(&app, "alice", "v2", json!({"fileId": id})).await;
    assert_eq!(status, 200);
    let url = body["ocs"]["data"]["url"].as_str().unwrap().to_string();
    let prefix = format!("{}/remote.php/direct/", app.address);
    assert!(url.starts_with(&prefix), "{url}");
    let token = url[prefix.len()..].to_string();
    assert_eq!(token.len(), 60);
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));

    // Public, with the file's name; the app route names it as asked.
    let response = app.api.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["Content-Disposition"],
        "attachment; filename=\"plan.pdf\""
    );
    assert_eq!(response.text().await.unwrap(), "abc");
    let response = app
        .get(&format!("{APP}/direct/{token}/my%20plan.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["Content-Disposition"],
        "attachment; filename=\"my plan.pdf\""
    );

    // Once the file is deleted, the link is dead.
    app.dav("DELETE", "alice", "/remote.php/dav/files/alice/plan.pdf")
        .send()
        .await
        .unwrap();
    let response = app.api.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let response = app
        .get(&format!("{APP}/direct/{token}/plan.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let page = response.text().await.unwrap();
    assert!(page.contains("<title>Direct download error</title>"));
    assert!(page.contains("This direct download link is invalid or has expired"));
    let unknown = app
        .api
        .get(app.url(&format!("/remote.php/direct/{}", "x".repeat(60))))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    // Whatever the token looks like, a dead link is a 404, never a 400.
    for path in [
        "/remote.php/direct/abc".to_string(),
        "/remote.php/direct/123".to_string(),
        "/remote.php/direct/%ZZ".to_string(),
        format!("{APP}/direct/abc/x.txt"),
        format!("{APP}/direct/123/%ZZ"),
    ] {
        let response = app.api.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn refusals() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    app.add_user("bob", &[]).await;
    let (_, id) = app.upload("alice", "plan.pdf", "abc").await;
    app.dav("MKCOL", "alice", "/remote.php/dav/files/alice/F")
        .send()
        .await
        .unwrap();
    let folder = id + 1;
    for (user, body, code, message) in [
        ("bob", json!({"fileId": id}), 404, "File not found"),
        ("alice", json!({"fileId": 999999}), 404, "File not found"),
        (
            "alice",
            json!({"fileId": folder}),
            400,
            "Direct download only works for files",
        ),
        (
            "alice",
            json!({"fileId": id, "expirationTime": 86401}),
            400,
            "Expiration time cannot be greater than 24 hours",
        ),
        (
            "alice",
            json!({"fileId": id, "expirationTime": 0}),
            400,
            "Expiration time should be greater than 0",
        ),
        ("alice", json!({}), 400, "fileId must be an integer"),
        ("alice", json!({"fileId": "abc"}), 404, "File not found"),
        ("alice", json!({"fileId": "12abc"}), 404, "File not found"),
        ("alice", json!({"fileId": true}), 404, "File not found"),
    ] {
        let (status, response) = direct(&app, user, "v2", body.clone()).await;
        assert_eq!(status, code, "{body}");
        assert_eq!(response["ocs"]["meta"]["message"], message);
        let (status, response) = direct(&app, user, "v1", body.clone()).await;
        assert_eq!(status, 200);
        assert_eq!(response["ocs"]["meta"]["statuscode"], code);
    }
    // A form body works too; expirationTime at most a day.
    let response = app
        .dav("POST", "alice", "/ocs/v2.php/apps/dav/api/v1/direct")
        .header("OCS-APIRequest", "true")
        .header("Accept", "application/json")
        .form(&[
            ("fileId", id.to_string()),
            ("expirationTime", "86400".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
