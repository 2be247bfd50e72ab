//! `PUT APP/admin-config`, `POST APP/nc-oauth`, `GET APP/check-admin-config`,
//! `GET APP/project-folder-status`, `POST APP/sign-term-of-service` (contract §3.3, §3.4), and
//! the security layer of every admin route.

use reqwest::Method;
use serde_json::{json, Value};
use storage_protocol::{
    fixtures::load,
    integration_app::{keys, messages},
};

use service_kit::auth::ThrottlePolicy;

use crate::helpers::{
    assert_shape, browser, is_alphanumeric, spawn_app, spawn_app_with, status_and_json,
};

const OP_URL: &str = "http://op.example";

/// Every admin route with a body that would succeed for an admin.
fn admin_routes() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (
            Method::POST,
            "setup",
            Some(json!({"values": {"openproject_instance_url": OP_URL}})),
        ),
        (
            Method::PATCH,
            "setup",
            Some(json!({"values": {"token_exchange": true}})),
        ),
        (Method::DELETE, "setup", None),
        (
            Method::PUT,
            "admin-config",
            Some(json!({"values": {"token_exchange": true}})),
        ),
        (Method::POST, "nc-oauth", None),
        (Method::GET, "check-admin-config", None),
        (Method::GET, "project-folder-status", None),
        (Method::POST, "sign-term-of-service", None),
    ]
}

#[tokio::test]
async fn admin_routes_refuse_anonymous_callers_wrong_credentials_and_non_admins() {
    // Many wrong logins on purpose: keep the throttle out of the way.
    let app = spawn_app_with(|s| {
        s.common.throttle = ThrottlePolicy {
            free_failures: 1000,
            max_failures: 2000,
            window_millis: 60_000,
        }
    })
    .await;
    app.create_user("ursula", "ursula-password").await;
    for prefix in [
        "/index.php/apps/integration_openproject",
        "/apps/integration_openproject",
    ] {
        for (method, path, body) in admin_routes() {
            let url = app.url(&format!("{prefix}/{path}"));
            let request = |builder: reqwest::RequestBuilder| match &body {
                Some(body) => builder.json(body),
                None => builder,
            };
            let anonymous = request(app.api.request(method.clone(), &url))
                .send()
                .await
                .unwrap();
            assert_eq!(
                status_and_json(anonymous).await,
                (401, load("nc_security_not_logged_in")),
                "{method} {url}"
            );
            let wrong = request(app.api.request(method.clone(), &url))
                .basic_auth(&app.admin_user, Some("wrong"))
                .send()
                .await
                .unwrap();
            assert_eq!(
                status_and_json(wrong).await,
                (401, load("nc_security_not_logged_in")),
                "{method} {url}"
            );
            // A non-admin is refused even with a malformed body.
            let user = app
                .api
                .request(method.clone(), &url)
                .basic_auth("ursula", Some("ursula-password"))
                .header("Content-Type", "application/json")
                .body("{oops")
                .send()
                .await
                .unwrap();
            assert_eq!(
                status_and_json(user).await,
                (403, load("nc_security_must_be_admin")),
                "{method} {url}"
            );
        }
    }
    // Nothing was changed by any of them.
    assert!(app.db_oauth_clients().is_empty());
    assert_eq!(app.db_app_config(keys::TOKEN_EXCHANGE), None);
}

#[tokio::test]
async fn the_checks_start_false_and_terms_are_signed() {
    let app = spawn_app().await;
    let (status, check) = app
        .admin_call(Method::GET, "check-admin-config", None)
        .await;
    assert_eq!((status, check), (200, load("nc_check_admin_config")));
    let (status, folder) = app
        .admin_call(Method::GET, "project-folder-status", None)
        .await;
    assert_eq!((status, folder), (200, load("nc_project_folder_status")));
    let (status, signed) = app
        .admin_call(Method::POST, "sign-term-of-service", None)
        .await;
    assert_eq!((status, signed), (200, load("nc_sign_term_of_service")));
}

