//! What Nextcloud's own clients (desktop client, rclone) and OpenProject rely on beyond the
//! spec's WebDAV subset: chunked uploads (v2 and legacy), ranges and preconditions, COPY,
//! checksums, quota, `Depth: infinity`, and the real server's answers.

use reqwest::Response;
use sha1::{Digest, Sha1};

use crate::helpers::{spawn_app, TestApp};

fn sha1_hex(content: &[u8]) -> String {
    service_kit::crypto::lower_hex(&Sha1::digest(content))
}

async fn text(response: Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// PROPFIND with the named properties, returning the status and raw XML.
async fn props(app: &TestApp, user: &str, path: &str, depth: &str, props: &str) -> (u16, String) {
    let body = format!(
        r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>{props}</d:prop></d:propfind>"#
    );
    text(
        app.dav("PROPFIND", user, path)
            .header("Depth", depth)
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn get(app: &TestApp, user: &str, path: &str) -> (u16, String) {
    text(app.dav("GET", user, path).send().await.unwrap()).await
}

fn files(user: &str, path: &str) -> String {
    format!("/remote.php/dav/files/{user}/{path}")
}

fn uploads(user: &str, path: &str) -> String {
    format!("/remote.php/dav/uploads/{user}/{path}")
}

#[tokio::test]
async fn chunked_uploads_assemble_in_the_order_of_their_names() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let target = app.url(&files("alice", "Reports/big.bin"));
    app.dav("MKCOL", "alice", &files("alice", "Reports"))
        .send()
        .await
        .unwrap();
    let mkcol = app
        .dav("MKCOL", "alice", &uploads("alice", "web-file-upload-1"))
        .header("Destination", &target)
        .send()
        .await
        .unwrap();
    assert_eq!(mkcol.status(), 201);
    // Sent out of order; assembled as 1, 2, 10.
    for (name, content) in [("10", "cc"), ("1", "aa"), ("2", "bb")] {
        let put = app
            .dav(
                "PUT",
                "alice",
                &uploads("alice", &format!("web-file-upload-1/{name}")),
            )
            .header("Destination", &target)
            .header("OC-Total-Length", "6")
            .body(content)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201, "chunk {name}");
        assert!(put.headers().get("OC-FileId").is_none());
    }
    // Nothing exists at the target until the MOVE.
    assert_eq!(
        get(&app, "alice", &files("alice", "Reports/big.bin"))
            .await
            .0,
        404
    );
    let (_, listing) = props(
        &app,
        "alice",
        &uploads("alice", "web-file-upload-1"),
        "1",
        "<d:getcontentlength/>",
    )
    .await;
    assert_eq!(listing.matches("<d:response>").count(), 4, "{listing}");

    let moved = app
        .dav(
            "MOVE",
            "alice",
            &uploads("alice", "web-file-upload-1/.file"),
        )
        .header("Destination", &target)
        .header("OC-Total-Length", "6")
        .header("X-OC-Mtime", "1700000000")
        .header("OC-Checksum", format!("SHA1:{}", sha1_hex(b"aabbcc")))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 201);
    for header in ["OC-FileId", "ETag", "OC-ETag"] {
        assert!(moved.headers().get(header).is_some(), "{header}");
    }
    assert_eq!(moved.headers()["X-OC-MTime"], "accepted");
    assert_eq!(
        get(&app, "alice", &files("alice", "Reports/big.bin")).await,
        (200, "aabbcc".to_string())
    );
    let (_, found) = props(
        &app,
        "alice",
        &files("alice", "Reports/big.bin"),
        "0",
        "<oc:checksums/><d:getlastmodified/>",
    )
    .await;
    assert!(
        found.contains(&format!("SHA1:{}", sha1_hex(b"aabbcc"))),
        "{found}"
    );
    assert!(found.contains("Tue, 14 Nov 2023 22:13:20 GMT"), "{found}");
    // The upload is gone once assembled; a second one replaces the file (204).
    let (status, _) = props(
        &app,
        "alice",
        &uploads("alice", "web-file-upload-1"),
        "0",
        "",
    )
    .await;
    assert_eq!(status, 404);
    app.dav("MKCOL", "alice", &uploads("alice", "second"))
        .send()
        .await
        .unwrap();
    app.dav("PUT", "alice", &uploads("alice", "second/1"))
        .body("new")
        .send()
        .await
        .unwrap();
    let replaced = app
        .dav("MOVE", "alice", &uploads("alice", "second/.file"))
        .header("Destination", &target)
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 204);
    assert_eq!(
        get(&app, "alice", &files("alice", "Reports/big.bin"))
            .await
            .1,
        "new"
    );
}

