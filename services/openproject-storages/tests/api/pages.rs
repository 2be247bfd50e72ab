use reqwest::{header, Client, StatusCode};

use crate::helpers::{login_form_token, spawn_app, ADMIN, ADMIN_PASSWORD, PASSWORD};

fn session_cookie(response: &reqwest::Response) -> String {
    let set_cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("_open_project_session="))
        .expect("session cookie set");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "plain http public URL: {set_cookie}"
    );
    set_cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn home_redirects_to_login_even_with_api_credentials() {
    let app = spawn_app().await;
    for request in [
        app.get("/?x=1"),
        app.as_admin(app.get("/?x=1")),
        app.get("/?x=1").basic_auth(ADMIN, Some("wrong")),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 302);
        let location = response
            .headers()
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap();
        let parsed = url::Url::parse(&format!("{}{location}", app.base)).unwrap();
        assert_eq!(parsed.path(), "/login");
        let back_url = parsed
            .query_pairs()
            .find(|(k, _)| k == "back_url")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(back_url, format!("{}/?x=1", app.base));
    }
    let form = app.get("/login").send().await.unwrap();
    assert_eq!(form.status(), 200);
    assert_eq!(form.headers().get("x-frame-options").unwrap(), "DENY");
    assert!(form.text().await.unwrap().contains("name=\"password\""));
}