/// flows.md §1, steps 1 and 3, on the Nextcloud side.
#[tokio::test]
async fn the_admin_pages_setup_steps() {
    let app = spawn_app().await;
    let put = |values: Value| {
        app.admin_call(
            Method::PUT,
            "admin-config",
            Some(json!({ "values": values })),
        )
    };

    let (status, body) = put(json!({"openproject_instance_url": OP_URL})).await;
    assert_eq!(
        (status, body),
        (200, load("nc_admin_config_response").with_status(false))
    );

    let (status, body) = put(json!({
        "openproject_client_id": "op-id", "openproject_client_secret": "op-secret",
        "default_enable_navigation": false, "default_enable_unified_search": false,
        "setup_project_folder": false, "setup_app_password": false
    }))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"status": false, "oPUserAppPassword": null}),
        "no client yet"
    );
    assert_eq!(
        app.db_app_config(keys::FRESH_PROJECT_FOLDER_SETUP)
            .as_deref(),
        Some("0")
    );

    let (status, client) = app.admin_call(Method::POST, "nc-oauth", None).await;
    assert_eq!(status, 200, "{client}");
    assert_shape(&client, "nc_nc_oauth_response");
    assert_eq!(client["nextcloud_oauth_client_name"], "OpenProject client");
    assert!(is_alphanumeric(&client["nextcloud_client_id"], 64));
    assert!(is_alphanumeric(&client["nextcloud_client_secret"], 64));
    assert_eq!(
        client["openproject_redirect_uri"],
        format!(
            "{OP_URL}/oauth_clients/{}/callback",
            client["nextcloud_client_id"].as_str().unwrap()
        )
    );
    let (_, check) = app
        .admin_call(Method::GET, "check-admin-config", None)
        .await;
    assert_eq!(check["config_status_without_project_folder"], true);

    // nc-oauth again rotates.
    let (_, again) = app.admin_call(Method::POST, "nc-oauth", None).await;
    assert_ne!(again["nextcloud_client_id"], client["nextcloud_client_id"]);
    let rows = app.db_oauth_clients();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].client_identifier,
        again["nextcloud_client_id"].as_str().unwrap()
    );
    assert!(again.get("openproject_revocation_status").is_none());
}

#[tokio::test]
async fn admin_config_takes_any_scalar_and_refuses_the_rest() {
    let app = spawn_app().await;
    let put = |body: Value| app.admin_call(Method::PUT, "admin-config", Some(body));
    let (status, body) = put(json!({"values": {
        "oidc_provider": null, "sso_provider_type": "", "token_exchange": 1,
        "authorization_method": "oauth2", "openproject_instance_url": "not a url"
    }}))
    .await;
    assert_eq!(
        (status, body),
        (200, json!({"status": false, "oPUserAppPassword": null}))
    );
    assert_eq!(
        app.db_app_config(keys::TOKEN_EXCHANGE).as_deref(),
        Some("1")
    );
    assert_eq!(app.db_app_config(keys::OIDC_PROVIDER).as_deref(), Some(""));
    assert_eq!(
        app.db_app_config(keys::OPENPROJECT_INSTANCE_URL).as_deref(),
        Some("not a url")
    );

    for (body, message) in [
        (json!({}), messages::INVALID_SETTINGS.to_string()),
        (json!({"values": null}), messages::INVALID_SETTINGS.into()),
        (json!([1]), messages::INVALID_SETTINGS.into()),
        (
            json!({"values": {"token_exchange": {}, "nope": 1}}),
            messages::unknown_setting("nope"),
        ),
        (
            json!({"values": {"token_exchange": true, "openproject_client_id": ["x"]}}),
            messages::invalid_value("openproject_client_id"),
        ),
    ] {
        assert_eq!(
            put(body.clone()).await,
            (400, json!({ "error": message })),
            "{body}"
        );
    }
    let response = app
        .api
        .put(app.app_url("admin-config"))
        .basic_auth(&app.admin_user, Some(&app.admin_password))
        .header("Content-Type", "application/json")
        .body("{\"values\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(response).await,
        (400, json!({"error": messages::INVALID_SETTINGS}))
    );
}

