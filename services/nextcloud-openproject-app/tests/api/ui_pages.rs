//! The web UI's server side: the page shell and assets, the HTML 404 of unknown pages, the
//! admin settings page, and the Apps API that disables and enables the integration.

use reqwest::Method;
use serde_json::Value;

use crate::{
    helpers::{browser, meta, spawn_app, status_and_json, TestApp, APP},
    oauth_server::{logged_in, ALICE},
};

fn browser_get(client: &reqwest::Client, app: &TestApp, path: &str) -> reqwest::RequestBuilder {
    client
        .get(app.url(path))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
}

#[tokio::test]
async fn unknown_pages_are_html_and_api_paths_keep_their_errors() {
    let app = spawn_app().await;
    let client = browser();
    let page = browser_get(&client, &app, "/index.php/no-such-page")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    assert!(page.text().await.unwrap().contains("Page not found"));

    let api = browser_get(&client, &app, &format!("{APP}/no-such-route"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(api.json::<Value>().await.unwrap()["error"], "Not found");
    // Scripts keep the JSON body on any path.
    let (status, body) =
        status_and_json(app.get("/index.php/no-such-page").send().await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("Not found")));
}

#[tokio::test]
async fn assets_are_served_with_validators() {
    let app = spawn_app().await;
    for (name, kind) in [
        ("ui-kit.js", "text/javascript; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("admin-settings.js", "text/javascript; charset=utf-8"),
    ] {
        let response = app.get(&format!("/assets/{name}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(response.headers()["content-type"], kind, "{name}");
        let etag = response.headers()["etag"].clone();
        let again = app
            .get(&format!("/assets/{name}"))
            .header("If-None-Match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{name}");
    }
    assert_eq!(
        app.get("/assets/nope.js").send().await.unwrap().status(),
        404
    );
}

#[tokio::test]
async fn the_admin_settings_page_is_for_admins() {
    let app = spawn_app().await;
    let anonymous = browser_get(&browser(), &app, "/index.php/settings/admin/openproject")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);

    app.create_user(ALICE.0, ALICE.1).await;
    let alice = logged_in(&app, ALICE).await;
    let refused = browser_get(&alice, &app, "/index.php/settings/admin/openproject")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("Access forbidden"));
    assert!(!refused.contains("Administration settings"), "{refused}");

    let admin = logged_in(&app, (app.admin_user.as_str(), app.admin_password.as_str())).await;
    let page = browser_get(&admin, &app, "/settings/admin/openproject")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    for label in [
        "<label for=\"openproject-host\">OpenProject host</label>",
        "<label for=\"openproject-client-id\">OpenProject OAuth client ID</label>",
        "<label for=\"openproject-client-secret\">OpenProject OAuth client secret</label>",
        "<label for=\"nextcloud-client-id\">Nextcloud OAuth client ID</label>",
        "<label for=\"nextcloud-client-secret\">Nextcloud OAuth client secret</label>",
        "Yes, I have copied these values",
        "Project folders",
        "Default user settings",
        "Replace OpenProject OAuth values",
        "Replace Nextcloud OAuth values",
        "Administration settings",
    ] {
        assert!(page.contains(label), "{label}");
    }
}

async fn app_call(app: &TestApp, method: Method, path: &str, user: (&str, &str)) -> (u16, Value) {
    status_and_json(
        app.api
            .request(method, app.url(path))
            .basic_auth(user.0, Some(user.1))
            .header("OCS-APIRequest", "true")
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_disabled_integration_is_unknown_until_enabled_again() {
    let app = spawn_app().await;
    let admin = (app.admin_user.clone(), app.admin_password.clone());
    let admin = (admin.0.as_str(), admin.1.as_str());
    app.create_user(ALICE.0, ALICE.1).await;
    let apps = "/ocs/v2.php/cloud/apps/integration_openproject";

    let (status, body) = app_call(&app, Method::DELETE, apps, ALICE).await;
    assert_eq!((status, meta(&body).1), (403, 403));
    let (status, _) = app_call(&app, Method::DELETE, "/ocs/v2.php/cloud/apps/files", admin).await;
    assert_eq!(status, 404);

    let (status, body) = app_call(&app, Method::DELETE, apps, admin).await;
    assert_eq!(status, 200, "{body}");
    let (_, list) = app_call(
        &app,
        Method::GET,
        "/ocs/v2.php/cloud/apps?filter=disabled",
        admin,
    )
    .await;
    assert_eq!(list["ocs"]["data"]["apps"][0], "integration_openproject");
    let (status, _) = app_call(&app, Method::GET, &format!("{APP}/check-config"), admin).await;
    assert_eq!(status, 404);
    let (status, body) = app_call(
        &app,
        Method::GET,
        "/ocs/v2.php/apps/integration_openproject/api/v1/url",
        admin,
    )
    .await;
    assert_eq!((status, meta(&body).1), (404, 998));
    let (_, capabilities) =
        app_call(&app, Method::GET, "/ocs/v2.php/cloud/capabilities", admin).await;
    let listed = &capabilities["ocs"]["data"]["capabilities"];
    assert!(listed.get("core").is_some());
    assert!(listed.get("integration_openproject").is_none(), "{listed}");
    let alice = logged_in(&app, ALICE).await;
    let settings = browser_get(&alice, &app, "/index.php/settings/user/openproject")
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), 404);
    assert!(settings.text().await.unwrap().contains("Page not found"));

    let (status, _) = app_call(&app, Method::POST, apps, admin).await;
    assert_eq!(status, 200);
    let (_, list) = app_call(
        &app,
        Method::GET,
        "/ocs/v2.php/cloud/apps?filter=enabled",
        admin,
    )
    .await;
    assert_eq!(list["ocs"]["data"]["apps"][0], "integration_openproject");
    let (status, _) = app_call(&app, Method::GET, &format!("{APP}/check-config"), admin).await;
    assert_eq!(status, 200);
    let (_, capabilities) =
        app_call(&app, Method::GET, "/ocs/v2.php/cloud/capabilities", admin).await;
    assert!(capabilities["ocs"]["data"]["capabilities"]
        .get("integration_openproject")
        .is_some());
    let (status, body) =
        app_call(&app, Method::GET, "/ocs/v2.php/cloud/apps?filter=x", admin).await;
    assert_eq!((status, meta(&body).1), (400, 101), "{body}");
}

#[tokio::test]
async fn the_search_page_finds_files_by_name_and_says_how_to_search_openproject() {
    let app = spawn_app().await;
    app.add_user("carol", &[]).await;
    let (status, id) = app.upload("carol", "Annual%20Report.txt", "numbers").await;
    assert_eq!(status, 201);
    app.upload("carol", "budget.txt", "more numbers").await;
    let carol = logged_in(&app, ("carol", "carol-carol-pw")).await;
    let page = browser_get(&carol, &app, "/index.php/search?q=REPORT")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "<a href=\"/index.php/f/{id}\">Annual Report.txt</a>"
        )),
        "{page}"
    );
    assert!(!page.contains("budget.txt"), "{page}");
    assert!(page.contains("id=\"work-package-search-off\""), "{page}");

    let anonymous = browser_get(&browser(), &app, "/index.php/search?q=x")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
}
