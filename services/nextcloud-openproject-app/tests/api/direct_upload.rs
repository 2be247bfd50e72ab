//! Direct upload (spec §10.1): a token for a folder, then one public multipart POST of a file,
//! readable by a page on another origin.

use nextcloud_openproject_app::db::{direct_uploads, file_nodes};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use service_kit::{crypto, time::now_millis};
use storage_protocol::integration_app::direct_upload::{messages, LIFETIME_SECS};

use crate::helpers::{
    assert_shape, browser, is_alphanumeric, spawn_app, spawn_app_with, status_and_json, TestApp,
    APP,
};

const ORIGIN: &str = "http://openproject.example:8080";

fn now_secs() -> i64 {
    now_millis() / 1000
}

/// MKCOL of `path` in `user`'s tree; the new folder's id.
async fn folder(app: &TestApp, user: &str, path: &str) -> i64 {
    let response = app
        .dav(
            "MKCOL",
            user,
            &format!("/remote.php/dav/files/{user}/{path}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    file_id_header(&response)
}

fn file_id_header(response: &reqwest::Response) -> i64 {
    response.headers()["OC-FileId"].to_str().unwrap()[..8]
        .parse()
        .unwrap()
}

/// The id of `user`'s root folder (created on first use).
async fn root(app: &TestApp, user: &str) -> i64 {
    let response = app
        .dav("PROPFIND", user, &format!("/remote.php/dav/files/{user}/"))
        .header("Depth", "0")
        .body("<d:propfind xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\"><d:prop><oc:fileid/></d:prop></d:propfind>")
        .send()
        .await
        .unwrap();
    let xml = response.text().await.unwrap();
    let start = xml.find("<oc:fileid>").unwrap() + "<oc:fileid>".len();
    xml[start..start + xml[start..].find('<').unwrap()]
        .parse()
        .unwrap()
}

/// `POST APP/direct-upload-token` as `user` (Basic) with `body`.
async fn token_request(app: &TestApp, user: &str, body: Value) -> (u16, Value) {
    let response = app
        .dav("POST", user, &format!("{APP}/direct-upload-token"))
        .json(&body)
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

/// A token for `folder_id`, as `user`.
async fn new_token(app: &TestApp, user: &str, folder_id: i64) -> String {
    let (status, body) = token_request(app, user, json!({ "folder_id": folder_id })).await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_string()
}

/// The multipart form of an upload.
fn form(file_name: &str, content: impl Into<Vec<u8>>, overwrite: Option<&str>) -> Form {
    let mut form = Form::new();
    if let Some(overwrite) = overwrite {
        form = form.text("overwrite", overwrite.to_string());
    }
    form.part(
        "file",
        Part::bytes(content.into()).file_name(file_name.to_string()),
    )
}

/// The public POST of `form` to the token's link, from a page on [`ORIGIN`]; the status, the
/// `Access-Control-Allow-Origin` it carries and the body.
async fn post(app: &TestApp, token: &str, form: Form) -> (u16, Option<String>, Value) {
    let response = app
        .api
        .post(app.url(&format!("{APP}/direct-upload/{token}")))
        .header("Origin", ORIGIN)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let allowed = response
        .headers()
        .get("Access-Control-Allow-Origin")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, body) = status_and_json(response).await;
    (status, allowed, body)
}

/// One upload with a fresh token; status and body.
async fn upload(
    app: &TestApp,
    user: &str,
    folder_id: i64,
    file_name: &str,
    content: &str,
    overwrite: Option<&str>,
) -> (u16, Value) {
    let token = new_token(app, user, folder_id).await;
    let (status, _, body) = post(app, &token, form(file_name, content, overwrite)).await;
    (status, body)
}

async fn get(app: &TestApp, user: &str, path: &str) -> (u16, Vec<u8>) {
    let response = app
        .dav("GET", user, &format!("/remote.php/dav/files/{user}/{path}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

fn error(message: &str) -> Value {
    json!({ "error": message })
}

#[tokio::test]
async fn a_token_is_issued_for_a_writable_folder_and_stored_as_a_digest() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    app.add_user("bob", &[]).await;
    let docs = folder(&app, "alice", "Docs").await;

    let before = now_secs();
    let (status, body) = token_request(&app, "alice", json!({ "folder_id": docs })).await;
    let after = now_secs();
    assert_eq!(status, 200, "{body}");
    assert_shape(&body, "nc_direct_upload_token");
    assert!(is_alphanumeric(&body["token"], 64), "{body}");
    let expires_on = body["expires_on"].as_i64().unwrap();
    assert!((before + LIFETIME_SECS..=after + LIFETIME_SECS).contains(&expires_on));
    let token = body["token"].as_str().unwrap();
    let conn = &mut app.db.get().unwrap();
    assert_eq!(
        direct_uploads::expiry(conn, &crypto::digest(token)).unwrap(),
        Some(expires_on)
    );
    assert_eq!(direct_uploads::expiry(conn, token).unwrap(), None);

    // Also without /index.php, with a form body, and for the root folder.
    let response = app
        .dav(
            "POST",
            "alice",
            "/apps/integration_openproject/direct-upload-token",
        )
        .form(&[("folder_id", root(&app, "alice").await.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // A cookie session needs no CSRF token here.
    let alice = browser();
    app.login(&alice, "alice", "alice-alice-pw").await;
    let response = alice
        .post(app.url(&format!("{APP}/direct-upload-token")))
        .json(&json!({ "folder_id": docs }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn no_token_for_what_is_not_a_writable_folder() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    app.add_user("bob", &[]).await;
    let docs = folder(&app, "alice", "Docs").await;
    let (_, file) = app.upload("alice", "Docs/a.txt", "a").await;
    let not_found = error(messages::FOLDER_NOT_FOUND);
    for body in [
        json!({ "folder_id": 999_999 }),
        json!({ "folder_id": file }),
        json!({ "folder_id": "Docs" }),
    ] {
        assert_eq!(
            token_request(&app, "alice", body.clone()).await,
            (404, not_found.clone()),
            "{body}"
        );
    }
    // Someone else's folder is not theirs to fill.
    assert_eq!(
        token_request(&app, "bob", json!({ "folder_id": docs })).await,
        (404, not_found)
    );
    let (status, body) = token_request(&app, "alice", json!({})).await;
    assert_eq!((status, body["error"].is_string()), (400, true));
    let anonymous = app
        .api
        .post(app.url(&format!("{APP}/direct-upload-token")))
        .json(&json!({ "folder_id": docs }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(anonymous).await,
        (401, json!({"message": "Current user is not logged in"}))
    );
}

#[tokio::test]
async fn an_upload_creates_the_file_once_per_token() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let docs = folder(&app, "alice", "Docs").await;
    let token = new_token(&app, "alice", docs).await;

    let before = now_secs();
    let (status, allowed, body) = post(&app, &token, form("plan.txt", "the plan", None)).await;
    let after = now_secs();
    assert_eq!(status, 201, "{body}");
    assert_shape(&body, "nc_direct_uploaded");
    assert_eq!(body["file_name"], "plan.txt");
    assert_eq!(allowed.as_deref(), Some(ORIGIN));
    let id = body["file_id"].as_i64().unwrap();
    let node = file_nodes::find(&mut app.db.get().unwrap(), id)
        .unwrap()
        .unwrap();
    assert!((before..=after).contains(&node.ctime));
    assert_eq!((node.size, node.mime_type.as_str()), (8, "text/plain"));
    assert_eq!(node.modifier_uid.as_deref(), Some("alice"));

    // Readable over WebDAV, with its id.
    let response = app
        .dav("GET", "alice", "/remote.php/dav/files/alice/Docs/plan.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["Content-Length"], "8");
    assert_eq!(file_id_header(&response), id);
    assert_eq!(response.text().await.unwrap(), "the plan");

    // The token is spent, and so is one whose upload failed.
    let (status, allowed, body) = post(&app, &token, form("other.txt", "x", None)).await;
    assert_eq!((status, body), (404, error(messages::INVALID_TOKEN)));
    assert_eq!(allowed.as_deref(), Some(ORIGIN));
    let token = new_token(&app, "alice", docs).await;
    let (status, _, _) = post(&app, &token, form(".htaccess", "x", None)).await;
    assert_eq!(status, 400);
    let (status, _, body) = post(&app, &token, form("fine.txt", "x", None)).await;
    assert_eq!((status, body), (404, error(messages::INVALID_TOKEN)));
    for unknown in ["x".repeat(64), "short".to_string(), "x".repeat(65)] {
        let (status, _, body) = post(&app, &unknown, form("a.txt", "x", None)).await;
        assert_eq!((status, body), (404, error(messages::INVALID_TOKEN)));
    }
}

#[tokio::test]
async fn overwrite_decides_what_an_existing_name_becomes() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let docs = folder(&app, "alice", "Docs").await;
    let (status, first) = upload(&app, "alice", docs, "a.txt", "one", None).await;
    assert_eq!(status, 201);
    let id = first["file_id"].as_i64().unwrap();

    // Nothing said: a conflict, and the file is untouched.
    assert_eq!(
        upload(&app, "alice", docs, "a.txt", "two", None).await,
        (409, error(messages::CONFLICT))
    );
    assert_eq!(get(&app, "alice", "Docs/a.txt").await.1, b"one");

    // true (any case): the content is replaced, the id kept.
    for (overwrite, content) in [("true", "two"), ("TRUE", "three"), ("True", "four")] {
        assert_eq!(
            upload(&app, "alice", docs, "a.txt", content, Some(overwrite)).await,
            (200, json!({ "file_name": "a.txt", "file_id": id }))
        );
        assert_eq!(get(&app, "alice", "Docs/a.txt").await.1, content.as_bytes());
    }

    // false: a numbered name, as Nextcloud numbers them.
    for expected in ["a (2).txt", "a (3).txt"] {
        let (status, body) = upload(&app, "alice", docs, "a.txt", "new", Some("False")).await;
        assert_eq!((status, body["file_name"].as_str()), (201, Some(expected)));
        assert_ne!(body["file_id"].as_i64().unwrap(), id);
        assert_eq!(
            get(&app, "alice", &format!("Docs/{expected}")).await,
            (200, b"new".to_vec())
        );
    }
    // A name that is free is kept whatever overwrite says.
    let (status, body) = upload(&app, "alice", docs, "b.txt", "b", Some("false")).await;
    assert_eq!((status, body["file_name"].as_str()), (201, Some("b.txt")));

    // A folder is never overwritten.
    folder(&app, "alice", "Docs/sub").await;
    assert_eq!(
        upload(&app, "alice", docs, "sub", "x", Some("true")).await,
        (409, error(messages::OVERWRITE_NON_FILE))
    );
    assert_eq!(
        upload(&app, "alice", docs, "sub", "x", None).await,
        (409, error(messages::CONFLICT))
    );
    assert_eq!(
        upload(&app, "alice", docs, "a.txt", "x", Some("yes")).await,
        (400, error(messages::INVALID_OVERWRITE))
    );
    assert_eq!(get(&app, "alice", "Docs/a.txt").await.1, b"four");
}

#[tokio::test]
async fn names_the_server_refuses_are_invalid() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let docs = folder(&app, "alice", "Docs").await;
    for name in ["", "  ", ".", "..", ".htaccess", "a\\b", "a/b", "tab\there"] {
        assert_eq!(
            upload(&app, "alice", docs, name, "x", None).await,
            (400, error(messages::INVALID_FILE_NAME)),
            "{name:?}"
        );
    }
    // No file at all, or not a multipart body.
    let token = new_token(&app, "alice", docs).await;
    let (status, _, body) = post(&app, &token, Form::new().text("overwrite", "true")).await;
    assert_eq!((status, body), (400, error(messages::INVALID_FILE_NAME)));
    let token = new_token(&app, "alice", docs).await;
    let response = app
        .api
        .post(app.url(&format!("{APP}/direct-upload/{token}")))
        .json(&json!({"file": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(response).await,
        (400, error(messages::INVALID_FILE_NAME))
    );
    let listing = app
        .dav("PROPFIND", "alice", "/remote.php/dav/files/alice/Docs/")
        .header("Depth", "1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(listing.matches("<d:response>").count(), 1, "{listing}");
}

#[tokio::test]
async fn the_token_holder_must_still_be_able_to_write_there() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let docs = folder(&app, "alice", "Docs").await;

    // The folder is gone.
    let token = new_token(&app, "alice", docs).await;
    app.dav("DELETE", "alice", "/remote.php/dav/files/alice/Docs")
        .send()
        .await
        .unwrap();
    let (status, allowed, body) = post(&app, &token, form("a.txt", "x", None)).await;
    assert_eq!((status, body), (404, error(messages::FOLDER_NOT_FOUND)));
    assert_eq!(allowed.as_deref(), Some(ORIGIN));

    // The user is disabled.
    let docs = folder(&app, "alice", "Docs").await;
    let token = new_token(&app, "alice", docs).await;
    app.db_set_enabled("alice", false);
    let (status, allowed, body) = post(&app, &token, form("a.txt", "x", None)).await;
    assert_eq!((status, body), (401, error(messages::UNAUTHORIZED)));
    assert_eq!(allowed.as_deref(), Some(ORIGIN));
    app.db_set_enabled("alice", true);

    // The token expired (its stored expiry is moved to the past rather than waited for).
    let token = new_token(&app, "alice", docs).await;
    direct_uploads::set_expiry(
        &mut app.db.get().unwrap(),
        &crypto::digest(&token),
        now_secs() - 1,
    )
    .unwrap();
    let (status, _, body) = post(&app, &token, form("a.txt", "x", None)).await;
    assert_eq!((status, body), (404, error(messages::INVALID_TOKEN)));
    assert_eq!(get(&app, "alice", "Docs/a.txt").await.0, 404);
}

#[tokio::test]
async fn uploads_past_the_limit_or_the_quota_are_refused_and_leave_nothing() {
    let app = spawn_app_with(|settings| settings.max_upload_bytes = 1000).await;
    app.add_user("alice", &[]).await;
    let docs = folder(&app, "alice", "Docs").await;
    let (status, body) = upload(&app, "alice", docs, "big.bin", &"x".repeat(1001), None).await;
    assert_eq!(status, 413, "{body}");
    assert_shape(&body, "nc_direct_upload_error_too_large");
    assert_eq!(body["upload_limit"], 1000);
    assert_eq!(get(&app, "alice", "Docs/big.bin").await.0, 404);
    let (status, _) = upload(&app, "alice", docs, "fits.bin", &"x".repeat(1000), None).await;
    assert_eq!(status, 201);

    let quota = app
        .api
        .put(app.url("/ocs/v1.php/cloud/users/alice?format=json"))
        .header("OCS-APIRequest", "true")
        .basic_auth(&app.admin_user, Some(app.admin_password.clone()))
        .form(&[("key", "quota"), ("value", "1010 B")])
        .send()
        .await
        .unwrap();
    assert_eq!(quota.status(), 200);
    assert_eq!(
        upload(&app, "alice", docs, "more.txt", "0123456789A", None).await,
        (507, error(messages::INSUFFICIENT_QUOTA))
    );
    assert_eq!(get(&app, "alice", "Docs/more.txt").await.0, 404);
    assert_eq!(
        upload(&app, "alice", docs, "more.txt", "0123456789", None)
            .await
            .0,
        201
    );
    // No staged content is left behind by the refused uploads.
    let staging = std::fs::read_dir(app.settings.data_dir.join("staging"))
        .unwrap()
        .count();
    assert_eq!(staging, 0);
}

#[tokio::test]
async fn a_page_on_another_origin_may_post_and_read_the_answer() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let docs = folder(&app, "alice", "Docs").await;
    let token = new_token(&app, "alice", docs).await;
    let preflight = app
        .api
        .request(
            reqwest::Method::OPTIONS,
            app.url(&format!("{APP}/direct-upload/{token}")),
        )
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let headers = preflight.headers();
    assert_eq!(headers["Access-Control-Allow-Origin"], ORIGIN);
    assert_eq!(headers["Access-Control-Allow-Methods"], "POST");
    let allowed_headers = headers["Access-Control-Allow-Headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("content-type"),
        "{allowed_headers}"
    );
    assert!(
        headers["Access-Control-Max-Age"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    // The preflight does not use the token.
    let (status, allowed, _) = post(&app, &token, form("a.txt", "a", None)).await;
    assert_eq!((status, allowed.as_deref()), (201, Some(ORIGIN)));
    // Without /index.php too.
    let token = new_token(&app, "alice", docs).await;
    let response = app
        .api
        .post(app.url(&format!(
            "/apps/integration_openproject/direct-upload/{token}"
        )))
        .header("Origin", ORIGIN)
        .multipart(form("b.txt", "b", None))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["Access-Control-Allow-Origin"], ORIGIN);
}

#[tokio::test]
async fn a_large_file_streams_through_to_the_file_store() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let root = root(&app, "alice").await;
    let token = new_token(&app, "alice", root).await;
    let content: Vec<u8> = (0..12 * 1024 * 1024 + 17)
        .map(|i| (i % 251) as u8)
        .collect();
    let part = Part::stream_with_length(content.clone(), content.len() as u64)
        .file_name("video.bin")
        .mime_str("application/octet-stream")
        .unwrap();
    let (status, _, body) = post(
        &app,
        &token,
        Form::new().text("overwrite", "false").part("file", part),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, back) = get(&app, "alice", "video.bin").await;
    assert_eq!((status, back.len()), (200, content.len()));
    assert!(back == content, "the content differs");
}
