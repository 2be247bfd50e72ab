//! What the admin settings page shows of the stored integration: the values an admin may see
//! again (never a secret), and which of the guide's steps are done.

use service_kit::{crypto::SecretBox, db::AnyConnection};
use storage_protocol::integration_app::{keys, APP_ID};

use super::{oauth_clients, settings::AdminSettings, team_folder};
use crate::db::app_config;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminOverview {
    pub openproject_instance_url: String,
    pub openproject_client_id: String,
    pub openproject_client_secret_stored: bool,
    /// The public id of the Nextcloud OAuth client for OpenProject, when one exists.
    pub nextcloud_client_id: Option<String>,
    /// User, group and team folder `OpenProject` exist as §3.4 describes.
    pub project_folder_ready: bool,
    pub app_password_exists: bool,
    /// The project-folder step was decided since the install or the last reset.
    pub project_folder_decided: bool,
    pub default_enable_navigation: bool,
    pub default_enable_unified_search: bool,
}

pub fn load(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
) -> diesel::QueryResult<AdminOverview> {
    let settings = AdminSettings::load(conn, secret_box)?;
    let mut flag = |key: &str| -> diesel::QueryResult<bool> {
        Ok(app_config::get(conn, APP_ID, key)?.as_deref() == Some("1"))
    };
    let default_enable_navigation = flag(keys::DEFAULT_ENABLE_NAVIGATION)?;
    let default_enable_unified_search = flag(keys::DEFAULT_ENABLE_UNIFIED_SEARCH)?;
    Ok(AdminOverview {
        openproject_client_secret_stored: !settings.openproject_client_secret.expose().is_empty(),
        openproject_instance_url: settings.openproject_instance_url,
        openproject_client_id: settings.openproject_client_id,
        nextcloud_client_id: oauth_clients::current(conn)?.map(|client| client.client_id),
        project_folder_ready: team_folder::is_set_up(conn)?,
        app_password_exists: team_folder::app_password_exists(conn)?,
        project_folder_decided: !settings.fresh_project_folder_setup,
        default_enable_navigation,
        default_enable_unified_search,
    })
}

#[cfg(test)]
mod tests {
    use service_kit::crypto::SecretKey;

    use super::*;
    use crate::domain::{settings::parse_admin_config, setup};

    #[test]
    fn a_new_install_shows_nothing_done_and_no_secret_is_read_back() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let secret_box = SecretKey::generate().secret_box();
        let fresh = load(conn, &secret_box).unwrap();
        assert_eq!(fresh.openproject_instance_url, "");
        assert!(!fresh.openproject_client_secret_stored);
        assert_eq!(fresh.nextcloud_client_id, None);
        assert!(!fresh.project_folder_decided);

        let changes = parse_admin_config(
            br#"{"values": {"openproject_instance_url": "https://op.example",
                "openproject_client_id": "id", "openproject_client_secret": "a-secret-value",
                "default_enable_navigation": true,
                "setup_project_folder": false, "setup_app_password": false}}"#,
        )
        .unwrap();
        setup::admin_config(conn, &secret_box, &changes).unwrap();
        let issued = setup::rotate_client(conn, &secret_box, 1).unwrap();
        let shown = load(conn, &secret_box).unwrap();
        assert_eq!(shown.openproject_instance_url, "https://op.example");
        assert_eq!(shown.openproject_client_id, "id");
        assert!(shown.openproject_client_secret_stored);
        assert_eq!(shown.nextcloud_client_id, Some(issued.client.client_id));
        assert!(shown.project_folder_decided);
        assert!(shown.default_enable_navigation);
        assert!(!shown.default_enable_unified_search);
        assert!(!shown.app_password_exists);
    }
}
