//! The effects of the admin routes (nextcloud-openproject-app.md §3.1–§3.3). Each public
//! function is one serialized transaction: on any failure nothing has changed.

use service_kit::{
    crypto::{constant_time_eq, SecretBox},
    db::AnyConnection,
};

use super::{
    oauth_clients::{self, Client, IssuedClient},
    pairing,
    preferences::{self, Whose},
    settings::{self, AdminSettings, Changes, Key, Scalar},
    team_folder::{self, TeamFolderError},
};
use crate::db::serialized_transaction;

/// The lock every transaction touching the integration settings takes ("ncoasets").
pub const SETTINGS_LOCK: i64 = 0x6e63_6f61_7365_7473;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    TeamFolder(#[from] TeamFolderError),
    /// `nc-oauth` without an OpenProject URL.
    #[error("the OpenProject URL is not set")]
    AdminConfigNotValid,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// What `POST /setup` did.
#[derive(Debug)]
pub struct PostOutcome {
    pub status: bool,
    pub client: IssuedClient,
    pub app_password: Option<String>,
}

/// The Nextcloud client after `PATCH /setup`.
#[derive(Debug)]
pub enum PatchClient {
    Existing(Client),
    Created(IssuedClient),
    NoClient,
}

/// What `PATCH /setup` did.
#[derive(Debug)]
pub struct PatchOutcome {
    pub status: bool,
    pub client: PatchClient,
    pub app_password: Option<String>,
}

/// What `PUT /admin-config` did.
#[derive(Debug)]
pub struct AdminConfigOutcome {
    pub status: bool,
    pub app_password: Option<String>,
}

/// The two checks of §3.4 that `/check-admin-config` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigCheck {
    pub config_status_without_project_folder: bool,
    pub project_folder_setup_status: bool,
}

/// `POST /setup`: steps a–e, the Nextcloud client always rotated (and the new one sent to a
/// paired OpenProject), at `now` (unix ms).
pub fn post(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    changes: &Changes,
    now: i64,
) -> Result<PostOutcome, SetupError> {
    let password_hash = user_password_hash(changes);
    serialized_transaction(conn, SETTINGS_LOCK, |conn| {
        let app_password = team_folder_actions(conn, changes, password_hash.as_deref())?;
        apply_settings(conn, secret_box, changes)?;
        let url = AdminSettings::load(conn, secret_box)?.openproject_instance_url;
        let client = oauth_clients::replace(conn, secret_box, &url)?;
        pairing::client_replaced(conn, secret_box, &client, now)?;
        mark_team_folder_decision(conn, changes)?;
        Ok(PostOutcome {
            status: config_status(conn, secret_box)?,
            client,
            app_password,
        })
    })
}

/// `PATCH /setup`: steps a–c and e for the keys sent, no rotation; a client is created when
/// none exists and the OpenProject URL is set.
pub fn patch(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    changes: &Changes,
) -> Result<PatchOutcome, SetupError> {
    let password_hash = user_password_hash(changes);
    serialized_transaction(conn, SETTINGS_LOCK, |conn| {
        let app_password = team_folder_actions(conn, changes, password_hash.as_deref())?;
        apply_settings(conn, secret_box, changes)?;
        let client = match oauth_clients::current(conn)? {
            Some(client) => PatchClient::Existing(client),
            None => {
                let url = AdminSettings::load(conn, secret_box)?.openproject_instance_url;
                if url.is_empty() {
                    PatchClient::NoClient
                } else {
                    PatchClient::Created(oauth_clients::replace(conn, secret_box, &url)?)
                }
            }
        };
        mark_team_folder_decision(conn, changes)?;
        Ok(PatchOutcome {
            status: config_status(conn, secret_box)?,
            client,
            app_password,
        })
    })
}

/// `DELETE /setup`: the integration reset ([`reset_settings`]) at `now` (unix ms). A paired
/// OpenProject is told (Extension); an unpaired one is not, as in the product.
pub fn reset(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    admin_uid: &str,
    now: i64,
) -> Result<(), SetupError> {
    serialized_transaction(conn, SETTINGS_LOCK, |conn| {
        pairing::integration_reset(conn, secret_box, now)?;
        reset_settings(conn, secret_box)
    })?;
    tracing::info!(
        target: "audit",
        admin = admin_uid,
        "OpenProject integration reset: settings emptied, Nextcloud OAuth client deleted, all users' OpenProject connections cleared"
    );
    Ok(())
}

