//! PROPPATCH and dead properties over HTTP (RFC 4918 §9.2, as Nextcloud's Sabre server answers):
//! set, remove, the 207 answer per property, a refused property failing the whole request, and
//! what COPY, MOVE and DELETE do with them. The rules themselves are unit-tested in
//! `domain::files::properties`.

use crate::helpers::{spawn_app, TestApp};

const NS: &str = "http://example.com/neon/litmus/";

fn files(path: &str) -> String {
    format!("/remote.php/dav/files/alice/{path}")
}

/// PROPPATCH of `path` with the instructions `body` (inside `propertyupdate`).
async fn proppatch(app: &TestApp, path: &str, body: &str) -> (u16, String) {
    let document = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:L="{NS}">{body}</D:propertyupdate>"#
    );
    let response = app
        .dav("PROPPATCH", "alice", &files(path))
        .header("Content-Type", "application/xml")
        .body(document)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// PROPFIND of `path` alone with the body `inner` (inside `propfind`).
async fn propfind(app: &TestApp, path: &str, inner: &str) -> String {
    let body = format!(
        r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:L="{NS}">{inner}</d:propfind>"#
    );
    let response = app
        .dav("PROPFIND", "alice", &files(path))
        .header("Depth", "0")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 207);
    response.text().await.unwrap()
}

/// The propstat of `status` in a one-resource multistatus, or "" when there is none.
fn propstat<'a>(xml: &'a str, status: &str) -> &'a str {
    xml.split("<d:propstat>")
        .find(|p| p.contains(&format!("HTTP/1.1 {status}")))
        .unwrap_or("")
}

/// alice with the folder `a` and the file `a/f.txt`.
async fn alice_with_file() -> TestApp {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let mkcol = app.dav("MKCOL", "alice", &files("a")).send().await.unwrap();
    assert_eq!(mkcol.status(), 201);
    assert_eq!(app.upload("alice", "a/f.txt", "content").await.0, 201);
    app
}

