//! User provisioning (`POST /ocs/v{1,2}.php/cloud/users`): the checks of the contract's table,
//! in its order, then the creation.

use service_kit::db::AnyConnection;
use storage_protocol::nextcloud::{messages, ProvisionUser};

use super::users::{self, CreateUserError, NewUser, UserId};
use crate::db::groups;

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("user already exists")]
    UserExists,
    #[error("invalid user id")]
    InvalidUserId,
    #[error("group {0} does not exist")]
    GroupMissing(String),
    #[error("password required")]
    PasswordRequired,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl ProvisionError {
    /// The OCS code and message of a refusal; `None` for database failures.
    pub fn ocs(&self) -> Option<(u16, String)> {
        Some(match self {
            Self::UserExists => (102, messages::USER_EXISTS.into()),
            Self::InvalidUserId => (101, messages::INVALID_USER_ID.into()),
            Self::GroupMissing(gid) => (104, messages::group_missing(gid)),
            Self::PasswordRequired => (108, messages::PASSWORD_REQUIRED.into()),
            Self::Database(_) => return None,
        })
    }
}

/// A request that passed every check; the password still needs hashing.
#[derive(Debug)]
pub struct ValidRequest {
    pub uid: UserId,
    pub display_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

/// Checks a request from an admin: 102, 101, 104, 108 in that order.
pub fn validate(
    conn: &mut AnyConnection,
    request: &ProvisionUser,
) -> Result<ValidRequest, ProvisionError> {
    if crate::db::users::find(conn, &request.userid)?.is_some() {
        return Err(ProvisionError::UserExists);
    }
    let uid = UserId::parse(&request.userid).map_err(|_| ProvisionError::InvalidUserId)?;
    let mut wanted: Vec<String> = Vec::new();
    for gid in &request.groups {
        if !wanted.contains(gid) {
            wanted.push(gid.clone());
        }
    }
    for gid in &wanted {
        if !groups::exists(conn, gid)? {
            return Err(ProvisionError::GroupMissing(gid.clone()));
        }
    }
    if request.password.is_empty() {
        return Err(ProvisionError::PasswordRequired);
    }
    let display_name = request
        .display_name
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .unwrap_or(uid.as_str())
        .to_string();
    let email = request
        .email
        .as_deref()
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .map(str::to_string);
    Ok(ValidRequest {
        uid,
        display_name,
        email,
        groups: wanted,
    })
}

/// Creates the validated user with its (already hashed) password.
pub fn provision(
    conn: &mut AnyConnection,
    request: ValidRequest,
    password_hash: String,
) -> Result<UserId, ProvisionError> {
    let user = NewUser {
        uid: request.uid,
        display_name: request.display_name,
        email: request.email,
        password_hash,
        groups: request.groups,
    };
    match users::create(conn, &user) {
        Ok(()) => Ok(user.uid),
        Err(CreateUserError::Exists) => Err(ProvisionError::UserExists),
        Err(CreateUserError::Database(e)) => Err(e.into()),
    }
}

/// A quota as provisioning's `quota` value gives it: `none` or `default` (unlimited), bytes, or
/// a size with a unit as Nextcloud writes them (`512 MB`, `1.5 GB`, `5G`; factors of 1024).
/// `None` inside is unlimited; `Err` is an invalid value.
pub fn parse_quota(value: &str) -> Result<Option<i64>, InvalidQuota> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("none") || value.eq_ignore_ascii_case("default") {
        return Ok(None);
    }
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().map_err(|_| InvalidQuota)?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1024.0,
        "m" | "mb" => 1024.0 * 1024.0,
        "g" | "gb" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(InvalidQuota),
    };
    let bytes = (number * factor).round();
    if !bytes.is_finite() || bytes < 0.0 || bytes > i64::MAX as f64 {
        return Err(InvalidQuota);
    }
    Ok(Some(bytes as i64))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid quota value")]
pub struct InvalidQuota;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_parse_as_nextcloud_writes_them() {
        assert_eq!(parse_quota("none"), Ok(None));
        assert_eq!(parse_quota("default"), Ok(None));
        assert_eq!(parse_quota("1234"), Ok(Some(1234)));
        assert_eq!(parse_quota("5 MB"), Ok(Some(5 * 1024 * 1024)));
        assert_eq!(parse_quota("1.5G"), Ok(Some(1536 * 1024 * 1024)));
        for bad in ["", "-1", "lots", "5 PB", "1.2.3 GB"] {
            assert_eq!(parse_quota(bad), Err(InvalidQuota), "{bad}");
        }
    }

    #[test]
    fn refusals_carry_the_contract_codes() {
        assert_eq!(
            ProvisionError::UserExists.ocs(),
            Some((102, "User already exists".into()))
        );
        assert_eq!(ProvisionError::InvalidUserId.ocs().unwrap().0, 101);
        assert_eq!(
            ProvisionError::GroupMissing("staff".into()).ocs(),
            Some((104, "group staff does not exist".into()))
        );
        assert_eq!(ProvisionError::PasswordRequired.ocs().unwrap().0, 108);
        assert_eq!(
            ProvisionError::Database(diesel::result::Error::NotFound).ocs(),
            None
        );
    }

    fn request(userid: &str, password: &str, groups: &[&str]) -> ProvisionUser {
        ProvisionUser {
            userid: userid.into(),
            password: password.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ..ProvisionUser::default()
        }
    }

    fn code(result: Result<ValidRequest, ProvisionError>) -> u16 {
        result.unwrap_err().ocs().unwrap().0
    }

    #[test]
    fn checks_run_in_table_order_then_the_user_exists() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let valid = validate(conn, &request("Zoe", "pw", &["admin", "admin"])).unwrap();
        assert_eq!(valid.groups, ["admin"]);
        assert_eq!(valid.display_name, "Zoe");
        assert_eq!(valid.email, None);
        provision(conn, valid, "hash".into()).unwrap();

        assert_eq!(code(validate(conn, &request("zoe", "", &["nope"]))), 102);
        assert_eq!(code(validate(conn, &request("z/oe", "", &["nope"]))), 101);
        assert_eq!(code(validate(conn, &request("yan", "", &["nope"]))), 104);
        assert_eq!(code(validate(conn, &request("yan", "", &[]))), 108);
        assert_eq!(crate::db::groups::of_user(conn, "Zoe").unwrap(), ["admin"]);

        // A creation racing past the check still cannot duplicate the id.
        let late = ValidRequest {
            uid: UserId::parse("ZOE").unwrap(),
            display_name: "Z".into(),
            email: None,
            groups: vec![],
        };
        assert!(matches!(
            provision(conn, late, "hash".into()),
            Err(ProvisionError::UserExists)
        ));
    }
}
