use serde_json::{json, Value};
use service_kit::auth::ThrottlePolicy;

use crate::helpers::{browser, client_from, spawn_app, spawn_app_with, TestApp};

const USER: &str = "/ocs/v2.php/cloud/user?format=json";

#[tokio::test]
async fn app_passwords_work_as_basic_passwords() {
    let app = spawn_app().await;
    app.create_user("ivan", "ivan-password").await;
    let app_password = app.db_create_app_password("ivan", "OpenProject");
    assert_eq!(app_password.len(), 72);
    let response = app
        .get_as(USER, "ivan", &app_password)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ocs"]["data"]["id"], "ivan");
    // Only for its owner.
    let response = app
        .get_as(USER, "admin", &app_password)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_password_change_ends_cached_logins_at_once() {
    let app = spawn_app().await;
    app.create_user("judy", "old-password").await;
    for _ in 0..2 {
        let response = app
            .get_as(USER, "judy", "old-password")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    app.db_set_password("judy", "new-password");
    let response = app
        .get_as(USER, "judy", "old-password")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = app
        .get_as(USER, "judy", "new-password")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn logins_are_case_insensitive() {
    let app = spawn_app().await;
    let response = app
        .get_as(USER, "ADMIN", &app.admin_password)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ocs"]["data"]["id"], "admin");
}

#[tokio::test]
async fn failed_logins_are_throttled_then_refused() {
    let app = spawn_app_with(|s| {
        s.common.throttle = ThrottlePolicy {
            free_failures: 2,
            max_failures: 4,
            window_millis: 60_000,
        }
    })
    .await;
    for _ in 0..4 {
        let response = app.get_as(USER, "admin", "wrong").send().await.unwrap();
        assert_eq!(response.status(), 401);
    }
    // Refused even with the right password, on every family.
    let response = app
        .get_as_admin("/apps/integration_openproject/check-config")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"message": "Too many failed login attempts. Try again later."})
    );
    let response = app.get_as_admin(USER).send().await.unwrap();
    assert_eq!(response.status(), 429);
    // Anonymous and Bearer requests are not logins.
    let response = app.get("/status.php").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let response = app
        .get("/apps/integration_openproject/check-config")
        .bearer_auth("TESTBEARERTOKEN")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// `GET /ocs/v2.php/cloud/user` with Basic credentials, sent by `from`: status and user id.
async fn whoami_from(
    app: &TestApp,
    from: &reqwest::Client,
    user: &str,
    password: &str,
) -> (u16, Option<String>) {
    let response = from
        .get(app.url(USER))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    (
        status,
        body["ocs"]["data"]["id"].as_str().map(str::to_string),
    )
}

/// In development everything comes from 127.0.0.1: 30 failed logins of one account there must
/// not refuse the admin's correct Basic calls, nor another user's login form.
#[tokio::test]
async fn failures_of_other_accounts_never_refuse_a_correct_password() {
    let app = spawn_app_with(|s| {
        s.common.throttle = ThrottlePolicy {
            free_failures: 30,
            max_failures: 30,
            window_millis: 60_000,
        }
    })
    .await;
    app.create_user("bob", "bob-password-1").await;
    app.create_user("carol", "carol-password-1").await;
    for attempt in 1..=30 {
        let (status, _) = whoami_from(&app, &app.api, "bob", "wrong").await;
        assert_eq!(status, 401, "attempt {attempt}");
    }
    assert_eq!(
        whoami_from(&app, &app.api, "bob", "bob-password-1").await.0,
        429,
        "bob's pair is over the limit"
    );
    let login = app.login(&browser(), "bob", "bob-password-1").await;
    assert_eq!(login.status(), 429, "the form shares bob's count");

    let admin = whoami_from(&app, &app.api, &app.admin_user, &app.admin_password).await;
    assert_eq!(admin, (200, Some(app.admin_user.clone())));
    let login = app.login(&browser(), "carol", "carol-password-1").await;
    assert_eq!(login.status(), 303, "carol signs in");
    assert_eq!(
        whoami_from(&app, &client_from("127.0.0.2"), "bob", "bob-password-1").await,
        (200, Some("bob".to_string())),
        "bob from an address that has not failed for him"
    );
}

/// One account guessed at from many addresses meets the account's count wherever it failed,
/// never where it did not.
#[tokio::test]
async fn an_account_guessed_at_from_many_addresses_is_throttled_where_it_failed() {
    let app = spawn_app_with(|s| {
        s.common.throttle = ThrottlePolicy {
            free_failures: 3,
            max_failures: 3,
            window_millis: 60_000,
        }
    })
    .await;
    app.create_user("bob", "bob-password-1").await;
    for n in 2..=4 {
        let from = client_from(&format!("127.0.0.{n}"));
        assert_eq!(whoami_from(&app, &from, "bob", "guess").await.0, 401);
    }
    let guesser = client_from("127.0.0.2");
    assert_eq!(whoami_from(&app, &guesser, "bob", "guess").await.0, 429);
    assert_eq!(
        whoami_from(&app, &guesser, "bob", "bob-password-1").await.0,
        429
    );
    let bob = client_from("127.0.0.5");
    assert_eq!(
        whoami_from(&app, &bob, "bob", "bob-password-1").await.0,
        200
    );
    let (admin, password) = (app.admin_user.clone(), app.admin_password.clone());
    assert_eq!(whoami_from(&app, &guesser, &admin, &password).await.0, 200);
}
