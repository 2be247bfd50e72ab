//! Users of the host model: valid ids, creation, the admin bootstrap and the wire form.

use service_kit::{
    application::{AdminBootstrap, AdminPassword},
    crypto,
    db::AnyConnection,
    time::now_millis,
};
use storage_protocol::nextcloud::{CloudUser, CloudUserFacts, UserQuota};

use crate::db::{groups, users, users::UserRow};

pub const MAX_USER_ID_LEN: usize = 64;

/// A user id: `[A-Za-z0-9 _.@'-]`, 1 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid user id")]
pub struct InvalidUserId;

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, InvalidUserId> {
        let allowed =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '.' | '@' | '-' | '\'');
        if raw.is_empty() || raw.chars().count() > MAX_USER_ID_LEN || !raw.chars().all(allowed) {
            return Err(InvalidUserId);
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user about to be created; the password is already hashed.
#[derive(Debug)]
pub struct NewUser {
    pub uid: UserId,
    pub display_name: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub groups: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("user already exists")]
    Exists,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Inserts the user and its group memberships in one transaction. A concurrent creation of
/// the same id (any case) yields [`CreateUserError::Exists`].
pub fn create(conn: &mut AnyConnection, user: &NewUser) -> Result<(), CreateUserError> {
    let now = now_millis();
    service_kit::db::write_transaction(conn, |conn| {
        let row = users::NewUserRow {
            uid: user.uid.as_str(),
            uid_lower: user.uid.as_str().to_lowercase(),
            display_name: &user.display_name,
            email: user.email.as_deref(),
            enabled: true,
            password_hash: &user.password_hash,
            created_at: now,
            updated_at: now,
        };
        users::insert(conn, &row).map_err(|e| {
            if service_kit::db::is_unique_violation(&e) {
                CreateUserError::Exists
            } else {
                CreateUserError::Database(e)
            }
        })?;
        for gid in &user.groups {
            groups::add_member(conn, gid, user.uid.as_str(), false)?;
        }
        Ok(())
    })
}

/// The wire form of a user with its groups.
pub fn cloud_user(conn: &mut AnyConnection, row: UserRow) -> diesel::QueryResult<CloudUser> {
    let groups = groups::of_user(conn, &row.uid)?;
    let used = crate::db::file_nodes::user_root(conn, &row.uid)?.map_or(0, |root| root.size);
    Ok(CloudUser::from_facts(CloudUserFacts {
        quota: UserQuota::new(used, row.quota_bytes),
        id: row.uid,
        enabled: row.enabled,
        email: row.email,
        display_name: row.display_name,
        groups,
        subadmin: Vec::new(),
    }))
}

/// Creates the admin user (member of group `admin`) when no user `username` exists.
/// Hashes with argon2: call from a blocking context.
pub fn bootstrap_admin(
    conn: &mut AnyConnection,
    username: &str,
    password: AdminPassword,
) -> anyhow::Result<AdminBootstrap> {
    if users::find(conn, username)?.is_some() {
        return Ok(AdminBootstrap::AlreadyPresent);
    }
    let uid = UserId::parse(username)
        .map_err(|_| anyhow::anyhow!("NCOA_ADMIN_USERNAME: '{username}' is not a valid user id"))?;
    let user = NewUser {
        display_name: uid.as_str().to_string(),
        uid,
        email: None,
        password_hash: crypto::hash_password(password.expose()),
        groups: vec![groups::ADMIN_GROUP.to_string()],
    };
    match create(conn, &user) {
        Ok(()) => Ok(password.created()),
        // Another replica bootstrapped at the same moment.
        Err(CreateUserError::Exists) => Ok(AdminBootstrap::AlreadyPresent),
        Err(CreateUserError::Database(e)) => Err(e.into()),
    }
}

/// Replaces a user's password (argon2: call from a blocking context). Cached verifications of
/// the old password stop counting at once, since they are bound to the old hash.
pub fn set_password(
    conn: &mut AnyConnection,
    uid: &str,
    password: &str,
) -> diesel::QueryResult<bool> {
    let hash = crypto::hash_password(password);
    Ok(users::set_password_hash(conn, uid, &hash, now_millis())? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_user_ids() {
        for id in [
            "admin",
            "Alice",
            "a.b-c_d@e",
            "O'Brien",
            "with space",
            &"x".repeat(64),
        ] {
            assert!(UserId::parse(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn the_admin_is_bootstrapped_once() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let created = bootstrap_admin(conn, "root", AdminPassword::new(None)).unwrap();
        let AdminBootstrap::CreatedWithPassword(password) = created else {
            panic!("expected a generated password, got {created:?}");
        };
        assert_eq!(password.len(), 24);
        let row = users::find(conn, "ROOT").unwrap().unwrap();
        assert!(crypto::verify_password(&password, &row.password_hash));
        assert!(groups::is_member(conn, groups::ADMIN_GROUP, "root").unwrap());
        assert_eq!(
            bootstrap_admin(conn, "root", AdminPassword::new(Some("other"))).unwrap(),
            AdminBootstrap::AlreadyPresent
        );
        assert!(bootstrap_admin(conn, "bad/name", AdminPassword::new(Some("pw"))).is_err());
    }

    #[test]
    fn invalid_user_ids() {
        for id in ["", "a/b", "ä", "a:b", "tab\t", &"x".repeat(65), "<script>"] {
            assert_eq!(UserId::parse(id), Err(InvalidUserId), "{id}");
        }
    }
}