/// Every setting emptied (so the client and its tokens go), every user's OpenProject connection
/// cleared, the setup fresh again. The `OpenProject` user, groups, team folder and app password
/// stay. Run inside the caller's transaction.
pub fn reset_settings(conn: &mut AnyConnection, secret_box: &SecretBox) -> Result<(), SetupError> {
    apply_settings(conn, secret_box, &Changes::reset())?;
    // Also when the URL was already empty: no client may outlive a reset.
    oauth_clients::delete(conn)?;
    preferences::clear_openproject_connection(conn, Whose::Everyone)?;
    settings::set_fresh_project_folder_setup(conn, true)?;
    Ok(())
}

/// `PUT /admin-config`: team-folder actions, the settings, then step e, except that emptying
/// both the URL and the authorization method is a reset of the team-folder decision.
pub fn admin_config(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    changes: &Changes,
) -> Result<AdminConfigOutcome, SetupError> {
    let password_hash = user_password_hash(changes);
    serialized_transaction(conn, SETTINGS_LOCK, |conn| {
        let app_password = team_folder_actions(conn, changes, password_hash.as_deref())?;
        apply_settings(conn, secret_box, changes)?;
        let emptied = |key| {
            matches!(changes.get(key), Some(Scalar::Null))
                || matches!(changes.get(key), Some(Scalar::Text(t)) if t.trim().is_empty())
        };
        if emptied(Key::OpenprojectInstanceUrl) && emptied(Key::AuthorizationMethod) {
            settings::set_fresh_project_folder_setup(conn, true)?;
        } else {
            mark_team_folder_decision(conn, changes)?;
        }
        Ok(AdminConfigOutcome {
            status: config_status(conn, secret_box)?,
            app_password,
        })
    })
}

/// `POST /nc-oauth`: a new Nextcloud client replaces the old one (and its tokens), and is sent to
/// a paired OpenProject, at `now` (unix ms).
pub fn rotate_client(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    now: i64,
) -> Result<IssuedClient, SetupError> {
    serialized_transaction(conn, SETTINGS_LOCK, |conn| {
        let url = AdminSettings::load(conn, secret_box)?.openproject_instance_url;
        if url.is_empty() {
            return Err(SetupError::AdminConfigNotValid);
        }
        let client = oauth_clients::replace(conn, secret_box, &url)?;
        pairing::client_replaced(conn, secret_box, &client, now)?;
        Ok(client)
    })
}

/// `/check-admin-config` (§3.4).
pub fn check(conn: &mut AnyConnection, secret_box: &SecretBox) -> diesel::QueryResult<ConfigCheck> {
    Ok(ConfigCheck {
        config_status_without_project_folder: config_status(conn, secret_box)?,
        project_folder_setup_status: team_folder::app_password_exists(conn)?,
    })
}

/// §3.2 for the keys present; run inside the caller's transaction.
pub fn apply_settings(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    changes: &Changes,
) -> diesel::QueryResult<()> {
    let before = AdminSettings::load(conn, secret_box)?;
    let mut credentials_changed = false;
    let mut new_url = None;
    for (key, value) in changes.iter().filter(|(key, _)| !key.is_action()) {
        let stored = value.stored();
        match key {
            Key::OpenprojectClientId => {
                credentials_changed |= stored != before.openproject_client_id;
            }
            Key::OpenprojectClientSecret => {
                credentials_changed |=
                    !constant_time_eq(&stored, before.openproject_client_secret.expose());
            }
            Key::OpenprojectInstanceUrl if stored != before.openproject_instance_url => {
                new_url = Some(stored);
            }
            _ => {}
        }
        settings::store(conn, secret_box, *key, value)?;
    }
    match new_url.as_deref() {
        Some("") => oauth_clients::delete(conn)?,
        Some(url) => oauth_clients::move_redirect_uri(conn, url)?,
        None => {}
    }
    if credentials_changed {
        // Tokens OpenProject issued under the old credentials are useless now; no
        // revocation call is made (README §2.4).
        preferences::clear_openproject_connection(conn, Whose::Everyone)?;
    }
    Ok(())
}

/// Steps a and b: only JSON booleans act.
fn team_folder_actions(
    conn: &mut AnyConnection,
    changes: &Changes,
    password_hash: Option<&str>,
) -> Result<Option<String>, SetupError> {
    if changes.flag(Key::SetupProjectFolder) == Some(true) {
        let hash = match password_hash {
            Some(hash) => hash.to_string(),
            None => team_folder::new_user_password_hash(),
        };
        team_folder::create(conn, &hash)?;
    }
    match changes.flag(Key::SetupAppPassword) {
        Some(true) => Ok(Some(team_folder::replace_app_password(conn)?)),
        Some(false) => {
            team_folder::delete_app_password(conn)?;
            Ok(None)
        }
        None => Ok(None),
    }
}

