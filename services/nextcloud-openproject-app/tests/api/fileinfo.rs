//! `fileinfo` and `filesinfo` (spec §5) as OpenProject calls them.

use serde_json::{json, Value};

use crate::helpers::{assert_shape, spawn_app, status_and_json, TestApp};

const OCSAPP: &str = "apps/integration_openproject";

async fn fileinfo(app: &TestApp, user: &str, version: &str, id: &str) -> (u16, Value) {
    let response = app
        .dav(
            "GET",
            user,
            &format!("/ocs/{version}.php/{OCSAPP}/fileinfo/{id}"),
        )
        .header("OCS-APIRequest", "true")
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

async fn filesinfo(app: &TestApp, user: &str, version: &str, body: &str) -> (u16, Value) {
    let response = app
        .dav(
            "POST",
            user,
            &format!("/ocs/{version}.php/{OCSAPP}/filesinfo"),
        )
        .header("OCS-APIRequest", "true")
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

#[tokio::test]
async fn a_users_file_and_folder() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    app.dav("MKCOL", "alice", "/remote.php/dav/files/alice/Documents")
        .send()
        .await
        .unwrap();
    let (_, id) = app.upload("alice", "Documents/plan.pdf", "abc").await;
    let (status, body) = fileinfo(&app, "alice", "v2", &id.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(body["ocs"]["meta"]["statuscode"], 200);
    let data = &body["ocs"]["data"];
    assert_shape(data, "nc_fileinfo_file");
    assert_eq!(data["status"], "OK");
    assert_eq!(data["statuscode"], 200);
    assert_eq!(data["id"], id);
    assert_eq!(data["name"], "plan.pdf");
    assert_eq!(data["mimetype"], "application/pdf");
    assert_eq!(data["size"], 3);
    assert_eq!(data["owner_id"], "alice");
    assert_eq!(data["modifier_id"], "alice");
    assert_eq!(data["dav_permissions"], "RGDNVW");
    assert_eq!(data["path"], "files/Documents/plan.pdf");
    assert!(data["ctime"].as_i64().unwrap() > 0);
    assert!(data.get("trashed").is_none());

    // The folder: by its id from PROPFIND.
    let folder_id = data["id"].as_i64().unwrap() - 1;
    let (status, body) = fileinfo(&app, "alice", "v1", &folder_id.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(body["ocs"]["meta"]["statuscode"], 100);
    let data = &body["ocs"]["data"];
    assert_shape(data, "nc_fileinfo_folder");
    assert_eq!(data["name"], "Documents");
    assert_eq!(data["mimetype"], "application/x-op-directory");
    assert_eq!(data["path"], "files/Documents/");
    assert_eq!(data["size"], 3);
    assert_eq!(data["dav_permissions"], "RGDNVCK");

    // A rename is not a content change: the modifier stays, the path follows.
    app.add_user("bob", &[]).await;
    let response = app
        .dav(
            "MOVE",
            "alice",
            "/remote.php/dav/files/alice/Documents/plan.pdf",
        )
        .header("Destination", "/remote.php/dav/files/alice/final.pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let (_, body) = fileinfo(&app, "alice", "v2", &id.to_string()).await;
    assert_eq!(body["ocs"]["data"]["path"], "files/final.pdf");
    assert_eq!(body["ocs"]["data"]["modifier_name"], "alice");
}

#[tokio::test]
async fn forbidden_and_not_found_follow_the_ocs_version() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    app.add_user("bob", &[]).await;
    let (_, id) = app.upload("alice", "a.txt", "a").await;
    let (_, gone) = app.upload("alice", "gone.txt", "g").await;
    app.dav("DELETE", "alice", "/remote.php/dav/files/alice/gone.txt")
        .send()
        .await
        .unwrap();
    let forbidden = json!({"status": "Forbidden", "statuscode": 403});
    let not_found = json!({"status": "Not Found", "statuscode": 404});
    for (user, raw, record) in [
        ("bob", id.to_string(), &forbidden),
        ("alice", gone.to_string(), &not_found),
        ("alice", "999999".to_string(), &not_found),
        ("alice", "abc".to_string(), &not_found),
    ] {
        let code = record["statuscode"].as_u64().unwrap();
        let (status, body) = fileinfo(&app, user, "v2", &raw).await;
        assert_eq!(status as u64, code, "{raw}");
        assert_eq!(body["ocs"]["meta"]["statuscode"], code);
        assert_eq!(&body["ocs"]["data"], record);
        let (status, body) = fileinfo(&app, user, "v1", &raw).await;
        assert_eq!(status, 200, "{raw}");
        assert_eq!(body["ocs"]["meta"]["statuscode"], code);
        assert_eq!(body["ocs"]["meta"]["status"], "failure");
        assert_eq!(&body["ocs"]["data"], record);
    }
    let anonymous = app
        .get(&format!("/ocs/v2.php/{OCSAPP}/fileinfo/{id}"))
        .header("OCS-APIRequest", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn filesinfo_keys_records_by_id_in_request_order() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    app.add_user("bob", &[]).await;
    let (_, mine) = app.upload("alice", "mine.txt", "m").await;
    let (_, theirs) = app.upload("bob", "theirs.txt", "t").await;
    let body = format!(r#"{{"fileIds": ["{theirs}", {mine}, "424242", {mine}]}}"#);
    let (status, response) = filesinfo(&app, "alice", "v1", &body).await;
    assert_eq!(status, 200);
    let data = response["ocs"]["data"].as_object().unwrap();
    let keys: Vec<&String> = data.keys().collect();
    assert_eq!(
        keys,
        [
            &theirs.to_string(),
            &mine.to_string(),
            &"424242".to_string()
        ]
    );
    assert_eq!(data[&theirs.to_string()]["statuscode"], 403);
    assert_eq!(data[&mine.to_string()]["name"], "mine.txt");
    assert_eq!(data["424242"]["statuscode"], 404);
    // The protocol type reads it.
    let parsed: storage_protocol::files::FilesInfo =
        serde_json::from_value(response["ocs"]["data"].clone()).unwrap();
    assert_eq!(parsed.0.len(), 3);

    for bad in [
        "{}",
        r#"{"fileIds": "1"}"#,
        r#"{"fileIds": [true]}"#,
        "nope",
    ] {
        let (status, body) = filesinfo(&app, "alice", "v2", bad).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["ocs"]["data"], "invalid request");
        let (status, body) = filesinfo(&app, "alice", "v1", bad).await;
        assert_eq!(status, 200, "{bad}");
        assert_eq!(body["ocs"]["meta"]["statuscode"], 400);
        assert_eq!(body["ocs"]["data"], "invalid request");
    }
    let many = format!(r#"{{"fileIds": [{}]}}"#, vec!["1"; 1001].join(","));
    let (status, _) = filesinfo(&app, "alice", "v2", &many).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn team_folder_items_belong_to_the_requester() {
    let app = spawn_app().await;
    app.setup_team_folder().await;
    app.add_user("alice", &["OpenProject"]).await;
    app.add_user("carol", &["OpenProject"]).await;
    app.add_user("bob", &[]).await;
    let (status, id) = app.upload("alice", "OpenProject/shared.txt", "one").await;
    assert_eq!(status, 201);
    // Carol changes the content: she becomes the modifier.
    let (status, same) = app.upload("carol", "OpenProject/shared.txt", "two!").await;
    assert_eq!((status, same), (204, id));
    let (status, body) = fileinfo(&app, "alice", "v2", &id.to_string()).await;
    assert_eq!(status, 200);
    let data = &body["ocs"]["data"];
    assert_eq!(data["owner_id"], "alice");
    assert_eq!(data["modifier_id"], "carol");
    assert_eq!(data["path"], "files/OpenProject/shared.txt");
    assert_eq!(data["dav_permissions"], "RMGDNVW");
    let (_, body) = fileinfo(&app, "carol", "v2", &id.to_string()).await;
    assert_eq!(body["ocs"]["data"]["owner_id"], "carol");
    let (status, _) = fileinfo(&app, "bob", "v2", &id.to_string()).await;
    assert_eq!(status, 403);
    // The mount itself.
    let (_, body) = fileinfo(&app, "alice", "v2", &(id - 1).to_string()).await;
    let data = &body["ocs"]["data"];
    assert_eq!(data["path"], "files/OpenProject/");
    assert_eq!(data["name"], "OpenProject");
    assert_eq!(data["dav_permissions"], "RMGDNVCK");
}

/// OpenProject's way in: the user's Nextcloud access token on filesinfo and PROPFIND.
#[tokio::test]
async fn openproject_reads_with_the_users_bearer_token() {
    use crate::oauth_server::{setup_with, tokens, ALICE};
    let app = spawn_app().await;
    app.create_user(ALICE.0, ALICE.1).await;
    let client = setup_with(&app, "http://op.example", "op-client").await;
    let response = app
        .api
        .put(app.url("/remote.php/dav/files/alice/plan.pdf"))
        .basic_auth(ALICE.0, Some(ALICE.1))
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let token = tokens(&app, &client).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let response = app
        .api
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            app.url("/remote.php/dav/files/alice/"),
        )
        .bearer_auth(&token)
        .header("Depth", "1")
        .body(storage_protocol::dav::PROPFIND_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 207);
    let entries =
        storage_protocol::dav::parse_multistatus(&response.text().await.unwrap()).unwrap();
    let id = entries[1].file_id.clone().unwrap();
    let response = app
        .api
        .post(app.url(&format!("/ocs/v1.php/{OCSAPP}/filesinfo")))
        .bearer_auth(&token)
        .header("OCS-APIRequest", "true")
        .header("Accept", "application/json")
        .json(&json!({"fileIds": [id]}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["ocs"]["data"][&id]["name"], "plan.pdf");
    // A token that is not valid authenticates nobody.
    let response = app
        .api
        .head(app.url("/remote.php/dav"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
