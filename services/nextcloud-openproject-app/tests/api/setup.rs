//! `POST`, `PATCH` and `DELETE APP/setup` (contract §3.1).

use reqwest::Method;
use serde_json::{json, Value};
use service_kit::crypto::digest;
use storage_protocol::integration_app::{keys, messages};

use crate::helpers::{assert_shape, browser, is_alphanumeric, spawn_app, status_and_json, APP};

const OP_URL: &str = "http://op.example";

/// A complete POST body without team folders.
fn full() -> Value {
    json!({
        "openproject_instance_url": OP_URL,
        "openproject_client_id": "op-client-id",
        "openproject_client_secret": "op-client-secret",
        "default_enable_navigation": false,
        "default_enable_unified_search": false,
        "setup_project_folder": false,
        "setup_app_password": false
    })
}

fn with(mut values: Value, key: &str, value: Value) -> Value {
    values[key] = value;
    values
}

fn without(mut values: Value, key: &str) -> Value {
    values.as_object_mut().unwrap().remove(key);
    values
}

/// An object with the given keys in this order (`json!` keeps the order it is written in).
fn ordered(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn error(message: &str) -> Value {
    json!({ "error": message })
}

#[tokio::test]
async fn every_validation_message_in_its_order() {
    let app = spawn_app().await;
    let invalid = messages::INVALID_SETTINGS;
    let team = messages::INVALID_TEAM_FOLDER_SETUP;
    let cases: Vec<(Method, Value, String)> = vec![
        // 1. not a values object
        (Method::POST, json!([]), invalid.into()),
        (Method::POST, json!({}), invalid.into()),
        (Method::POST, json!({"values": {}}), invalid.into()),
        (Method::PATCH, json!({"values": null}), invalid.into()),
        (
            Method::PATCH,
            json!({"values": ["openproject_instance_url"]}),
            invalid.into(),
        ),
        (Method::PATCH, json!({"values": "x"}), invalid.into()),
        (
            Method::PATCH,
            json!({"vals": {"token_exchange": true}}),
            invalid.into(),
        ),
        // 2. the first unknown key in request order, before anything else
        (
            Method::POST,
            json!({"values": ordered(&[
                ("openproject_instance_url", json!(null)),
                ("zeta", json!(1)),
                ("alpha", json!(1)),
            ])}),
            messages::unknown_setting("zeta"),
        ),
        (
            Method::PATCH,
            json!({"values": {"token_exchange": "x", "oidc_provider_id": "x"}}),
            messages::unknown_setting("oidc_provider_id"),
        ),
        // 3.2 the URL's absence first
        (
            Method::POST,
            json!({"values": {"authorization_method": "oidc", "setup_app_password": 1}}),
            messages::missing_required_field(keys::OPENPROJECT_INSTANCE_URL),
        ),
        // 3.3 then the authorization method
        (
            Method::POST,
            json!({"values": {"openproject_instance_url": "nope", "authorization_method": "oidc"}}),
            messages::INVALID_AUTHORIZATION_METHOD.into(),
        ),
        // 3.4 then the first absent key of the contract's list, whatever the request order
        (
            Method::POST,
            json!({"values": {"openproject_client_secret": "s", "openproject_instance_url": 5}}),
            messages::missing_required_field(keys::DEFAULT_ENABLE_NAVIGATION),
        ),
        (
            Method::POST,
            json!({"values": with(without(full(), "openproject_client_secret"), "openproject_instance_url", json!("bad"))}),
            messages::missing_required_field(keys::OPENPROJECT_CLIENT_SECRET),
        ),
        (
            Method::POST,
            json!({"values": with(without(full(), "setup_app_password"), "setup_project_folder", json!(null))}),
            messages::missing_required_field(keys::SETUP_APP_PASSWORD),
        ),
        // 3.5 then the team-folder consistency
        (
            Method::POST,
            json!({"values": with(with(full(), "setup_app_password", json!(true)), "openproject_instance_url", json!("bad"))}),
            team.into(),
        ),
        // 4. then each key in request order
        (
            Method::POST,
            json!({"values": with(with(full(), "openproject_instance_url", json!("ftp://op.example")), "default_enable_navigation", json!("no"))}),
            messages::INVALID_OPENPROJECT_URL.into(),
        ),
        (
            Method::POST,
            json!({"values": ordered(&[
                ("default_enable_navigation", json!("no")),
                ("openproject_instance_url", json!("ftp://op.example")),
                ("openproject_client_id", json!("id")),
                ("openproject_client_secret", json!("secret")),
                ("default_enable_unified_search", json!(true)),
                ("setup_project_folder", json!(false)),
                ("setup_app_password", json!(false)),
            ])}),
            messages::invalid_value(keys::DEFAULT_ENABLE_NAVIGATION),
        ),
        (
            Method::POST,
            json!({"values": with(full(), "openproject_instance_url", json!("op.example"))}),
            messages::INVALID_OPENPROJECT_URL.into(),
        ),
        (
            Method::POST,
            json!({"values": with(full(), "openproject_instance_url", json!(["http://op.example"]))}),
            messages::invalid_value(keys::OPENPROJECT_INSTANCE_URL),
        ),
        // PATCH: no required keys and no consistency rule, the per-key checks only
        (
            Method::PATCH,
            json!({"values": {"setup_project_folder": true, "setup_app_password": false, "token_exchange": "yes"}}),
            messages::invalid_value(keys::TOKEN_EXCHANGE),
        ),
        (
            Method::PATCH,
            json!({"values": {"authorization_method": "oidc"}}),
            messages::INVALID_AUTHORIZATION_METHOD.into(),
        ),
        (
            Method::PATCH,
            json!({"values": {"sso_provider_type": "keycloak"}}),
            messages::invalid_value(keys::SSO_PROVIDER_TYPE),
        ),
        (
            Method::PATCH,
            json!({"values": {"openproject_client_secret": 42}}),
            messages::invalid_value(keys::OPENPROJECT_CLIENT_SECRET),
        ),
        (
            Method::PATCH,
            json!({"values": {"default_enable_unified_search": 1}}),
            messages::invalid_value(keys::DEFAULT_ENABLE_UNIFIED_SEARCH),
        ),
    ];
    for (method, body, expected) in cases {
        let (status, answer) = app
            .admin_call(method.clone(), "setup", Some(body.clone()))
            .await;
        assert_eq!((status, answer), (400, error(&expected)), "{method} {body}");
    }
    // Nothing was stored by any of them.
    assert!(app.db_oauth_clients().is_empty());
    assert_eq!(app.db_app_config(keys::OPENPROJECT_INSTANCE_URL), None);
}

#[tokio::test]
async fn null_and_empty_strings_are_refused_for_every_key() {
    let app = spawn_app().await;
    let all = [
        keys::OPENPROJECT_INSTANCE_URL,
        keys::AUTHORIZATION_METHOD,
        keys::DEFAULT_ENABLE_NAVIGATION,
        keys::DEFAULT_ENABLE_UNIFIED_SEARCH,
        keys::SETUP_PROJECT_FOLDER,
        keys::SETUP_APP_PASSWORD,
        keys::TOKEN_EXCHANGE,
        keys::OPENPROJECT_CLIENT_ID,
        keys::OPENPROJECT_CLIENT_SECRET,
        keys::OIDC_PROVIDER,
        keys::TARGETED_AUDIENCE_CLIENT_ID,
        keys::SSO_PROVIDER_TYPE,
    ];
    for key in all {
        let expected = if key == keys::AUTHORIZATION_METHOD {
            messages::INVALID_AUTHORIZATION_METHOD.to_string()
        } else {
            messages::invalid_value(key)
        };
        for value in [json!(null), json!("")] {
            let (status, body) = app.setup(Method::PATCH, json!({ key: value })).await;
            assert_eq!(
                (status, body),
                (400, error(&expected)),
                "PATCH {key}={value}"
            );
            let (status, body) = app
                .setup(Method::POST, with(full(), key, value.clone()))
                .await;
            assert_eq!(
                (status, body),
                (400, error(&expected)),
                "POST {key}={value}"
            );
        }
    }
}

#[tokio::test]
async fn malformed_and_oversized_bodies() {
    let app = spawn_app().await;
    for method in [Method::POST, Method::PATCH] {
        let response = app
            .api
            .request(method, app.app_url("setup"))
            .basic_auth(&app.admin_user, Some(&app.admin_password))
            .header("Content-Type", "application/json")
            .body("{\"values\": {\"openproject_instance_url\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(
            status_and_json(response).await,
            (400, error(messages::INVALID_SETTINGS))
        );
    }
    let response = app
        .api
        .post(app.app_url("setup"))
        .basic_auth(&app.admin_user, Some(&app.admin_password))
        .header("Content-Type", "application/json")
        .body("x".repeat(1024 * 1024 + 1))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(response).await,
        (413, error("The request body is too large."))
    );
}