#[tokio::test]
async fn chunked_uploads_refuse_loudly_and_belong_to_their_owner() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    app.add_user("bob", &[]).await;
    let target = app.url(&files("alice", "f.bin"));
    app.dav("MKCOL", "alice", &uploads("alice", "u"))
        .header("Destination", &target)
        .send()
        .await
        .unwrap();
    let again = app
        .dav("MKCOL", "alice", &uploads("alice", "u"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 405);
    for bad in ["0", "10001", "abc"] {
        let (status, body) = text(
            app.dav("PUT", "alice", &uploads("alice", &format!("u/{bad}")))
                .body("x")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    app.dav("PUT", "alice", &uploads("alice", "u/1"))
        .body("abc")
        .send()
        .await
        .unwrap();
    // Another user neither sees nor touches the upload.
    for method in ["PROPFIND", "DELETE", "PUT"] {
        let response = app
            .dav(method, "bob", &uploads("alice", "u/1"))
            .body("zz")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method}");
    }
    let (status, _) = props(&app, "bob", &uploads("bob", "u"), "0", "").await;
    assert_eq!(status, 404);
    // A wrong total leaves the upload as it was, so the client may try again.
    let (status, body) = text(
        app.dav("MOVE", "alice", &uploads("alice", "u/.file"))
            .header("Destination", &target)
            .header("OC-Total-Length", "4")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("do not sum up to 4 but to 3"), "{body}");
    assert_eq!(get(&app, "alice", &files("alice", "f.bin")).await.0, 404);
    // Into a folder that does not exist: 404, and the upload stays.
    let missing = app
        .dav("MOVE", "alice", &uploads("alice", "u/.file"))
        .header("Destination", app.url(&files("alice", "nope/f.bin")))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // Aborting removes it; nothing was created.
    let abort = app
        .dav("DELETE", "alice", &uploads("alice", "u"))
        .send()
        .await
        .unwrap();
    assert_eq!(abort.status(), 204);
    let (status, _) = props(&app, "alice", &uploads("alice", "u"), "0", "").await;
    assert_eq!(status, 404);
    let (_, root) = props(&app, "alice", &files("alice", ""), "1", "<d:resourcetype/>").await;
    assert_eq!(root.matches("<d:response>").count(), 1, "{root}");
}

#[tokio::test]
async fn legacy_chunks_become_a_file_only_with_the_last_one() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let chunk = |index: usize| files("alice", &format!("big%20file.bin-chunking-4711-3-{index}"));
    for (index, content) in [(1, "bb"), (0, "aa")] {
        let response = app
            .dav("PUT", "alice", &chunk(index))
            .header("OC-Chunked", "1")
            .header("OC-Total-Length", "6")
            .body(content)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert!(response.headers().get("OC-FileId").is_none());
        assert!(response.headers().get("ETag").is_none());
    }
    let (_, root) = props(&app, "alice", &files("alice", ""), "1", "<d:resourcetype/>").await;
    assert!(!root.contains("chunking"), "{root}");
    assert!(!root.contains("big%20file.bin"), "{root}");
    let last = app
        .dav("PUT", "alice", &chunk(2))
        .header("OC-Chunked", "1")
        .body("cc")
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), 201);
    assert!(last.headers().get("OC-FileId").is_some());
    assert!(last.headers().get("ETag").is_some());
    assert_eq!(
        get(&app, "alice", &files("alice", "big%20file.bin")).await,
        (200, "aabbcc".to_string())
    );
    let (_, root) = props(&app, "alice", &files("alice", ""), "1", "<d:resourcetype/>").await;
    assert_eq!(root.matches("<d:response>").count(), 2, "{root}");
    assert!(!root.contains("chunking"), "{root}");
    // A chunked request whose name is no chunk name fails instead of becoming a file.
    let bad = app
        .dav("PUT", "alice", &files("alice", "plain.txt"))
        .header("OC-Chunked", "1")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        get(&app, "alice", &files("alice", "plain.txt")).await.0,
        404
    );
}

