//! What the pages show a user around their content: whether the integration is enabled, the
//! user's navigation and unified-search toggles (their own choice, else the admin defaults),
//! and so whether the header lists OpenProject.

use service_kit::db::AnyConnection;
use storage_protocol::integration_app::{keys, APP_ID};

use super::{apps, settings::is_valid_openproject_url};
use crate::db::{app_config, user_preferences};

/// The user preference keys of the two toggles (nextcloud-openproject-app.md §1).
pub const NAVIGATION_ENABLED: &str = "navigation_enabled";
pub const SEARCH_ENABLED: &str = "search_enabled";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Toggles {
    pub navigation: bool,
    pub search: bool,
}

/// A toggle: the user's stored `"1"`/`"0"` wins; unset, the admin default (`"1"` or `""`).
pub fn toggle(user_value: Option<&str>, admin_default: Option<&str>) -> bool {
    match user_value {
        Some(value) => value == "1",
        None => admin_default == Some("1"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub app_enabled: bool,
    pub toggles: Toggles,
    /// The OpenProject URL (no trailing `/`) when the header should link to it.
    pub openproject_link: Option<String>,
}

pub fn load(conn: &mut AnyConnection, uid: &str) -> diesel::QueryResult<UserView> {
    let app_enabled = apps::is_enabled(conn)?;
    let mut flag = |user_key: &str, default_key: &str| -> diesel::QueryResult<bool> {
        let mine = user_preferences::get(conn, uid, APP_ID, user_key)?;
        let default = app_config::get(conn, APP_ID, default_key)?;
        Ok(toggle(mine.as_deref(), default.as_deref()))
    };
    let toggles = Toggles {
        navigation: flag(NAVIGATION_ENABLED, keys::DEFAULT_ENABLE_NAVIGATION)?,
        search: flag(SEARCH_ENABLED, keys::DEFAULT_ENABLE_UNIFIED_SEARCH)?,
    };
    let url = app_config::get(conn, APP_ID, keys::OPENPROJECT_INSTANCE_URL)?.unwrap_or_default();
    let openproject_link = (app_enabled && toggles.navigation && is_valid_openproject_url(&url))
        .then(|| url.trim_end_matches('/').to_string());
    Ok(UserView {
        app_enabled,
        toggles,
        openproject_link,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_choice_wins_over_the_admin_default() {
        assert!(toggle(Some("1"), Some("")));
        assert!(!toggle(Some("0"), Some("1")));
        assert!(!toggle(Some(""), Some("1")));
        assert!(toggle(None, Some("1")));
        assert!(!toggle(None, Some("")));
        assert!(!toggle(None, None));
    }

    #[test]
    fn the_header_links_openproject_only_when_enabled_everywhere() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let view = load(conn, "nobody").unwrap();
        assert_eq!(view.openproject_link, None);
        app_config::set(
            conn,
            APP_ID,
            keys::OPENPROJECT_INSTANCE_URL,
            "https://op.example/",
        )
        .unwrap();
        app_config::set(conn, APP_ID, keys::DEFAULT_ENABLE_NAVIGATION, "1").unwrap();
        let view = load(conn, "nobody").unwrap();
        assert_eq!(view.openproject_link.as_deref(), Some("https://op.example"));
        assert!(!view.toggles.search);
        apps::set_enabled(conn, false).unwrap();
        assert_eq!(load(conn, "nobody").unwrap().openproject_link, None);
    }
}