#[tokio::test]
async fn post_creates_the_client_and_a_second_post_rotates_it() {
    let app = spawn_app().await;
    let (status, first) = app.setup(Method::POST, full()).await;
    assert_eq!(status, 200, "{first}");
    assert_shape(&first, "nc_setup_post_response_without_app_password");
    assert_eq!(first["status"], true);
    assert_eq!(first["nextcloud_oauth_client_name"], "OpenProject client");
    assert!(is_alphanumeric(&first["nextcloud_client_id"], 64));
    assert!(is_alphanumeric(&first["nextcloud_client_secret"], 64));
    let client_id = first["nextcloud_client_id"].as_str().unwrap();
    let secret = first["nextcloud_client_secret"].as_str().unwrap();
    assert_eq!(
        first["openproject_redirect_uri"],
        format!("{OP_URL}/oauth_clients/{client_id}/callback")
    );
    let rows = app.db_oauth_clients();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].client_identifier, client_id);
    // Only a keyed digest (HMAC under NCOA_SECRET_KEY) is stored, never the secret or its
    // plain SHA-256.
    assert!(
        rows[0].secret_digest.starts_with("hmac-sha256:"),
        "only a keyed digest is stored"
    );
    assert_ne!(
        rows[0].secret_digest,
        format!("hmac-sha256:{}", digest(secret))
    );
    assert!(!rows[0].secret_digest.contains(secret));

    let (_, check) = app
        .admin_call(Method::GET, "check-admin-config", None)
        .await;
    assert_eq!(
        check,
        json!({"config_status_without_project_folder": true, "project_folder_setup_status": false})
    );

    // A trailing slash is not doubled; the second POST rotates id and secret.
    let (status, second) = app
        .setup(
            Method::POST,
            with(
                full(),
                "openproject_instance_url",
                json!("http://op.example/"),
            ),
        )
        .await;
    assert_eq!(status, 200);
    let new_id = second["nextcloud_client_id"].as_str().unwrap();
    assert_ne!(new_id, client_id);
    assert_ne!(
        second["nextcloud_client_secret"],
        first["nextcloud_client_secret"]
    );
    assert_eq!(
        second["openproject_redirect_uri"],
        format!("{OP_URL}/oauth_clients/{new_id}/callback")
    );
    let rows = app.db_oauth_clients();
    assert_eq!(rows.len(), 1, "the old client is gone");
    assert_eq!(rows[0].client_identifier, new_id);
    assert!(second.get("openproject_revocation_status").is_none());
}