#[tokio::test]
async fn ranges_and_conditional_reads() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    app.upload("alice", "digits.txt", "0123456789").await;
    let path = files("alice", "digits.txt");
    let ranged = |range: &'static str| app.dav("GET", "alice", &path).header("Range", range).send();
    let part = ranged("bytes=2-5").await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["Content-Range"], "bytes 2-5/10");
    assert_eq!(part.headers()["Accept-Ranges"], "bytes");
    let etag = part.headers()["ETag"].to_str().unwrap().to_string();
    assert_eq!(part.text().await.unwrap(), "2345");
    assert_eq!(
        ranged("bytes=-3").await.unwrap().text().await.unwrap(),
        "789"
    );
    assert_eq!(
        ranged("bytes=7-").await.unwrap().text().await.unwrap(),
        "789"
    );
    let outside = ranged("bytes=20-").await.unwrap();
    assert_eq!(outside.status(), 416);
    assert_eq!(outside.headers()["Content-Range"], "bytes */10");

    let with = |name: &'static str, value: String| {
        app.dav("GET", "alice", &path).header(name, value).send()
    };
    assert_eq!(
        with("If-None-Match", etag.clone()).await.unwrap().status(),
        304
    );
    assert_eq!(
        with("If-Match", "\"other\"".into()).await.unwrap().status(),
        412
    );
    assert_eq!(with("If-Match", etag.clone()).await.unwrap().status(), 200);
    assert_eq!(
        with("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT".into())
            .await
            .unwrap()
            .status(),
        304
    );
    // A range of a changed file is not served: the whole new file is.
    let stale = app
        .dav("GET", "alice", &path)
        .header("Range", "bytes=0-1")
        .header("If-Range", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
    assert_eq!(stale.text().await.unwrap(), "0123456789");
    // Writes check preconditions too.
    let create_only = app
        .dav("PUT", "alice", &path)
        .header("If-None-Match", "*")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(create_only.status(), 412);
    assert_eq!(get(&app, "alice", &path).await.1, "0123456789");
}

