//! The WebDAV subset (spec §7) with the requests real clients send.

use reqwest::Response;
use storage_protocol::dav::{parse_multistatus, Entry, PROPFIND_BODY};

use crate::helpers::{spawn_app, TestApp};

async fn propfind(app: &TestApp, user: &str, path: &str, depth: &str) -> (u16, Vec<Entry>, String) {
    let response = app
        .dav("PROPFIND", user, path)
        .header("Depth", depth)
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(PROPFIND_BODY)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let entries = parse_multistatus(&text).unwrap_or_default();
    (status, entries, text)
}

async fn sabre(response: Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn head_on_the_dav_root_checks_credentials() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    for path in ["/remote.php/dav", "/remote.php/dav/"] {
        let ok = app.dav("HEAD", "alice", path).send().await.unwrap();
        assert_eq!(ok.status(), 200);
        let anonymous = app.api.head(app.url(path)).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        assert_eq!(
            anonymous.headers()["WWW-Authenticate"],
            "Basic realm=\"Nextcloud\", charset=\"UTF-8\""
        );
        let wrong = app
            .api
            .head(app.url(path))
            .basic_auth("alice", Some("wrong"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
    }
    // The OpenProject user's app password, as OpenProject checks it.
    app.setup_team_folder().await;
    let password = app.db_create_app_password("OpenProject", "check");
    let response = app
        .api
        .head(app.url("/remote.php/dav"))
        .basic_auth("OpenProject", Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn upload_download_list_and_delete() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let (status, body) = sabre(
        app.dav("MKCOL", "alice", "/remote.php/dav/files/alice/Documents")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, id) = app.upload("alice", "Documents/plan%20A.pdf", "abc").await;
    assert_eq!(status, 201);
    assert!(id > 0);

    // Download with its headers.
    let response = app
        .dav(
            "GET",
            "alice",
            "/remote.php/dav/files/alice/Documents/plan%20A.pdf",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["Content-Type"], "application/pdf");
    assert_eq!(headers["Content-Length"], "3");
    let etag = headers["ETag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    assert!(headers.contains_key("Last-Modified"));
    assert!(headers["OC-FileId"]
        .to_str()
        .unwrap()
        .starts_with(&format!("{id:08}")));
    assert_eq!(response.text().await.unwrap(), "abc");
    let head = app
        .dav("HEAD", "alice", "/remote.php/webdav/Documents/plan%20A.pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["Content-Length"], "3");

    // Overwrite keeps the id and changes the etag.
    let (status, same) = app
        .upload("alice", "Documents/plan%20A.pdf", "abcdef")
        .await;
    assert_eq!((status, same), (204, id));
    let response = app
        .dav(
            "GET",
            "alice",
            "/remote.php/dav/files/alice/Documents/plan%20A.pdf",
        )
        .send()
        .await
        .unwrap();
    assert_ne!(response.headers()["ETag"].to_str().unwrap(), etag);
    assert_eq!(response.text().await.unwrap(), "abcdef");

    // Depth 1 of the root: itself, then the children by name; folders end with '/'.
    app.upload("alice", "zeta.txt", "z").await;
    let (status, entries, xml) = propfind(&app, "alice", "/remote.php/dav/files/alice/", "1").await;
    assert_eq!(status, 207, "{xml}");
    let hrefs: Vec<&str> = entries.iter().map(|e| e.href.as_str()).collect();
    assert_eq!(
        hrefs,
        [
            "/remote.php/dav/files/alice/",
            "/remote.php/dav/files/alice/Documents/",
            "/remote.php/dav/files/alice/zeta.txt"
        ]
    );
    assert!(
        xml.contains("<d:getcontenttype/>"),
        "404 propstat for folders: {xml}"
    );
    assert_eq!(entries[0].size, Some(7), "a folder's size is its total");
    assert_eq!(entries[1].permissions.as_deref(), Some("RGDNVCK"));
    assert!(entries[1].is_collection);
    assert_eq!(entries[2].permissions.as_deref(), Some("RGDNVW"));
    assert_eq!(entries[2].content_type.as_deref(), Some("text/plain"));
    assert_eq!(entries[2].owner_display_name.as_deref(), Some("alice"));

    // Depth 0, percent-encoded hrefs.
    let (_, entries, xml) =
        propfind(&app, "alice", "/remote.php/dav/files/alice/Documents", "0").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].size, Some(6));
    let (_, _, xml_child) =
        propfind(&app, "alice", "/remote.php/dav/files/alice/Documents/", "1").await;
    assert!(
        xml_child.contains("<d:href>/remote.php/dav/files/alice/Documents/plan%20A.pdf</d:href>"),
        "{xml_child}"
    );
    assert!(xml.contains("<oc:fileid>"));

    // DELETE a folder recursively, two levels deep; its ids are gone.
    let response = app
        .dav(
            "MKCOL",
            "alice",
            "/remote.php/dav/files/alice/Documents/Deeper",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let (status, _) = app.upload("alice", "Documents/Deeper/deep.txt", "").await;
    assert_eq!(status, 201);
    let response = app
        .dav("DELETE", "alice", "/remote.php/dav/files/alice/Documents")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let (status, body) = sabre(
        app.dav(
            "GET",
            "alice",
            "/remote.php/dav/files/alice/Documents/plan%20A.pdf",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        body.contains("<s:exception>Sabre\\DAV\\Exception\\NotFound</s:exception>"),
        "{body}"
    );
    let (status, _, _) = propfind(
        &app,
        "alice",
        "/remote.php/dav/files/alice/Documents/Deeper/deep.txt",
        "0",
    )
    .await;
    assert_eq!(status, 404);
    let (_, entries, _) = propfind(&app, "alice", "/remote.php/dav/files/alice/", "1").await;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].size, Some(1));
}

#[tokio::test]
async fn refusals() {
    let app = spawn_app_with_small_uploads().await;
    app.add_user("alice", &[]).await;
    app.add_user("bob", &[]).await;
    app.upload("bob", "secret.txt", "s").await;
    let dav = |method: &str, path: &str| app.dav(method, "alice", path);
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        // Another user's tree.
        (
            dav("GET", "/remote.php/dav/files/bob/secret.txt"),
            404,
            "NotFound",
        ),
        (
            dav("PROPFIND", "/remote.php/dav/files/bob/"),
            404,
            "NotFound",
        ),
        (
            dav("PUT", "/remote.php/dav/files/bob/x.txt").body("x"),
            404,
            "NotFound",
        ),
        // Names.
        (
            dav("PUT", "/remote.php/dav/files/alice/a%2Fb").body("x"),
            400,
            "BadRequest",
        ),
        (
            dav("MKCOL", "/remote.php/dav/files/alice/a%5Cb"),
            400,
            "BadRequest",
        ),
        (
            dav("MKCOL", "/remote.php/dav/files/alice/a%0Ab"),
            400,
            "BadRequest",
        ),
        // Missing parents (PUT answers 404 as the real server does; MKCOL 409), existing
        // folders, bodies.
        (
            dav("PUT", "/remote.php/dav/files/alice/no/x.txt").body("x"),
            404,
            "NotFound",
        ),
        (
            dav("MKCOL", "/remote.php/dav/files/alice/no/sub"),
            409,
            "Conflict",
        ),
        (
            dav("MKCOL", "/remote.php/dav/files/alice/"),
            405,
            "MethodNotAllowed",
        ),
        (
            dav("MKCOL", "/remote.php/dav/files/alice/f").body("<x/>"),
            415,
            "UnsupportedMediaType",
        ),
        (
            dav("DELETE", "/remote.php/dav/files/alice/missing"),
            404,
            "NotFound",
        ),
        (
            dav("DELETE", "/remote.php/dav/files/alice/"),
            403,
            "Forbidden",
        ),
        (
            dav("PROPFIND", "/remote.php/dav/files/alice/").body("<d:propfind"),
            400,
            "BadRequest",
        ),
        // The upload limit.
        (
            dav("PUT", "/remote.php/dav/files/alice/big.bin").body("x".repeat(11)),
            413,
            "EntityTooLarge",
        ),
    ];
    for (request, status, exception) in cases {
        let (got, body) = sabre(request.send().await.unwrap()).await;
        assert_eq!(got, status, "{body}");
        assert!(body.contains(exception), "{exception}: {body}");
    }
    // After the refusals nothing was created.
    let (_, entries, _) = propfind(&app, "alice", "/remote.php/dav/files/alice/", "1").await;
    assert_eq!(entries.len(), 1);
    // A folder cannot be PUT over, an existing one not created again.
    dav("MKCOL", "/remote.php/dav/files/alice/f")
        .send()
        .await
        .unwrap();
    let (got, _) = sabre(
        dav("PUT", "/remote.php/dav/files/alice/f")
            .body("x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got, 405);
    let existing = dav("MKCOL", "/remote.php/dav/files/alice/f")
        .send()
        .await
        .unwrap();
    assert!(existing.headers()["Allow"]
        .to_str()
        .unwrap()
        .contains("PROPFIND"));
    let (got, _) = sabre(existing).await;
    assert_eq!(got, 405);
    let options = dav("OPTIONS", "/remote.php/dav/files/alice/")
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 200);
    assert_eq!(options.headers()["DAV"], "1, 3");
}

async fn spawn_app_with_small_uploads() -> TestApp {
    crate::helpers::spawn_app_with(|settings| settings.max_upload_bytes = 10).await
}

#[tokio::test]
async fn move_renames_and_keeps_the_id() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let (_, id) = app.upload("alice", "a.txt", "aaa").await;
    app.dav("MKCOL", "alice", "/remote.php/dav/files/alice/Folder")
        .send()
        .await
        .unwrap();
    let response = app
        .dav("MOVE", "alice", "/remote.php/dav/files/alice/a.txt")
        .header(
            "Destination",
            app.url("/remote.php/dav/files/alice/Folder/b%20c.txt"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let (_, entries, _) = propfind(
        &app,
        "alice",
        "/remote.php/dav/files/alice/Folder/b%20c.txt",
        "0",
    )
    .await;
    assert_eq!(entries[0].file_id.as_deref(), Some(id.to_string().as_str()));
    let (_, entries, _) = propfind(&app, "alice", "/remote.php/dav/files/alice/Folder", "0").await;
    assert_eq!(entries[0].size, Some(3));

    // Overwrite: F on an existing destination → 412; T replaces it.
    let (_, other) = app.upload("alice", "other.txt", "o").await;
    let refused = app
        .dav("MOVE", "alice", "/remote.php/dav/files/alice/other.txt")
        .header(
            "Destination",
            "/remote.php/dav/files/alice/Folder/b%20c.txt",
        )
        .header("Overwrite", "F")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 412);
    let replaced = app
        .dav("MOVE", "alice", "/remote.php/dav/files/alice/other.txt")
        .header(
            "Destination",
            "/remote.php/dav/files/alice/Folder/b%20c.txt",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 204);
    let (_, entries, _) = propfind(
        &app,
        "alice",
        "/remote.php/dav/files/alice/Folder/b%20c.txt",
        "0",
    )
    .await;
    assert_eq!(
        entries[0].file_id.as_deref(),
        Some(other.to_string().as_str())
    );
    // Into itself, or into another user's tree.
    let into_itself = app
        .dav("MOVE", "alice", "/remote.php/dav/files/alice/Folder")
        .header("Destination", "/remote.php/dav/files/alice/Folder/sub")
        .send()
        .await
        .unwrap();
    assert_eq!(into_itself.status(), 403);
    app.add_user("bob", &[]).await;
    let elsewhere = app
        .dav("MOVE", "alice", "/remote.php/dav/files/alice/Folder")
        .header("Destination", "/remote.php/dav/files/bob/Folder")
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 404);
}

#[tokio::test]
async fn the_team_folder_is_mounted_for_its_group() {
    let app = spawn_app().await;
    app.setup_team_folder().await;
    app.add_user("alice", &["OpenProject"]).await;
    app.add_user("bob", &[]).await;
    let (_, entries, xml) = propfind(&app, "alice", "/remote.php/dav/files/alice/", "1").await;
    assert_eq!(entries.len(), 2, "{xml}");
    assert_eq!(entries[1].href, "/remote.php/dav/files/alice/OpenProject/");
    assert_eq!(entries[1].permissions.as_deref(), Some("RMGDNVCK"));
    app.dav(
        "MKCOL",
        "alice",
        "/remote.php/dav/files/alice/OpenProject/Project%20(1)",
    )
    .send()
    .await
    .unwrap();
    let (status, _) = app
        .upload("alice", "OpenProject/Project%20(1)/spec.md", "# spec")
        .await;
    assert_eq!(status, 201);
    // The OpenProject user sees the same folder.
    let password = app.db_create_app_password("OpenProject", "dav");
    let response = app
        .api
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            app.url("/remote.php/dav/files/OpenProject/OpenProject/"),
        )
        .basic_auth("OpenProject", Some(password))
        .header("Depth", "1")
        .body(PROPFIND_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 207);
    let entries = parse_multistatus(&response.text().await.unwrap()).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[1].href,
        "/remote.php/dav/files/OpenProject/OpenProject/Project (1)/"
    );
    assert_eq!(entries[1].permissions.as_deref(), Some("RMGDNVCK"));
    assert_eq!(entries[0].size, Some(6));
    let (_, entries, _) = propfind(
        &app,
        "alice",
        "/remote.php/dav/files/alice/OpenProject/Project%20(1)/spec.md",
        "0",
    )
    .await;
    assert_eq!(entries[0].permissions.as_deref(), Some("RMGDNVW"));
    // The mount cannot be deleted; bob has no mount.
    let response = app
        .dav("DELETE", "alice", "/remote.php/dav/files/alice/OpenProject")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (_, entries, _) = propfind(&app, "bob", "/remote.php/dav/files/bob/", "1").await;
    assert_eq!(entries.len(), 1);
    let (status, _, _) = propfind(&app, "bob", "/remote.php/dav/files/bob/OpenProject/", "0").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn concurrent_first_requests_share_one_root() {
    let app = spawn_app().await;
    app.setup_team_folder().await;
    app.add_user("alice", &["OpenProject"]).await;
    let listings = (0..8).map(|_| propfind(&app, "alice", "/remote.php/dav/files/alice/", "1"));
    let mut ids = Vec::new();
    for (status, entries, xml) in futures_util::future::join_all(listings).await {
        assert_eq!(status, 207, "{xml}");
        assert_eq!(entries.len(), 2);
        ids.push(entries[0].file_id.clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one root for everyone");
}

#[tokio::test]
async fn sync_clients_keep_their_modification_time() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let response = app
        .dav("PUT", "alice", "/remote.php/dav/files/alice/old.txt")
        .header("X-OC-Mtime", "1500000000")
        .body("old")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["X-OC-MTime"], "accepted");
    let (_, entries, _) = propfind(&app, "alice", "/remote.php/dav/files/alice/old.txt", "0").await;
    assert_eq!(
        entries[0].last_modified.as_deref(),
        Some("Fri, 14 Jul 2017 02:40:00 GMT")
    );
}