/// A browser: keeps cookies, does not follow redirects.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn login_session_and_logout() {
    let app = spawn_app().await;
    let browser = browser();
    let wrong = app.sign_in(&browser, ADMIN, "nope", "/").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Invalid user or password"));

    let login = app
        .sign_in(
            &browser,
            ADMIN,
            ADMIN_PASSWORD,
            "https://evil.example/steal",
        )
        .await;
    assert_eq!(login.status(), 302);
    assert_eq!(
        login.headers().get(header::LOCATION).unwrap(),
        "/",
        "foreign back_url ignored"
    );
    let cookie = session_cookie(&login);

    let home = app
        .get("/")
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("OpenProject Admin"));

    let api_without_xhr = app
        .get("/api/v3/users/me")
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        api_without_xhr.status(),
        401,
        "cookies alone do not authenticate API calls (CSRF)"
    );
    let api_with_xhr = app
        .get("/api/v3/users/me")
        .header(header::COOKIE, &cookie)
        .header("X-Requested-With", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(api_with_xhr.status(), 200);

    let forged = app
        .client
        .post(app.url("/logout"))
        .header(header::COOKIE, &cookie)
        .form(&[("authenticity_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 422);
    let token = html
        .split("name=\"authenticity_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let logout = app
        .client
        .post(app.url("/logout"))
        .header(header::COOKIE, &cookie)
        .form(&[("authenticity_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 302);
    let after = app
        .get("/")
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 302, "the session ended");
}

/// Whether `client` is signed in: the home page answers instead of sending it to /login.
async fn signed_in(client: &Client, base: &str) -> bool {
    let home = client.get(format!("{base}/")).send().await.unwrap();
    home.status() == StatusCode::OK
}

/// Login CSRF: a page elsewhere posts the attacker's credentials so the victim's browser works
/// in the attacker's account. Browsers send `Origin: null` from sandboxed frames and some
/// redirects, or no `Origin` at all; the form's token, bound to a pre-session cookie, is what
/// stops it.
#[tokio::test]
async fn sign_in_needs_the_token_of_a_form_this_browser_was_given() {
    let app = spawn_app().await;
    app.create_user("mallory").await;
    // The attacker's own form token, bound to the attacker's own pre-session cookie.
    let attackers_token = login_form_token(&browser(), &app.base).await;
    let victim = browser();
    let form = |token: &'static str| {
        vec![
            ("username", "mallory".to_string()),
            ("password", PASSWORD.to_string()),
            ("back_url", "/".to_string()),
            ("authenticity_token", token.to_string()),
        ]
    };
    let mut attempts = vec![
        ("Origin null, no token", Some("null"), form("")),
        ("no Origin, no token", None, form("")),
    ];
    let mut with_attackers_token = form("");
    with_attackers_token[3].1 = attackers_token.clone();
    attempts.push((
        "Origin null, the attacker's token",
        Some("null"),
        with_attackers_token,
    ));
    for (what, origin, fields) in attempts {
        let mut request = victim.post(app.url("/login")).form(&fields);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 422, "{what}");
        assert!(
            !response
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .any(|c| c.to_str().unwrap().starts_with("_open_project_session=")),
            "{what}: no session"
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains("The sign-in form has expired or was sent from another site."),
            "{what}: {html}"
        );
        assert!(!signed_in(&victim, &app.base).await, "{what}");
    }

    // A foreign Origin is refused even with a good token.
    let token = login_form_token(&victim, &app.base).await;
    let response = victim
        .post(app.url("/login"))
        .header(header::ORIGIN, "https://evil.example")
        .form(&[
            ("username", "mallory"),
            ("password", PASSWORD),
            ("authenticity_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("The sign-in form was sent from another site."));
    assert!(!signed_in(&victim, &app.base).await);

    // The form the browser was given works, once: signing in ends the pre-session cookie.
    let token = login_form_token(&victim, &app.base).await;
    let fields = [
        ("username", "mallory"),
        ("password", PASSWORD),
        ("back_url", "/"),
        ("authenticity_token", token.as_str()),
    ];
    let response = victim
        .post(app.url("/login"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert!(signed_in(&victim, &app.base).await);
    let replay = browser()
        .post(app.url("/login"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.status(),
        422,
        "the token is bound to the victim's cookie"
    );
}

/// In development the server is reached as `localhost` and as `127.0.0.1`; a browser on either
/// name sends that name's `Origin`.
#[tokio::test]
async fn sign_in_works_on_every_name_of_the_server() {
    let app = spawn_app().await;
    let port = url::Url::parse(&app.base).unwrap().port().unwrap();
    for host in ["127.0.0.1", "localhost"] {
        let base = format!("http://{host}:{port}");
        let browser = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .resolve("localhost", ([127, 0, 0, 1], port).into())
            .build()
            .unwrap();
        let token = login_form_token(&browser, &base).await;
        let response = browser
            .post(format!("{base}/login"))
            .header(header::ORIGIN, &base)
            .form(&[
                ("username", ADMIN),
                ("password", ADMIN_PASSWORD),
                ("back_url", "/"),
                ("authenticity_token", token.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            302,
            "{host}: {:?}",
            response.text().await
        );
        assert_eq!(response.headers()[header::LOCATION], "/");
        assert!(signed_in(&browser, &base).await, "{host}");
    }
}

#[tokio::test]
async fn screens_need_a_session_and_unknown_paths_answer_with_an_html_page() {
    let app = spawn_app().await;
    for path in [
        "/admin/settings/storages",
        "/admin/settings/storages/new",
        "/projects/demo/settings/modules",
        "/work_packages/1/files",
        "/my/file_storages",
    ] {
        let response = app.as_admin(app.get(path)).send().await.unwrap();
        assert_eq!(
            response.status(),
            302,
            "{path}: API credentials are not a session"
        );
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        assert!(
            location.starts_with("/login?back_url="),
            "{path}: {location}"
        );
    }
    for path in ["/nothing", "/admin/settings/storages/0/edit", "/api-docs"] {
        let response = app.get(path).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(response.text().await.unwrap().contains("Page not found"));
    }
    // The API keeps its JSON 404.
    let api = app
        .as_admin(app.get("/api/v3/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    assert!(api.text().await.unwrap().contains("NotFound"));

    let script = app.get("/assets/op-pages.js").send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
}

#[tokio::test]
async fn a_screen_about_something_the_caller_cannot_see_is_the_404_page() {
    let app = spawn_app().await;
    let browser = browser();
    let login = app.sign_in(&browser, ADMIN, ADMIN_PASSWORD, "/").await;
    assert_eq!(login.status(), 302);
    for path in [
        "/projects/no-such-project",
        "/projects/no-such-project/settings/project_storages",
        "/work_packages/999",
        "/work_packages/999/files",
        "/admin/settings/storages/999/edit",
    ] {
        let response = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.text().await.unwrap().contains("Page not found"));
    }
    for path in ["/projects", "/admin/settings/storages", "/my/account"] {
        let response = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .split(';')
                .next(),
            Some("default-src 'self'"),
            "{path}: scripts only from our own origin"
        );
    }
}
