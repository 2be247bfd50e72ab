use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::helpers::{browser, hidden_value, meta, spawn_app};

fn location(response: &reqwest::Response) -> &str {
    response.headers()[LOCATION].to_str().unwrap()
}

#[tokio::test]
async fn root_redirects_anonymous_browsers_to_login() {
    let app = spawn_app().await;
    for path in ["/", "/index.php", "/index.php/"] {
        let response = app.get(path).send().await.unwrap();
        assert_eq!(response.status(), 302, "{path}");
        assert_eq!(location(&response), "/index.php/login");
    }
    // Bad credentials never make it a 4xx.
    let response = app.get_as("/", "admin", "wrong").send().await.unwrap();
    assert_eq!(response.status(), 302);
}

#[tokio::test]
async fn login_session_and_logout() {
    let app = spawn_app().await;
    let browser = browser();
    let response = app
        .login(&browser, &app.admin_user, &app.admin_password)
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/index.php/apps/files/");
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("nc_session_id="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    let value = cookie["nc_session_id=".len()..].split(';').next().unwrap();
    assert_eq!(value.len(), 43);
    for set in response.headers().get_all(SET_COOKIE) {
        let set = set.to_str().unwrap();
        assert!(set.starts_with("nc_"), "{set}");
        if set.starts_with("nc_login_nonce=") {
            assert!(set.contains("Path=/index.php/login"), "{set}");
            assert!(set.contains("Max-Age=0"), "{set}");
        }
    }

    let response = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(location(&response), "/index.php/apps/files/");

    let page = browser
        .get(app.url("/index.php/apps/files/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("data-user-id=\"admin\""));

    // The session authenticates the API too.
    let response = browser
        .get(app.url("/ocs/v2.php/cloud/user?format=json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Logout needs the page's token.
    let response = browser
        .get(app.url("/index.php/logout?requesttoken=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let response = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(location(&response), "/index.php/apps/files/");

    let token = app.page_token(&browser).await;
    let response = browser
        .get(app.url(&format!("/index.php/logout?requesttoken={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/index.php/login");
    let response = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(location(&response), "/index.php/login");
    // The session row is gone: replaying the old cookie does not work either.
    let response = app
        .get("/ocs/v2.php/cloud/user?format=json")
        .header("Cookie", format!("nc_session_id={value}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn login_redirects_only_within_the_origin() {
    let app = spawn_app().await;
    let response = app
        .login_with(
            &browser(),
            &app.admin_user,
            &app.admin_password,
            "/index.php/apps/integration_openproject/check-config?x=1",
        )
        .await;
    assert_eq!(
        location(&response),
        "/index.php/apps/integration_openproject/check-config?x=1"
    );
    let response = app
        .login_with(
            &browser(),
            &app.admin_user,
            &app.admin_password,
            "https://evil.example/",
        )
        .await;
    assert_eq!(location(&response), "/index.php/apps/files/");
}

#[tokio::test]
async fn failed_logins_show_the_form_again() {
    let app = spawn_app().await;
    let browser = browser();
    let response = app.login(&browser, "admin", "wrong").await;
    assert_eq!(response.status(), 401);
    assert!(response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("nc_session_id=")));
    let page = response.text().await.unwrap();
    assert!(page.contains("Wrong login or password."));
    assert_eq!(hidden_value(&page, "redirect_url"), "");
}

#[tokio::test]
async fn the_login_form_needs_its_token() {
    let app = spawn_app().await;
    let response = app
        .api
        .post(app.url("/index.php/login"))
        .form(&[("user", "admin"), ("password", app.admin_password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 412);
    // A browser posting from our own origin passes.
    let response = app
        .api
        .post(app.url("/index.php/login"))
        .header("Origin", &app.address)
        .form(&[("user", "admin"), ("password", app.admin_password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn anonymous_browsers_are_sent_to_login() {
    let app = spawn_app().await;
    let response = app
        .get("/index.php/apps/files/?dir=/x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "/index.php/login?redirect_url=%2Findex%2Ephp%2Fapps%2Ffiles%2F%3Fdir%3D%2Fx"
    );
    let login = app
        .get(location(&response))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        hidden_value(&login, "redirect_url"),
        "/index.php/apps/files/?dir=/x"
    );
}

#[tokio::test]
async fn cookie_sessions_need_a_csrf_token_to_write() {
    let app = spawn_app().await;
    let browser = browser();
    app.login(&browser, &app.admin_user, &app.admin_password)
        .await;
    let create = |userid: &str| {
        browser
            .post(app.url("/ocs/v2.php/cloud/users?format=json"))
            .form(&[("userid", userid), ("password", "some-password")])
    };
    let response = create("kim").send().await.unwrap();
    assert_eq!(response.status(), 412);
    let body: Value = response.json().await.unwrap();
    assert_eq!(meta(&body), ("failure", 412, "CSRF check failed"));

    let response = create("kim")
        .header("OCS-APIRequest", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let token = app.page_token(&browser).await;
    let response = create("lee")
        .header("requesttoken", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn pages_answer_with_and_without_index_php() {
    let app = spawn_app().await;
    for path in ["/index.php/login", "/login"] {
        let form = app.get(path).send().await.unwrap();
        assert_eq!(form.status(), 200, "{path}");
        assert!(
            form.text().await.unwrap().contains("name=\"password\""),
            "{path}"
        );
    }
    for path in ["/index.php/apps/files/", "/apps/files/"] {
        let anonymous = app
            .get(path)
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert!(
            anonymous.status().is_redirection(),
            "{path}: {}",
            anonymous.status()
        );
    }
}
