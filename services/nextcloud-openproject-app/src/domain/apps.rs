//! The integration as an installed Nextcloud app that an admin can disable and enable again.
//! Disabled, it behaves as Nextcloud's disabled apps do: its routes answer as unknown and the
//! capabilities no longer list it. Its settings and the users' connections stay stored.

use service_kit::db::AnyConnection;
use storage_protocol::integration_app::APP_ID;

use crate::db::app_config;

/// Nextcloud's appconfig key of an app's state: `yes` or `no` (absent: installed and enabled).
const ENABLED_KEY: &str = "enabled";

/// The apps the `cloud/apps` API knows: this host model's only optional app.
pub const KNOWN_APPS: [&str; 1] = [APP_ID];

pub fn is_enabled(conn: &mut AnyConnection) -> diesel::QueryResult<bool> {
    Ok(app_config::get(conn, APP_ID, ENABLED_KEY)?.as_deref() != Some("no"))
}

pub fn set_enabled(conn: &mut AnyConnection, enabled: bool) -> diesel::QueryResult<()> {
    let value = if enabled { "yes" } else { "no" };
    app_config::set(conn, APP_ID, ENABLED_KEY, value)
}

/// Paths served by the integration app: its routes, its OCS routes and its settings pages.
pub fn is_integration_path(path: &str) -> bool {
    const PREFIXES: [&str; 4] = [
        "/index.php/apps/integration_openproject/",
        "/apps/integration_openproject/",
        "/ocs/v1.php/apps/integration_openproject/",
        "/ocs/v2.php/apps/integration_openproject/",
    ];
    const PAGES: [&str; 4] = [
        "/index.php/settings/admin/openproject",
        "/settings/admin/openproject",
        "/index.php/settings/user/openproject",
        "/settings/user/openproject",
    ];
    PREFIXES.iter().any(|prefix| path.starts_with(prefix)) || PAGES.contains(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_is_enabled_until_disabled() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        assert!(is_enabled(conn).unwrap());
        set_enabled(conn, false).unwrap();
        assert!(!is_enabled(conn).unwrap());
        set_enabled(conn, true).unwrap();
        assert!(is_enabled(conn).unwrap());
    }

    #[test]
    fn integration_paths() {
        for path in [
            "/index.php/apps/integration_openproject/setup",
            "/apps/integration_openproject/check-config",
            "/ocs/v2.php/apps/integration_openproject/api/v1/url",
            "/ocs/v1.php/apps/integration_openproject/fileinfo/3",
            "/index.php/settings/admin/openproject",
            "/settings/user/openproject",
        ] {
            assert!(is_integration_path(path), "{path}");
        }
        for path in [
            "/index.php/apps/files/",
            "/ocs/v2.php/cloud/capabilities",
            "/ocs/v2.php/cloud/apps/integration_openproject",
            "/index.php/settings/apps",
            "/index.php/apps/integration_openprojectx",
            "/remote.php/dav/files/admin/",
        ] {
            assert!(!is_integration_path(path), "{path}");
        }
    }
}