#[tokio::test]
async fn patch_keeps_the_client_and_applies_each_key() {
    let app = spawn_app().await;
    let (_, posted) = app.setup(Method::POST, full()).await;
    let client_id = posted["nextcloud_client_id"].as_str().unwrap().to_string();
    let internal_id = app.db_oauth_clients()[0].id;
    for uid in ["ann", "ben"] {
        app.create_user(uid, &format!("{uid}-password")).await;
        app.db_connect_user(uid);
    }

    // A URL change moves the redirect URI only: same client, no secret, tokens kept.
    let (status, patched) = app
        .setup(
            Method::PATCH,
            json!({"openproject_instance_url": " https://moved.example/ "}),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_shape(&patched, "nc_setup_patch_response");
    assert_eq!(
        patched,
        json!({
            "status": true,
            "id": internal_id,
            "nextcloud_oauth_client_name": "OpenProject client",
            "openproject_redirect_uri": format!("https://moved.example/oauth_clients/{client_id}/callback"),
            "nextcloud_client_id": client_id,
        })
    );
    assert_eq!(
        app.db_app_config(keys::OPENPROJECT_INSTANCE_URL).as_deref(),
        Some("https://moved.example/"),
        "stored trimmed"
    );
    let rows = app.db_oauth_clients();
    assert_eq!((rows.len(), rows[0].id), (1, internal_id));
    assert_eq!(app.db_preference_keys("ann").len(), 7);

    // The same OpenProject credentials again: nothing is cleared.
    let (status, _) = app
        .setup(
            Method::PATCH,
            json!({"openproject_client_id": "op-client-id", "openproject_client_secret": "op-client-secret"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.db_preference_keys("ben").len(), 7);

    // A new secret clears every user's connection (the toggle stays).
    let (_, patched) = app
        .setup(
            Method::PATCH,
            json!({"openproject_client_secret": "rotated-secret"}),
        )
        .await;
    assert_eq!(patched["status"], true);
    assert_eq!(patched["nextcloud_client_id"], client_id.as_str());
    for uid in ["ann", "ben"] {
        assert_eq!(app.db_preference_keys(uid), ["search_enabled"]);
    }
    let stored = app.db_app_config(keys::OPENPROJECT_CLIENT_SECRET).unwrap();
    assert!(stored.starts_with("v1.") && !stored.contains("rotated-secret"));

    // So does a new client id.
    app.db_connect_user("ann");
    app.setup(Method::PATCH, json!({"openproject_client_id": "new-id"}))
        .await;
    assert_eq!(app.db_preference_keys("ann"), ["search_enabled"]);

    // The other keys are stored in their stored form.
    let (status, patched) = app
        .setup(
            Method::PATCH,
            json!({
                "default_enable_navigation": true, "default_enable_unified_search": false,
                "token_exchange": true, "oidc_provider": " keycloak ",
                "targeted_audience_client_id": "aud", "sso_provider_type": "external",
                "authorization_method": "oauth2"
            }),
        )
        .await;
    assert_eq!((status, &patched["status"]), (200, &json!(true)));
    for (key, value) in [
        (keys::DEFAULT_ENABLE_NAVIGATION, "1"),
        (keys::DEFAULT_ENABLE_UNIFIED_SEARCH, ""),
        (keys::TOKEN_EXCHANGE, "1"),
        (keys::OIDC_PROVIDER, "keycloak"),
        (keys::TARGETED_AUDIENCE_CLIENT_ID, "aud"),
        (keys::SSO_PROVIDER_TYPE, "external"),
        (keys::AUTHORIZATION_METHOD, "oauth2"),
    ] {
        assert_eq!(app.db_app_config(key).as_deref(), Some(value), "{key}");
    }
    // The team-folder flags are actions, never stored.
    app.setup(Method::PATCH, json!({"setup_app_password": false}))
        .await;
    assert_eq!(app.db_app_config(keys::SETUP_APP_PASSWORD), None);
    assert_eq!(app.db_oauth_clients()[0].id, internal_id, "never rotated");
}

#[tokio::test]
async fn delete_resets_and_a_patch_afterwards_creates_a_client() {
    let app = spawn_app().await;
    let values = with(
        with(full(), "setup_project_folder", json!(true)),
        "setup_app_password",
        json!(true),
    );
    let (status, posted) = app.setup(Method::POST, values).await;
    assert_eq!(status, 200, "{posted}");
    let app_password = posted["openproject_user_app_password"]
        .as_str()
        .unwrap()
        .to_string();
    app.create_user("ann", "ann-password").await;
    app.db_connect_user("ann");
    assert_eq!(
        app.db_app_config(keys::FRESH_PROJECT_FOLDER_SETUP)
            .as_deref(),
        Some("0")
    );

    // DELETE has no body and answers {"status": true}.
    let response = app
        .api
        .delete(app.app_url("setup"))
        .basic_auth(&app.admin_user, Some(&app.admin_password))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(
        (status, body),
        (
            200,
            storage_protocol::fixtures::load("nc_setup_delete_response")
        )
    );
    assert!(app.db_oauth_clients().is_empty());
    assert_eq!(app.db_app_config(keys::NC_OAUTH_CLIENT_ID), None);
    for key in [
        keys::OPENPROJECT_INSTANCE_URL,
        keys::AUTHORIZATION_METHOD,
        keys::OPENPROJECT_CLIENT_ID,
        keys::OPENPROJECT_CLIENT_SECRET,
        keys::DEFAULT_ENABLE_NAVIGATION,
        keys::DEFAULT_ENABLE_UNIFIED_SEARCH,
        keys::TOKEN_EXCHANGE,
        keys::OIDC_PROVIDER,
        keys::TARGETED_AUDIENCE_CLIENT_ID,
        keys::SSO_PROVIDER_TYPE,
    ] {
        assert_eq!(app.db_app_config(key).as_deref(), Some(""), "{key}");
    }
    assert_eq!(
        app.db_app_config(keys::FRESH_PROJECT_FOLDER_SETUP)
            .as_deref(),
        Some("1")
    );
    assert_eq!(app.db_preference_keys("ann"), ["search_enabled"]);
    // The OpenProject user, groups, team folder and app password stay.
    let (_, check) = app
        .admin_call(Method::GET, "check-admin-config", None)
        .await;
    assert_eq!(
        check,
        json!({"config_status_without_project_folder": false, "project_folder_setup_status": true})
    );
    let (_, folder) = app
        .admin_call(Method::GET, "project-folder-status", None)
        .await;
    assert_eq!(folder, json!({"result": true}));
    let response = app
        .get_as(
            "/ocs/v2.php/cloud/user?format=json",
            "OpenProject",
            &app_password,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // No URL: no client, just the status.
    let (status, patched) = app
        .setup(Method::PATCH, json!({"token_exchange": false}))
        .await;
    assert_eq!((status, &patched), (200, &json!({"status": false})));
    assert_shape(&patched, "nc_setup_patch_response_no_client");

    // A URL: the client is created and its secret shown, without `id`.
    let (status, patched) = app
        .setup(Method::PATCH, json!({"openproject_instance_url": OP_URL}))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_shape(&patched, "nc_setup_patch_response_created");
    assert_eq!(patched["status"], false, "credentials are still empty");
    let rows = app.db_oauth_clients();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].client_identifier,
        patched["nextcloud_client_id"].as_str().unwrap()
    );
    assert!(rows[0].secret_digest.starts_with("hmac-sha256:"));
    assert!(!rows[0]
        .secret_digest
        .contains(patched["nextcloud_client_secret"].as_str().unwrap()));

    // The next PATCH finds it: `id`, no secret.
    let (_, again) = app
        .setup(
            Method::PATCH,
            json!({"openproject_client_id": "id", "openproject_client_secret": "secret",
                   "setup_project_folder": false, "setup_app_password": true}),
        )
        .await;
    assert_eq!(again["id"], rows[0].id);
    assert!(again.get("nextcloud_client_secret").is_none());
    assert_eq!(
        again["status"], true,
        "naming both flags ends the fresh state"
    );
    assert!(is_alphanumeric(&again["openproject_user_app_password"], 72));
}

#[tokio::test]
async fn the_team_folder_path_and_its_app_password() {
    let app = spawn_app().await;
    let values = with(
        with(full(), "setup_project_folder", json!(true)),
        "setup_app_password",
        json!(true),
    );
    let (status, posted) = app.setup(Method::POST, values.clone()).await;
    assert_eq!(status, 200, "{posted}");
    assert_shape(&posted, "nc_setup_post_response");
    assert!(is_alphanumeric(
        &posted["openproject_user_app_password"],
        72
    ));
    let password = posted["openproject_user_app_password"].as_str().unwrap();

    // The app password works as a Basic password; the user is in both groups.
    let response = app
        .get_as(
            "/ocs/v2.php/cloud/user?format=json",
            "OpenProject",
            password,
        )
        .send()
        .await
        .unwrap();
    let (status, user) = status_and_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(user["ocs"]["data"]["id"], "OpenProject");
    assert_eq!(
        user["ocs"]["data"]["groups"],
        json!(["OpenProject", "OpenProjectNoAutomaticProjectFolders"])
    );
    let response = app
        .get_as(&format!("{APP}/check-config"), "OpenProject", password)
        .send()
        .await
        .unwrap();
    assert_eq!(status_and_json(response).await.1["user_id"], "OpenProject");
    let (_, folder) = app
        .admin_call(Method::GET, "project-folder-status", None)
        .await;
    assert_eq!(folder, json!({"result": true}));
    let (_, check) = app
        .admin_call(Method::GET, "check-admin-config", None)
        .await;
    assert_eq!(
        check,
        json!({"config_status_without_project_folder": true, "project_folder_setup_status": true})
    );

    // A second POST with team folders conflicts, and changes nothing.
    let client_before = app.db_oauth_clients();
    let (status, body) = app
        .setup(
            Method::POST,
            with(
                values,
                "openproject_instance_url",
                json!("http://other.example"),
            ),
        )
        .await;
    assert_eq!((status, body), (409, error(messages::USER_EXISTS)));
    assert_eq!(app.db_oauth_clients(), client_before);
    assert_eq!(
        app.db_app_config(keys::OPENPROJECT_INSTANCE_URL).as_deref(),
        Some(OP_URL)
    );
    let (status, body) = app
        .setup(Method::PATCH, json!({"setup_project_folder": true}))
        .await;
    assert_eq!((status, body), (409, error(messages::USER_EXISTS)));

    // PATCH replaces the app password: the old one stops working.
    let (status, patched) = app
        .setup(Method::PATCH, json!({"setup_app_password": true}))
        .await;
    assert_eq!(status, 200);
    let new_password = patched["openproject_user_app_password"].as_str().unwrap();
    assert_ne!(new_password, password);
    for (candidate, expected) in [(password, 401), (new_password, 200)] {
        let response = app
            .get_as(
                "/ocs/v1.php/cloud/user?format=json",
                "OpenProject",
                candidate,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
    }

    // `false` deletes it.
    let (_, patched) = app
        .setup(Method::PATCH, json!({"setup_app_password": false}))
        .await;
    assert!(patched.get("openproject_user_app_password").is_none());
    let response = app
        .get_as(
            "/ocs/v2.php/cloud/user?format=json",
            "OpenProject",
            new_password,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let (_, check) = app
        .admin_call(Method::GET, "check-admin-config", None)
        .await;
    assert_eq!(check["project_folder_setup_status"], false);

    // A POST without team folders is fine with them in place.
    let (status, _) = app.setup(Method::POST, full()).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn team_folder_conflicts_in_order() {
    use nextcloud_openproject_app::db::{groups, team_folders};
    let team = with(
        with(full(), "setup_project_folder", json!(true)),
        "setup_app_password",
        json!(true),
    );

    let app = spawn_app().await;
    let (status, body) = app
        .setup(Method::PATCH, json!({"setup_app_password": true}))
        .await;
    assert_eq!(
        (status, body),
        (404, error(messages::APP_PASSWORD_USER_MISSING))
    );

    // A team folder of that name.
    team_folders::insert(
        &mut app.db.get().unwrap(),
        &team_folders::NewTeamFolderRow {
            name: "OpenProject",
            gid: "admin",
            permissions: 31,
            acl: false,
            acl_manager_uid: "admin",
            created_at: 0,
        },
    )
    .unwrap();
    let (status, body) = app.setup(Method::POST, team.clone()).await;
    assert_eq!((status, body), (409, error(messages::TEAM_FOLDER_EXISTS)));
    let (_, folder) = app
        .admin_call(Method::GET, "project-folder-status", None)
        .await;
    assert_eq!(folder, json!({"result": false}), "not the group's folder");

    // The group beats the team folder, the user beats both.
    groups::insert(&mut app.db.get().unwrap(), "OpenProject").unwrap();
    let (status, body) = app.setup(Method::POST, team.clone()).await;
    assert_eq!((status, body), (409, error(messages::GROUP_EXISTS)));
    app.create_user("OpenProject", "some-password").await;
    let (status, body) = app.setup(Method::POST, team).await;
    assert_eq!((status, body), (409, error(messages::USER_EXISTS)));

    // Nothing of those requests was stored.
    assert!(app.db_oauth_clients().is_empty());
    assert_eq!(app.db_app_config(keys::OPENPROJECT_INSTANCE_URL), None);
    assert_eq!(
        app.db_app_config(keys::FRESH_PROJECT_FOLDER_SETUP)
            .as_deref(),
        Some("1")
    );
}

#[tokio::test]
async fn settings_survive_a_restart_and_the_secret_is_encrypted_at_rest() {
    let app = spawn_app().await;
    let (_, posted) = app.setup(Method::POST, full()).await;
    let stored = app.db_app_config(keys::OPENPROJECT_CLIENT_SECRET).unwrap();
    assert_ne!(stored, "op-client-secret");
    assert!(!stored.contains("op-client-secret"));
    assert!(app
        .db_oauth_clients()
        .iter()
        .all(|row| row.secret_digest != posted["nextcloud_client_secret"]));

    let second = app.restart().await;
    assert_ne!(second, app.address);
    let check = app
        .api
        .get(format!("{second}{APP}/check-admin-config"))
        .basic_auth(&app.admin_user, Some(&app.admin_password))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(check).await,
        (
            200,
            json!({"config_status_without_project_folder": true, "project_folder_setup_status": false})
        )
    );
    // The restarted server reads the sealed secret back: the same secret changes nothing.
    app.create_user("ann", "ann-password").await;
    app.db_connect_user("ann");
    let response = app
        .api
        .patch(format!("{second}/apps/integration_openproject/setup"))
        .basic_auth(&app.admin_user, Some(&app.admin_password))
        .json(&json!({"values": {"openproject_client_secret": "op-client-secret"}}))
        .send()
        .await
        .unwrap();
    let (status, patched) = status_and_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(
        patched["nextcloud_client_id"],
        posted["nextcloud_client_id"]
    );
    assert_eq!(app.db_preference_keys("ann").len(), 7);
}

#[tokio::test]
async fn cookie_sessions_need_no_csrf_token_on_setup() {
    let app = spawn_app().await;
    let browser = browser();
    app.login(&browser, &app.admin_user, &app.admin_password)
        .await;
    let response = browser
        .post(app.url("/apps/integration_openproject/setup"))
        .json(&json!({ "values": full() }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = browser.delete(app.app_url("setup")).send().await.unwrap();
    assert_eq!(
        status_and_json(response).await,
        (200, json!({"status": true}))
    );
}