#[tokio::test]
async fn admin_config_effects() {
    let app = spawn_app().await;
    let (_, posted) = app
        .setup(
            Method::POST,
            json!({
                "openproject_instance_url": OP_URL, "openproject_client_id": "op-id",
                "openproject_client_secret": "op-secret", "default_enable_navigation": false,
                "default_enable_unified_search": false, "setup_project_folder": false,
                "setup_app_password": false
            }),
        )
        .await;
    app.create_user("ann", "ann-password").await;
    app.db_connect_user("ann");
    let put = |values: Value| {
        app.admin_call(
            Method::PUT,
            "admin-config",
            Some(json!({ "values": values })),
        )
    };

    // A URL change moves the redirect URI; tokens stay.
    let (status, body) = put(json!({"openproject_instance_url": "https://moved.example"})).await;
    assert_eq!((status, body), (200, load("nc_admin_config_response")));
    let rows = app.db_oauth_clients();
    assert_eq!(
        rows[0].client_identifier,
        posted["nextcloud_client_id"].as_str().unwrap()
    );
    assert_eq!(
        rows[0].redirect_uri,
        format!(
            "https://moved.example/oauth_clients/{}/callback",
            rows[0].client_identifier
        )
    );
    assert_eq!(app.db_preference_keys("ann").len(), 7);

    // A changed secret (here: emptied) clears every connection.
    let (_, body) = put(json!({"openproject_client_secret": null})).await;
    assert_eq!(body["status"], false);
    assert_eq!(app.db_preference_keys("ann"), ["search_enabled"]);
    assert_eq!(
        app.db_app_config(keys::OPENPROJECT_CLIENT_SECRET)
            .as_deref(),
        Some("")
    );

    // Team folders through admin-config.
    let (status, body) =
        put(json!({"setup_project_folder": true, "setup_app_password": true})).await;
    assert_eq!(status, 200, "{body}");
    assert_shape(&body, "nc_admin_config_response_with_app_password");
    assert!(is_alphanumeric(&body["oPUserAppPassword"], 72));
    let (status, body) = put(json!({"setup_project_folder": true})).await;
    assert_eq!(
        (status, body),
        (409, json!({"error": messages::USER_EXISTS}))
    );

    // Emptying URL and authorization method is a reset: the client goes, the setup is fresh.
    let (status, body) =
        put(json!({"openproject_instance_url": "", "authorization_method": null})).await;
    assert_eq!(
        (status, body),
        (200, json!({"status": false, "oPUserAppPassword": null}))
    );
    assert!(app.db_oauth_clients().is_empty());
    assert_eq!(
        app.db_app_config(keys::FRESH_PROJECT_FOLDER_SETUP)
            .as_deref(),
        Some("1")
    );

    // nc-oauth needs a URL.
    let (status, body) = app.admin_call(Method::POST, "nc-oauth", None).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "OpenProject admin config is not valid!"})
        )
    );
    assert!(app.db_oauth_clients().is_empty());
}

#[tokio::test]
async fn cookie_sessions_need_a_csrf_token_for_admin_config_and_nc_oauth() {
    let app = spawn_app().await;
    let browser = browser();
    app.login(&browser, &app.admin_user, &app.admin_password)
        .await;
    let token = app.page_token(&browser).await;
    let body = json!({"values": {"openproject_instance_url": OP_URL}});

    let refused = browser
        .put(app.app_url("admin-config"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(refused).await,
        (412, json!({"message": "CSRF check failed"}))
    );
    let refused = browser
        .put(app.app_url("admin-config"))
        .header("requesttoken", "forged")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 412);
    assert_eq!(app.db_app_config(keys::OPENPROJECT_INSTANCE_URL), None);

    let accepted = browser
        .put(app.app_url("admin-config"))
        .header("requesttoken", &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let accepted = browser
        .put(app.app_url("admin-config"))
        .header("OCS-APIRequest", "true")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);

    let refused = browser.post(app.app_url("nc-oauth")).send().await.unwrap();
    assert_eq!(refused.status(), 412);
    assert!(app.db_oauth_clients().is_empty());
    let accepted = browser
        .post(app.app_url(&format!("nc-oauth?requesttoken={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    assert_eq!(app.db_oauth_clients().len(), 1);

    // Reads need no token.
    let check = browser
        .get(app.app_url("check-admin-config"))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 200);
}

trait WithStatus {
    fn with_status(self, status: bool) -> Self;
}

impl WithStatus for Value {
    fn with_status(mut self, status: bool) -> Self {
        self["status"] = json!(status);
        self
    }
}
