//! The seed's setup steps 1–4 through both APIs, as an admin script performs them
//! (spec/flows.md §1 "Scripted setup"), against both services as real processes.

use integration_tests::{json_of, spawn_pair, Pair, ADMIN, APP, OPS_ADMIN_PASSWORD, STORAGE_NAME};
use reqwest::{Method, StatusCode};
use serde_json::json;
use storage_protocol::{
    integration_app::{CheckAdminConfig, SettingValues, SettingsRequest, SetupPostResponse},
    storages::{
        openproject_oauth_callback, OAuthClientCredentialsWrite, StorageWrite, PROVIDER_NEXTCLOUD,
    },
};

#[derive(Debug, PartialEq)]
enum Outcome {
    /// The script configured both sides; the storage's id.
    Configured(i64),
    AlreadySetUp,
}

/// What the script checks when the storage already exists: OpenProject's storage is configured
/// and Nextcloud's admin configuration is complete.
async fn both_sides_complete(pair: &Pair) -> bool {
    let (_, storages) = json_of(pair.op(Method::GET, "/api/v3/storages")).await;
    let configured = storages["_embedded"]["elements"]
        .as_array()
        .expect("elements")
        .iter()
        .any(|s| s["name"] == STORAGE_NAME && s["configured"] == true);
    let (_, check) = json_of(pair.nc(Method::GET, &format!("{APP}/check-admin-config"))).await;
    let check: CheckAdminConfig = serde_json::from_value(check).expect("check-admin-config body");
    configured && check.config_status_without_project_folder
}

/// The admin script: preflight, then create the storage, hand its OAuth values to Nextcloud,
/// hand Nextcloud's back.
async fn run_setup_script(pair: &Pair) -> Outcome {
    // 1. Both front doors redirect; Nextcloud is installed and not in maintenance.
    for url in [&pair.nextcloud.url, &pair.openproject.url] {
        let response = pair
            .client
            .get(url)
            .basic_auth(ADMIN, Some(OPS_ADMIN_PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "GET {url}");
    }
    let (_, status) = json_of(
        pair.client
            .get(format!("{}/status.php", pair.nextcloud.url)),
    )
    .await;
    assert_eq!(
        (status["installed"].clone(), status["maintenance"].clone()),
        (json!(true), json!(false))
    );

    // 2. OpenProject credentials work and the version is recent enough.
    let (_, configuration) = json_of(pair.op(Method::GET, "/api/v3/configuration")).await;
    assert_eq!(configuration["_type"], "Configuration");
    let (_, root) = json_of(pair.op(Method::GET, "/api/v3")).await;
    assert_eq!(root["coreVersion"], "17.1.0");

    // 3. The storage, with OpenProject's OAuth values.
    let (status, created) = json_of(
        pair.op(Method::POST, "/api/v3/storages")
            .json(&StorageWrite::nextcloud(STORAGE_NAME, &pair.nextcloud.url)),
    )
    .await;
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        let messages: Vec<&str> = match created["_embedded"]["errors"].as_array() {
            Some(errors) => errors
                .iter()
                .filter_map(|e| e["message"].as_str())
                .collect(),
            None => created["message"].as_str().into_iter().collect(),
        };
        assert!(
            messages
                .iter()
                .all(|m| *m == "Host has already been taken."
                    || *m == "Name has already been taken."),
            "unexpected errors: {created}"
        );
        assert!(both_sides_complete(pair).await, "exists but incomplete");
        return Outcome::AlreadySetUp;
    }
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let storage_id = created["id"].as_i64().unwrap();
    let application = &created["_embedded"]["oauthApplication"];
    let op_client_id = application["clientId"].as_str().unwrap().to_string();
    let op_client_secret = application["clientSecret"].as_str().unwrap().to_string();

    // 4. Nextcloud takes OpenProject's values and issues its own.
    let (status, project_folder) =
        json_of(pair.nc(Method::GET, &format!("{APP}/project-folder-status"))).await;
    assert_eq!(status, StatusCode::OK);
    let method = if project_folder["result"] == true {
        Method::PATCH
    } else {
        Method::POST
    };
    let request = SettingsRequest {
        values: SettingValues {
            openproject_instance_url: Some(pair.openproject.url.clone()),
            openproject_client_id: Some(op_client_id),
            openproject_client_secret: Some(op_client_secret),
            default_enable_navigation: Some(false),
            default_enable_unified_search: Some(false),
            setup_project_folder: Some(false),
            setup_app_password: Some(false),
            ..Default::default()
        },
    };
    let (status, setup) = json_of(pair.nc(method, &format!("{APP}/setup")).json(&request)).await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let setup: SetupPostResponse = serde_json::from_value(setup).expect("setup response");
    assert!(setup.status);
    assert_eq!(
        setup.openproject_redirect_uri,
        openproject_oauth_callback(&pair.openproject.url, &setup.nextcloud_client_id)
    );

    // 5. OpenProject takes Nextcloud's values.
    let (status, credentials) = json_of(
        pair.op(
            Method::POST,
            &format!("/api/v3/storages/{storage_id}/oauth_client_credentials"),
        )
        .json(&OAuthClientCredentialsWrite::new(
            &setup.nextcloud_client_id,
            &setup.nextcloud_client_secret,
        )),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{credentials}");
    assert_ne!(credentials["_type"], "Error");
    Outcome::Configured(storage_id)
}

#[tokio::test]
async fn an_admin_script_sets_up_both_sides_and_a_second_run_finds_it_done() {
    let pair = spawn_pair();

    let Outcome::Configured(storage_id) = run_setup_script(&pair).await else {
        panic!("the first run configures");
    };
    let (_, storage) =
        json_of(pair.op(Method::GET, &format!("/api/v3/storages/{storage_id}"))).await;
    assert_eq!(storage["configured"], true);
    assert_eq!(storage["_links"]["type"]["href"], PROVIDER_NEXTCLOUD);
    assert_eq!(
        storage["_links"]["origin"]["href"],
        format!("{}/", pair.nextcloud.url)
    );
    assert_eq!(
        storage["_links"]["authorizationState"]["title"], "Not connected",
        "the admin has not connected their account yet"
    );
    // The callback OpenProject will use is the redirect URI Nextcloud registered.
    let nc_client_id = storage["_embedded"]["oauthClientCredentials"]["clientId"]
        .as_str()
        .unwrap();
    let authorize = storage["_links"]["authorize"]["href"].as_str().unwrap();
    let callback = openproject_oauth_callback(&pair.openproject.url, nc_client_id);
    let encoded: String = url::form_urlencoded::byte_serialize(callback.as_bytes()).collect();
    assert!(
        authorize.ends_with(&format!("redirect_uri={encoded}")),
        "{authorize}"
    );
    assert!(both_sides_complete(&pair).await);

    assert_eq!(run_setup_script(&pair).await, Outcome::AlreadySetUp);
}