/// The argon2 hash step a needs, computed before the transaction takes its lock.
fn user_password_hash(changes: &Changes) -> Option<String> {
    (changes.flag(Key::SetupProjectFolder) == Some(true)).then(team_folder::new_user_password_hash)
}

/// Step e: naming both team-folder flags ends the fresh state.
fn mark_team_folder_decision(
    conn: &mut AnyConnection,
    changes: &Changes,
) -> diesel::QueryResult<()> {
    if changes.contains(Key::SetupProjectFolder) && changes.contains(Key::SetupAppPassword) {
        settings::set_fresh_project_folder_setup(conn, false)?;
    }
    Ok(())
}

fn config_status(conn: &mut AnyConnection, secret_box: &SecretBox) -> diesel::QueryResult<bool> {
    let settings = AdminSettings::load(conn, secret_box)?;
    let client_exists = oauth_clients::current(conn)?.is_some();
    Ok(settings.is_complete(client_exists))
}

#[cfg(test)]
mod tests {
    use std::{
        fmt::Write as _,
        sync::{Arc, Mutex},
    };

    use serde_json::json;
    use service_kit::crypto::SecretKey;

    use super::*;
    use crate::{
        db::user_preferences,
        domain::{
            settings::{parse_admin_config, parse_setup, SetupMethod},
            users::{create, NewUser, UserId},
        },
    };

    fn changes(method: SetupMethod, values: serde_json::Value) -> Changes {
        parse_setup(
            &serde_json::to_vec(&json!({ "values": values })).unwrap(),
            method,
        )
        .unwrap()
    }

    fn full() -> serde_json::Value {
        json!({
            "openproject_instance_url": "http://op.example/",
            "openproject_client_id": "op-id",
            "openproject_client_secret": "op-secret",
            "default_enable_navigation": false,
            "default_enable_unified_search": false,
            "setup_project_folder": false,
            "setup_app_password": false
        })
    }

    fn connected_user(conn: &mut AnyConnection, secret_box: &SecretBox, uid: &str) {
        create(
            conn,
            &NewUser {
                uid: UserId::parse(uid).unwrap(),
                display_name: uid.into(),
                email: None,
                password_hash: "x".into(),
                groups: vec![],
            },
        )
        .unwrap();
        for key in preferences::CONNECTION_KEYS {
            preferences::set(conn, secret_box, uid, key, "v").unwrap();
        }
    }

    fn connection_rows(conn: &mut AnyConnection, uid: &str) -> usize {
        user_preferences::of_user(conn, uid, storage_protocol::integration_app::APP_ID)
            .unwrap()
            .len()
    }

    #[test]
    fn post_then_patch_then_reset() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let secret_box = SecretKey::generate().secret_box();
        connected_user(conn, &secret_box, "ann");

        let posted = post(conn, &secret_box, &changes(SetupMethod::Post, full()), 1).unwrap();
        assert!(posted.status);
        assert_eq!(posted.app_password, None);
        assert_eq!(
            posted.client.client.redirect_uri,
            format!(
                "http://op.example/oauth_clients/{}/callback",
                posted.client.client.client_id
            )
        );
        assert_eq!(connection_rows(conn, "ann"), 0, "new credentials");
        assert_eq!(
            check(conn, &secret_box).unwrap(),
            ConfigCheck {
                config_status_without_project_folder: true,
                project_folder_setup_status: false
            }
        );

        // Same credentials: no clearing, no rotation; a URL change moves the redirect URI.
        connected_user(conn, &secret_box, "ben");
        let patched = patch(
            conn,
            &secret_box,
            &changes(
                SetupMethod::Patch,
                json!({"openproject_client_secret": "op-secret", "openproject_instance_url": "https://new.example"}),
            ),
        )
        .unwrap();
        let PatchClient::Existing(client) = patched.client else {
            panic!("expected the existing client");
        };
        assert_eq!(client.id, posted.client.client.id);
        assert_eq!(
            client.redirect_uri,
            format!(
                "https://new.example/oauth_clients/{}/callback",
                client.client_id
            )
        );
        assert_eq!(connection_rows(conn, "ben"), 6);

        // A new secret clears everyone's connection.
        let _ = patch(
            conn,
            &secret_box,
            &changes(
                SetupMethod::Patch,
                json!({"openproject_client_secret": "other"}),
            ),
        )
        .unwrap();
        assert_eq!(connection_rows(conn, "ben"), 0);

