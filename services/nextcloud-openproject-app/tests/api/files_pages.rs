//! The files page and `/index.php/f/{fileId}` (spec §9), as OpenProject's "open" links use them.

use crate::helpers::{browser, spawn_app};

#[tokio::test]
async fn file_links_open_the_file_in_its_folder() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    app.add_user("bob", &[]).await;
    app.dav("MKCOL", "alice", "/remote.php/dav/files/alice/My%20Docs")
        .send()
        .await
        .unwrap();
    let (_, id) = app.upload("alice", "My%20Docs/plan.pdf", "abc").await;
    let alice = browser();
    assert_eq!(
        app.login(&alice, "alice", "alice-alice-pw").await.status(),
        303
    );

    let response = alice
        .get(app.url(&format!("/index.php/f/{id}?openfile=1")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["Location"].to_str().unwrap().to_string();
    assert_eq!(
        location,
        format!("/index.php/apps/files/?dir=%2FMy%20Docs&fileid={id}&openfile=true")
    );
    let response = alice
        .get(app.url(&format!("/index.php/f/{id}")))
        .send()
        .await
        .unwrap();
    assert!(!response.headers()["Location"]
        .to_str()
        .unwrap()
        .contains("openfile"));

    let page = alice.get(app.url(&location)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(&format!("<tr data-file-id=\"{id}\" class=\"highlighted\"")),
        "{page}"
    );
    assert!(page.contains("plan.pdf"));
    let root = alice
        .get(app.url("/index.php/apps/files/"))
        .send()
        .await
        .unwrap();
    assert!(root
        .text()
        .await
        .unwrap()
        .contains("data-name=\"My Docs\" data-folder=\"true\""));

    // Someone else's file, an unknown id, an unknown folder.
    let bob = browser();
    app.login(&bob, "bob", "bob-bob-pw").await;
    for path in [
        format!("/index.php/f/{id}"),
        "/index.php/f/999999".to_string(),
        "/index.php/f/abc".to_string(),
        "/index.php/apps/files/?dir=/nowhere".to_string(),
    ] {
        let response = bob.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    // Anonymous browsers log in first.
    let response = browser()
        .get(app.url(&format!("/index.php/f/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn cookie_sessions_write_over_webdav_only_with_the_page_token() {
    let app = spawn_app().await;
    app.add_user("alice", &[]).await;
    let alice = browser();
    app.login(&alice, "alice", "alice-alice-pw").await;
    let put = |token: Option<&str>| {
        let mut request = alice.put(app.url("/remote.php/webdav/a.txt")).body("a");
        if let Some(token) = token {
            request = request.header("requesttoken", token);
        }
        request.send()
    };
    let refused = put(None).await.unwrap();
    assert_eq!(refused.status(), 412);
    let token = app.page_token(&alice).await;
    assert_eq!(put(Some(&token)).await.unwrap().status(), 201);
    // Reading needs no token.
    let read = alice
        .get(app.url("/remote.php/webdav/a.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.text().await.unwrap(), "a");
}