#[tokio::test]
async fn copy_makes_new_files_and_move_answers_with_ids() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    for folder in ["a", "a/sub"] {
        app.dav("MKCOL", "alice", &files("alice", folder))
            .send()
            .await
            .unwrap();
    }
    let (_, f_id) = app.upload("alice", "a/f.txt", "eff").await;
    app.upload("alice", "a/sub/g.txt", "gee").await;
    let copy = |from: &str, to: &str| {
        app.dav("COPY", "alice", &files("alice", from))
            .header("Destination", app.url(&files("alice", to)))
    };
    let whole = copy("a", "b").send().await.unwrap();
    assert_eq!(whole.status(), 201);
    assert_eq!(
        get(&app, "alice", &files("alice", "b/sub/g.txt")).await.1,
        "gee"
    );
    let (_, copied) = props(
        &app,
        "alice",
        &files("alice", "b/f.txt"),
        "0",
        "<oc:fileid/>",
    )
    .await;
    assert!(!copied.contains(&format!("<oc:fileid>{f_id}<")), "{copied}");
    let (_, sizes) = props(&app, "alice", &files("alice", ""), "0", "<oc:size/>").await;
    assert!(sizes.contains("<oc:size>12</oc:size>"), "{sizes}");
    // Depth 0 copies the folder alone.
    assert_eq!(
        copy("a", "c")
            .header("Depth", "0")
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let (_, shallow) = props(
        &app,
        "alice",
        &files("alice", "c"),
        "1",
        "<d:resourcetype/>",
    )
    .await;
    assert_eq!(shallow.matches("<d:response>").count(), 1, "{shallow}");
    // Overwrite: F meets an existing target; a missing parent; overwriting.
    let refused = copy("a/f.txt", "b/f.txt")
        .header("Overwrite", "F")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 412);
    assert_eq!(
        copy("a/f.txt", "nope/f.txt").send().await.unwrap().status(),
        409
    );
    let replaced = copy("a/sub/g.txt", "b/f.txt").send().await.unwrap();
    assert_eq!(replaced.status(), 204);
    assert_eq!(
        get(&app, "alice", &files("alice", "b/f.txt")).await.1,
        "gee"
    );
    // The original is untouched by changes to the copy.
    app.upload("alice", "b/sub/g.txt", "changed").await;
    assert_eq!(
        get(&app, "alice", &files("alice", "a/sub/g.txt")).await.1,
        "gee"
    );

    let moved = app
        .dav("MOVE", "alice", &files("alice", "a/f.txt"))
        .header("Destination", app.url(&files("alice", "moved.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 201);
    let id = moved.headers()["OC-FileId"].to_str().unwrap();
    assert_eq!(id[..8].parse::<i64>().unwrap(), f_id);
    assert!(moved.headers().get("ETag").is_some());
    assert!(moved.headers().get("OC-ETag").is_some());
}

#[tokio::test]
async fn checksums_are_kept_and_checked() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let path = files("alice", "c.txt");
    let put = app
        .dav("PUT", "alice", &path)
        .header("OC-Checksum", "MD5:900150983cd24fb0d6963f7d28e17f72")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let (_, found) = props(&app, "alice", &path, "0", "<oc:checksums/>").await;
    assert!(
        found.contains(&format!(
            "<oc:checksums><oc:checksum>SHA1:{} MD5:900150983cd24fb0d6963f7d28e17f72</oc:checksum></oc:checksums>",
            sha1_hex(b"abc")
        )),
        "{found}"
    );
    let damaged = app
        .dav("PUT", "alice", &path)
        .header("OC-Checksum", format!("SHA1:{}", sha1_hex(b"other")))
        .body("abd")
        .send()
        .await
        .unwrap();
    assert_eq!(damaged.status(), 400);
    assert_eq!(get(&app, "alice", &path).await.1, "abc");
}

#[tokio::test]
async fn quotas_refuse_writes_past_them() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let edit = |value: &str| {
        app.api
            .put(app.url("/ocs/v1.php/cloud/users/alice?format=json"))
            .header("OCS-APIRequest", "true")
            .basic_auth(&app.admin_user, Some(app.admin_password.clone()))
            .form(&[("key", "quota"), ("value", value)])
            .send()
    };
    assert_eq!(edit("10 B").await.unwrap().status(), 200);
    let invalid = edit("lots").await.unwrap().text().await.unwrap();
    assert!(invalid.contains("\"statuscode\":102"), "{invalid}");
    let by_alice = app
        .api
        .put(app.url("/ocs/v1.php/cloud/users/alice?format=json"))
        .header("OCS-APIRequest", "true")
        .basic_auth("alice", Some("alice-alice-pw"))
        .form(&[("key", "quota"), ("value", "none")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(by_alice.contains("\"statuscode\":403"), "{by_alice}");

    assert_eq!(app.upload("alice", "one.txt", "123456").await.0, 201);
    let (status, body) = text(
        app.dav("PUT", "alice", &files("alice", "two.txt"))
            .body("123456")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 507, "{body}");
    assert!(body.contains("InsufficientStorage"), "{body}");
    let (_, quota) = props(
        &app,
        "alice",
        &files("alice", ""),
        "0",
        "<d:quota-used-bytes/><d:quota-available-bytes/>",
    )
    .await;
    assert!(
        quota.contains("<d:quota-used-bytes>6</d:quota-used-bytes>"),
        "{quota}"
    );
    assert!(
        quota.contains("<d:quota-available-bytes>4</d:quota-available-bytes>"),
        "{quota}"
    );
    // Copies and assembled uploads count too.
    let copy = app
        .dav("COPY", "alice", &files("alice", "one.txt"))
        .header("Destination", app.url(&files("alice", "copy.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(copy.status(), 507);
    app.dav("MKCOL", "alice", &uploads("alice", "q"))
        .send()
        .await
        .unwrap();
    app.dav("PUT", "alice", &uploads("alice", "q/1"))
        .body("12345")
        .send()
        .await
        .unwrap();
    let assembled = app
        .dav("MOVE", "alice", &uploads("alice", "q/.file"))
        .header("Destination", app.url(&files("alice", "big.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(assembled.status(), 507);
    // Unlimited again.
    assert_eq!(edit("none").await.unwrap().status(), 200);
    assert_eq!(app.upload("alice", "two.txt", "123456").await.0, 201);
    let (_, quota) = props(
        &app,
        "alice",
        &files("alice", ""),
        "0",
        "<d:quota-available-bytes/>",
    )
    .await;
    assert!(
        quota.contains("<d:quota-available-bytes>-3</d:quota-available-bytes>"),
        "{quota}"
    );
}

#[tokio::test]
async fn propfind_walks_subtrees_and_writes_hrefs_as_the_real_server() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    for folder in ["Ä", "Ä/b"] {
        app.dav("MKCOL", "alice", &files("alice", &urlencode(folder)))
            .send()
            .await
            .unwrap();
    }
    app.upload("alice", &urlencode("Ä/b/x (1)@&.txt"), "x")
        .await;
    let (status, all) = props(
        &app,
        "alice",
        &files("alice", ""),
        "infinity",
        "<oc:fileid/>",
    )
    .await;
    assert_eq!(status, 207);
    assert_eq!(all.matches("<d:response>").count(), 4, "{all}");
    assert!(
        all.contains("<d:href>/remote.php/dav/files/alice/%c3%84/b/x%20(1)@&amp;.txt</d:href>"),
        "{all}"
    );
    // A property in no namespace comes back in a 404 propstat that parses.
    let (_, unknown) = text(
        app.dav("PROPFIND", "alice", &files("alice", ""))
            .header("Depth", "0")
            .body(r#"<d:propfind xmlns:d="DAV:"><d:prop><foo xmlns=""/></d:prop></d:propfind>"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(unknown.contains(r#"<foo xmlns=""/>"#), "{unknown}");
    assert!(unknown.contains("404 Not Found"), "{unknown}");
    assert!(
        storage_protocol::dav::parse_multistatus(&unknown).is_ok(),
        "{unknown}"
    );
    let (status, _) = text(
        app.dav("PROPFIND", "alice", &files("alice", ""))
            .body(r#"<d:propfind xmlns:d="DAV:" xmlns:bar=""><d:prop><bar:foo/></d:prop></d:propfind>"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
}

fn urlencode(path: &str) -> String {
    path.split('/')
        .map(|s| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        })
        .collect::<Vec<_>>()
        .join("/")
}