#[tokio::test]
async fn proppatch_sets_and_removes_and_propfind_shows_them() {
    let app = alice_with_file().await;
    let (status, answer) = proppatch(
        &app,
        "a/f.txt",
        r#"<D:set><D:prop><L:color>blue &amp; green</L:color><plain xmlns="">x</plain><L:tree><L:leaf a="1">ü𐀀</L:leaf></L:tree></D:prop></D:set>"#,
    )
    .await;
    assert_eq!(status, 207, "{answer}");
    let ok = propstat(&answer, "200 OK");
    for name in ["x:color", "plain", "x:tree"] {
        assert!(ok.contains(&format!("<{name} ")), "{name}: {answer}");
    }
    assert!(!answer.contains("HTTP/1.1 4"), "{answer}");

    let named = propfind(
        &app,
        "a/f.txt",
        r#"<d:prop><L:color/><plain xmlns=""/><L:tree/><L:missing/></d:prop>"#,
    )
    .await;
    let found = propstat(&named, "200 OK");
    assert!(found.contains(">blue &amp; green</x:color>"), "{named}");
    assert!(found.contains(r#"<plain xmlns="">x</plain>"#), "{named}");
    // The value's element declares its own namespace, so it reads the same anywhere.
    assert!(
        found.contains(&format!(r#"<leaf xmlns="{NS}" a="1">ü𐀀</leaf>"#)),
        "{named}"
    );
    assert!(
        propstat(&named, "404 Not Found").contains("missing"),
        "{named}"
    );

    let all = propfind(&app, "a/f.txt", "<d:allprop/>").await;
    assert!(
        all.contains("<oc:fileid>") && all.contains("blue &amp; green"),
        "{all}"
    );
    let names = propfind(&app, "a/f.txt", "<d:propname/>").await;
    assert!(names.contains("<d:getetag/>"), "{names}");
    assert!(
        names.contains(&format!(r#"<x:color xmlns:x="{NS}"/>"#)),
        "{names}"
    );
    assert!(!names.contains("blue"), "{names}");

    // Instructions apply in order: remove-then-set sets, set-then-remove removes.
    let (status, answer) = proppatch(
        &app,
        "a/f.txt",
        r#"<D:remove><D:prop><L:color/></D:prop></D:remove><D:set><D:prop><L:color>red</L:color><L:tree>t</L:tree></D:prop></D:set><D:remove><D:prop><L:tree/><L:never-set/></D:prop></D:remove>"#,
    )
    .await;
    assert_eq!(status, 207);
    assert!(!answer.contains("HTTP/1.1 4"), "{answer}");
    let after = propfind(&app, "a/f.txt", "<d:prop><L:color/><L:tree/></d:prop>").await;
    assert!(
        propstat(&after, "200 OK").contains(">red</x:color>"),
        "{after}"
    );
    assert!(
        propstat(&after, "404 Not Found").contains("tree"),
        "{after}"
    );
}

#[tokio::test]
async fn a_refused_property_fails_the_whole_proppatch() {
    let app = alice_with_file().await;
    let (status, answer) = proppatch(
        &app,
        "a/f.txt",
        r#"<D:set><D:prop><L:color>blue</L:color><D:getetag>"forged"</D:getetag></D:prop></D:set><D:remove><D:prop><D:resourcetype/></D:prop></D:remove>"#,
    )
    .await;
    assert_eq!(status, 207);
    let forbidden = propstat(&answer, "403 Forbidden");
    assert!(forbidden.contains("<d:getetag/>"), "{answer}");
    assert!(forbidden.contains("<d:resourcetype/>"), "{answer}");
    assert!(
        forbidden.contains("cannot-modify-protected-property"),
        "{answer}"
    );
    assert!(
        propstat(&answer, "424 Failed Dependency").contains("color"),
        "{answer}"
    );
    let after = propfind(&app, "a/f.txt", "<d:prop><L:color/></d:prop>").await;
    assert!(
        propstat(&after, "404 Not Found").contains("color"),
        "{after}"
    );

    // Limits answer per property, with the reason, not a server error.
    let big = "v".repeat(64 * 1024 + 1);
    let (status, answer) = proppatch(
        &app,
        "a/f.txt",
        &format!("<D:set><D:prop><L:big>{big}</L:big><L:small>1</L:small></D:prop></D:set>"),
    )
    .await;
    assert_eq!(status, 207);
    let full = propstat(&answer, "507 Insufficient Storage");
    assert!(
        full.contains("big") && full.contains("65536 bytes"),
        "{answer}"
    );
    assert!(
        propstat(&answer, "424 Failed Dependency").contains("small"),
        "{answer}"
    );
    let long = "n".repeat(300);
    let (status, answer) = proppatch(
        &app,
        "a/f.txt",
        &format!("<D:set><D:prop><L:{long}>1</L:{long}></D:prop></D:set>"),
    )
    .await;
    assert_eq!(status, 207);
    assert!(
        propstat(&answer, "403 Forbidden").contains("255 bytes"),
        "{answer}"
    );

    // Malformed bodies are 400; a missing resource is 404.
    for body in [
        "<D:set><D:prop><L:a>",
        "<D:set><D:prop><Q:a/></D:prop></D:set>",
        "",
    ] {
        assert_eq!(proppatch(&app, "a/f.txt", body).await.0, 400, "{body}");
    }
    let (status, _) = proppatch(
        &app,
        "nope.txt",
        "<D:set><D:prop><L:a>1</L:a></D:prop></D:set>",
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn copy_takes_properties_along_move_keeps_them_delete_drops_them() {
    let app = alice_with_file().await;
    let set = |value: &str| format!("<D:set><D:prop><L:note>{value}</L:note></D:prop></D:set>");
    assert_eq!(proppatch(&app, "a/f.txt", &set("file")).await.0, 207);
    assert_eq!(proppatch(&app, "a", &set("folder")).await.0, 207);
    let note = |path: &'static str| {
        let app = &app;
        async move { propfind(app, path, "<d:prop><L:note/></d:prop>").await }
    };

    let copy = app
        .dav("COPY", "alice", &files("a"))
        .header("Destination", app.url(&files("b")))
        .send()
        .await
        .unwrap();
    assert_eq!(copy.status(), 201);
    assert!(note("b").await.contains(">folder</x:note>"));
    assert!(note("b/f.txt").await.contains(">file</x:note>"));
    // The copy's properties are its own.
    assert_eq!(proppatch(&app, "b/f.txt", &set("copy")).await.0, 207);
    assert!(note("a/f.txt").await.contains(">file</x:note>"));

    let moved = app
        .dav("MOVE", "alice", &files("b/f.txt"))
        .header("Destination", app.url(&files("moved.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 201);
    assert!(note("moved.txt").await.contains(">copy</x:note>"));

    // A file deleted and made again at the same path starts without properties.
    let deleted = app
        .dav("DELETE", "alice", &files("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.upload("alice", "a/f.txt", "again").await.0, 404);
    app.dav("MKCOL", "alice", &files("a")).send().await.unwrap();
    assert_eq!(app.upload("alice", "a/f.txt", "again").await.0, 201);
    assert!(propstat(&note("a/f.txt").await, "404 Not Found").contains("note"));
}