        connected_user(conn, &secret_box, "cy");
        reset(conn, &secret_box, "admin", 1).unwrap();
        assert_eq!(connection_rows(conn, "cy"), 0);
        assert_eq!(oauth_clients::current(conn).unwrap(), None);
        let settings = AdminSettings::load(conn, &secret_box).unwrap();
        assert!(settings.fresh_project_folder_setup);
        assert_eq!(settings.openproject_instance_url, "");
        assert_eq!(settings.openproject_client_secret.expose(), "");

        // PATCH after the reset creates a client once a URL is set.
        let patched = patch(
            conn,
            &secret_box,
            &changes(SetupMethod::Patch, json!({"token_exchange": false})),
        )
        .unwrap();
        assert!(matches!(patched.client, PatchClient::NoClient));
        assert!(!patched.status);
        let patched = patch(
            conn,
            &secret_box,
            &changes(
                SetupMethod::Patch,
                json!({"openproject_instance_url": "http://op.example"}),
            ),
        )
        .unwrap();
        assert!(matches!(patched.client, PatchClient::Created(_)));
    }

    #[test]
    fn failures_change_nothing() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let secret_box = SecretKey::generate().secret_box();
        let mut values = full();
        values["setup_project_folder"] = json!(true);
        values["setup_app_password"] = json!(true);
        let first = post(
            conn,
            &secret_box,
            &changes(SetupMethod::Post, values.clone()),
            1,
        )
        .unwrap();
        assert!(first.app_password.is_some());
        values["openproject_instance_url"] = json!("http://elsewhere.example");
        let refused = post(conn, &secret_box, &changes(SetupMethod::Post, values), 1);
        assert!(matches!(
            refused,
            Err(SetupError::TeamFolder(TeamFolderError::Conflict(_)))
        ));
        assert_eq!(
            oauth_clients::current(conn).unwrap(),
            Some(first.client.client)
        );
        assert_eq!(
            AdminSettings::load(conn, &secret_box)
                .unwrap()
                .openproject_instance_url,
            "http://op.example/"
        );
    }

    #[test]
    fn admin_config_reset_and_nc_oauth() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let secret_box = SecretKey::generate().secret_box();
        assert!(matches!(
            rotate_client(conn, &secret_box, 1),
            Err(SetupError::AdminConfigNotValid)
        ));
        let body = |v: serde_json::Value| {
            parse_admin_config(&serde_json::to_vec(&json!({ "values": v })).unwrap()).unwrap()
        };
        let outcome = admin_config(
            conn,
            &secret_box,
            &body(json!({"openproject_instance_url": "http://op.example", "setup_project_folder": false, "setup_app_password": false})),
        )
        .unwrap();
        assert!(!outcome.status);
        assert!(
            !AdminSettings::load(conn, &secret_box)
                .unwrap()
                .fresh_project_folder_setup
        );
        let issued = rotate_client(conn, &secret_box, 1).unwrap();
        assert_eq!(oauth_clients::current(conn).unwrap(), Some(issued.client));
        admin_config(
            conn,
            &secret_box,
            &body(json!({"openproject_instance_url": null, "authorization_method": ""})),
        )
        .unwrap();
        assert!(
            AdminSettings::load(conn, &secret_box)
                .unwrap()
                .fresh_project_folder_setup
        );
        assert_eq!(oauth_clients::current(conn).unwrap(), None, "URL emptied");
    }

    /// Records every event's target and fields.
    struct Capture(Arc<Mutex<String>>);

    struct Fields<'a>(&'a mut String);

    impl tracing::field::Visit for Fields<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    impl tracing::Subscriber for Capture {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            let mut out = self.0.lock().unwrap();
            out.push_str(event.metadata().target());
            event.record(&mut Fields(&mut out));
            out.push('\n');
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[test]
    fn the_reset_is_audited_without_secrets() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let secret_box = SecretKey::generate().secret_box();
        let posted = post(conn, &secret_box, &changes(SetupMethod::Post, full()), 1).unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        tracing::subscriber::with_default(Capture(log.clone()), || {
            reset(conn, &secret_box, "root", 1).unwrap();
        });
        let log = log.lock().unwrap().clone();
        assert!(log.starts_with("audit "), "{log}");
        assert!(log.contains(" admin=\"root\""), "{log}");
        assert!(log.contains("OpenProject integration reset"), "{log}");
        for secret in [
            "op-secret",
            posted.client.secret.expose(),
            &posted.client.client.client_id,
        ] {
            assert!(!log.contains(secret), "{log}");
        }
    }
}
