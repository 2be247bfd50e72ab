//! The team-folder path of `/setup` (nextcloud-openproject-app.md §3.1 steps a and b, §3.4):
//! the `OpenProject` user, its two groups, the `OpenProject` team folder record and the user's
//! `OpenProject` app password.

use service_kit::{crypto, db::AnyConnection, time::now_millis};
use storage_protocol::integration_app::{
    messages, ALL_PERMISSIONS, APP_PASSWORD_NAME, NO_AUTOMATIC_PROJECT_FOLDERS_GROUP,
    OPENPROJECT_GROUP, OPENPROJECT_USER, TEAM_FOLDER,
};

use super::{
    app_passwords,
    users::{self, CreateUserError, NewUser, UserId},
};
use crate::db::{
    self, groups,
    team_folders::{self, NewTeamFolderRow},
};

/// The `OpenProject` user's password: random, never shown, never used to log in.
pub const OPENPROJECT_PASSWORD_LEN: usize = 96;

#[derive(Debug, thiserror::Error)]
pub enum TeamFolderError {
    /// 409 with one of the contract's messages.
    #[error("{0}")]
    Conflict(&'static str),
    /// 404: an app password for a user that does not exist.
    #[error("{}", messages::APP_PASSWORD_USER_MISSING)]
    UserMissing,
    /// The constant user id is valid; kept as an error rather than a panic.
    #[error("\"OpenProject\" is not a valid user id")]
    InvalidUserId,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The argon2 hash of a fresh random password for the `OpenProject` user. Costs tens of
/// milliseconds: computed before the setup transaction opens.
pub fn new_user_password_hash() -> String {
    crypto::hash_password(&crypto::random_alphanumeric(OPENPROJECT_PASSWORD_LEN))
}

/// The 409s of `setup_project_folder: true`, in the contract's order.
pub fn check_conflicts(conn: &mut AnyConnection) -> Result<(), TeamFolderError> {
    if db::users::find(conn, OPENPROJECT_USER)?.is_some() {
        return Err(TeamFolderError::Conflict(messages::USER_EXISTS));
    }
    if groups::exists(conn, OPENPROJECT_GROUP)? {
        return Err(TeamFolderError::Conflict(messages::GROUP_EXISTS));
    }
    if team_folders::find_by_name(conn, TEAM_FOLDER)?.is_some() {
        return Err(TeamFolderError::Conflict(messages::TEAM_FOLDER_EXISTS));
    }
    Ok(())
}

/// Step a: checks the conflicts, then creates the user (member and sub-admin of both groups)
/// and the team folder for group `OpenProject` with all permissions and ACL managed by the user.
pub fn create(conn: &mut AnyConnection, password_hash: &str) -> Result<(), TeamFolderError> {
    check_conflicts(conn)?;
    let uid = UserId::parse(OPENPROJECT_USER).map_err(|_| TeamFolderError::InvalidUserId)?;
    let user = NewUser {
        uid,
        display_name: OPENPROJECT_USER.into(),
        email: None,
        password_hash: password_hash.into(),
        groups: vec![],
    };
    match users::create(conn, &user) {
        Ok(()) => {}
        Err(CreateUserError::Exists) => {
            return Err(TeamFolderError::Conflict(messages::USER_EXISTS))
        }
        Err(CreateUserError::Database(e)) => return Err(e.into()),
    }
    for gid in [OPENPROJECT_GROUP, NO_AUTOMATIC_PROJECT_FOLDERS_GROUP] {
        if !groups::exists(conn, gid)? {
            groups::insert(conn, gid)?;
        }
        groups::add_member(conn, gid, OPENPROJECT_USER, true)?;
    }
    team_folders::insert(
        conn,
        &NewTeamFolderRow {
            name: TEAM_FOLDER,
            gid: OPENPROJECT_GROUP,
            permissions: ALL_PERMISSIONS,
            acl: true,
            acl_manager_uid: OPENPROJECT_USER,
            created_at: now_millis(),
        },
    )
    .map_err(|e| {
        if service_kit::db::is_unique_violation(&e) {
            TeamFolderError::Conflict(messages::TEAM_FOLDER_EXISTS)
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// Step b with `true`: replaces the `OpenProject` user's app password named `OpenProject` and
/// returns the new one (72 characters `[A-Za-z0-9]`).
pub fn replace_app_password(conn: &mut AnyConnection) -> Result<String, TeamFolderError> {
    let user = db::users::find(conn, OPENPROJECT_USER)?.ok_or(TeamFolderError::UserMissing)?;
    db::app_passwords::delete_named(conn, &user.uid, APP_PASSWORD_NAME)?;
    Ok(app_passwords::create(conn, &user.uid, APP_PASSWORD_NAME)?)
}

/// Step b with `false`: deletes that app password if there is one.
pub fn delete_app_password(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    if let Some(user) = db::users::find(conn, OPENPROJECT_USER)? {
        db::app_passwords::delete_named(conn, &user.uid, APP_PASSWORD_NAME)?;
    }
    Ok(())
}

/// `project_folder_setup_status` (§3.4): the `OpenProject` user has its app password.
pub fn app_password_exists(conn: &mut AnyConnection) -> diesel::QueryResult<bool> {
    match db::users::find(conn, OPENPROJECT_USER)? {
        Some(user) => db::app_passwords::exists_named(conn, &user.uid, APP_PASSWORD_NAME),
        None => Ok(false),
    }
}

/// `/project-folder-status` (§3.4): user and group exist, the user is member and sub-admin of
/// the group, and the team folder is the group's, with all permissions and ACL managed by him.
pub fn is_set_up(conn: &mut AnyConnection) -> diesel::QueryResult<bool> {
    let Some(user) = db::users::find(conn, OPENPROJECT_USER)? else {
        return Ok(false);
    };
    if groups::membership(conn, OPENPROJECT_GROUP, &user.uid)? != Some(true) {
        return Ok(false);
    }
    Ok(
        team_folders::find_by_name(conn, TEAM_FOLDER)?.is_some_and(|folder| {
            folder.gid.as_deref() == Some(OPENPROJECT_GROUP)
                && folder.permissions == ALL_PERMISSIONS
                && folder.acl
                && folder.acl_manager_uid.as_deref() == Some(user.uid.as_str())
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_conflicts_and_app_passwords() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        assert!(!is_set_up(conn).unwrap());
        assert!(matches!(
            replace_app_password(conn),
            Err(TeamFolderError::UserMissing)
        ));
        delete_app_password(conn).unwrap();

        create(conn, "hash").unwrap();
        assert!(is_set_up(conn).unwrap());
        assert!(!app_password_exists(conn).unwrap());
        for gid in [OPENPROJECT_GROUP, NO_AUTOMATIC_PROJECT_FOLDERS_GROUP] {
            assert_eq!(
                groups::membership(conn, gid, OPENPROJECT_USER).unwrap(),
                Some(true)
            );
        }
        assert!(matches!(
            create(conn, "hash"),
            Err(TeamFolderError::Conflict(messages::USER_EXISTS))
        ));

        let first = replace_app_password(conn).unwrap();
        assert_eq!(first.len(), 72);
        assert!(first.chars().all(|c| c.is_ascii_alphanumeric()));
        let second = replace_app_password(conn).unwrap();
        assert_ne!(first, second);
        let owner = |password: &str, conn: &mut AnyConnection| {
            db::app_passwords::owner(conn, OPENPROJECT_USER, &crypto::digest(password)).unwrap()
        };
        assert_eq!(owner(&first, conn), None);
        assert_eq!(owner(&second, conn).as_deref(), Some(OPENPROJECT_USER));
        assert!(app_password_exists(conn).unwrap());
        delete_app_password(conn).unwrap();
        assert!(!app_password_exists(conn).unwrap());
    }

    #[test]
    fn conflicts_are_reported_in_order() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        users::create(
            conn,
            &NewUser {
                uid: UserId::parse("carol").unwrap(),
                display_name: "Carol".into(),
                email: None,
                password_hash: "x".into(),
                groups: vec![],
            },
        )
        .unwrap();
        team_folders::insert(
            conn,
            &NewTeamFolderRow {
                name: TEAM_FOLDER,
                gid: "admin",
                permissions: 1,
                acl: false,
                acl_manager_uid: "carol",
                created_at: 0,
            },
        )
        .unwrap();
        let conflict = |conn: &mut AnyConnection| match check_conflicts(conn) {
            Err(TeamFolderError::Conflict(message)) => message,
            other => panic!("expected a conflict, got {other:?}"),
        };
        assert_eq!(conflict(conn), messages::TEAM_FOLDER_EXISTS);
        assert!(!is_set_up(conn).unwrap());
        groups::insert(conn, OPENPROJECT_GROUP).unwrap();
        assert_eq!(conflict(conn), messages::GROUP_EXISTS);
        users::create(
            conn,
            &NewUser {
                uid: UserId::parse("openproject").unwrap(),
                display_name: "x".into(),
                email: None,
                password_hash: "x".into(),
                groups: vec![],
            },
        )
        .unwrap();
        // User ids compare case-insensitively.
        assert_eq!(conflict(conn), messages::USER_EXISTS);
    }
}
