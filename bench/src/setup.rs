//! The seed's setup steps 1–5 through the two APIs, as an admin script sends them: the wall time
//! from the first request to the project storage.

use std::time::{Duration, Instant};

use integration_tests::{Pair, STORAGE_NAME};
use storage_protocol::{
    integration_app::{OpInstanceResult, SettingValues, SettingsRequest},
    projects::{ProjectStorageWrite, ProjectWrite, MODULE_STORAGES},
    storages::{OAuthClientCredentialsWrite, StorageWrite},
};

/// Runs steps 1–5 on a fresh pair; the project exists beforehand (it is not part of the setup).
pub async fn wall_time(pair: &Pair) -> Duration {
    let openproject = pair.openproject_admin();
    let nextcloud = pair.nextcloud_admin();
    let project = openproject
        .create_project(&ProjectWrite::named("Setup"))
        .await
        .expect("project");
    let op = pair.openproject.url.clone();

    let started = Instant::now();
    // 1. Nextcloud: is this OpenProject? Then point at it.
    let valid = nextcloud
        .is_valid_op_instance(&op)
        .await
        .expect("OpenProject checked");
    assert_eq!(valid.result, OpInstanceResult::Valid);
    nextcloud
        .put_admin_config(&SettingsRequest {
            values: SettingValues {
                openproject_instance_url: Some(op),
                ..Default::default()
            },
        })
        .await
        .expect("OpenProject's URL saved");
    // 2. OpenProject: the storage (with the live host check) and its OAuth application.
    let storage = openproject
        .create_storage(&StorageWrite::nextcloud(STORAGE_NAME, &pair.nextcloud.url))
        .await
        .expect("storage");
    let application = storage
        .embedded
        .and_then(|embedded| embedded.oauth_application)
        .expect("the storage's OAuth application");
    // 3. Nextcloud: OpenProject's values in, its own client out.
    nextcloud
        .put_admin_config(&SettingsRequest {
            values: SettingValues {
                openproject_client_id: Some(application.client_id),
                openproject_client_secret: application.client_secret,
                default_enable_navigation: Some(false),
                default_enable_unified_search: Some(false),
                setup_project_folder: Some(false),
                setup_app_password: Some(false),
                ..Default::default()
            },
        })
        .await
        .expect("OpenProject's client saved");
    let client = nextcloud
        .create_oauth_client()
        .await
        .expect("Nextcloud's client");
    // 4. OpenProject: Nextcloud's values.
    openproject
        .set_oauth_client_credentials(
            storage.id,
            &OAuthClientCredentialsWrite::new(
                &client.nextcloud_client_id,
                &client.nextcloud_client_secret,
            ),
        )
        .await
        .expect("Nextcloud's client saved");
    // 5. OpenProject: the storage enabled in the project.
    openproject
        .enable_module(project.id, MODULE_STORAGES)
        .await
        .expect("storages module");
    openproject
        .create_project_storage(&ProjectStorageWrite::inactive(project.id, storage.id))
        .await
        .expect("project storage");
    started.elapsed()
}
