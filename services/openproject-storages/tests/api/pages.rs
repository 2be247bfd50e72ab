use reqwest::header;

use crate::helpers::{spawn_app, ADMIN, ADMIN_PASSWORD};

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

#[tokio::test]
async fn login_session_and_logout() {
    let app = spawn_app().await;
    let wrong = app
        .client
        .post(app.url("/login"))
        .form(&[("username", ADMIN), ("password", "nope"), ("back_url", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Invalid user or password"));

    let login = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", ADMIN),
            ("password", ADMIN_PASSWORD),
            ("back_url", "https://evil.example/steal"),
        ])
        .send()
        .await
        .unwrap();
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
