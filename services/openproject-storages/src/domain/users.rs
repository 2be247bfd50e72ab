//! Users of the host model: reading write bodies, validation with the contract's messages, and
//! the create/update operations.

use service_kit::{
    application::{AdminBootstrap, AdminPassword},
    crypto,
    time::now_millis,
};
use storage_protocol::{
    hal::HalError,
    lenient::Lenient,
    openproject::{user_messages as msg, UserStatus, UserWrite},
};

use crate::db::{
    sessions,
    users::{NewUserRow, User, UserChanges},
    Conn,
};

pub const MIN_PASSWORD_LENGTH: usize = 10;
/// Reserved for API-key Basic authentication (`apikey:<token>`).
pub const RESERVED_LOGIN: &str = "apikey";

/// The trimmed text of a field, `""` when absent or of the wrong type.
fn trimmed(field: &Lenient<String>) -> &str {
    field.value().map_or("", |s| s.trim())
}

/// The trimmed text of a field the body sets.
fn trimmed_change(field: &Lenient<String>) -> Option<String> {
    field.value().map(|s| s.trim().to_string())
}

fn is_valid_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// Rules shared by create and update for the attributes present in `input`.
fn check_common(
    conn: &mut Conn,
    input: &UserWrite,
    except: Option<i64>,
    creating: bool,
    errors: &mut Vec<HalError>,
) -> diesel::QueryResult<()> {
    if creating || !input.password.is_absent() {
        let password = input.password.value().map_or("", String::as_str);
        if password.chars().count() < MIN_PASSWORD_LENGTH {
            errors.push(HalError::violation("password", msg::PASSWORD_TOO_SHORT));
        }
    }
    if (creating || !input.first_name.is_absent()) && trimmed(&input.first_name).is_empty() {
        errors.push(HalError::violation("firstName", msg::FIRST_NAME_BLANK));
    }
    if (creating || !input.last_name.is_absent()) && trimmed(&input.last_name).is_empty() {
        errors.push(HalError::violation("lastName", msg::LAST_NAME_BLANK));
    }
    if creating || !input.email.is_absent() {
        let email = trimmed(&input.email);
        if email.is_empty() {
            errors.push(HalError::violation("email", msg::EMAIL_BLANK));
        } else if !is_valid_email(email) {
            errors.push(HalError::violation("email", msg::EMAIL_INVALID));
        } else if User::email_taken(conn, email, except)? {
            errors.push(HalError::violation("email", msg::EMAIL_TAKEN));
        }
    }
    if input.admin == Lenient::Invalid {
        errors.push(HalError::violation("admin", msg::ADMIN_INVALID));
    }
    if !input.status.is_absent()
        && input
            .status
            .value()
            .and_then(|s| UserStatus::parse(s))
            .is_none()
    {
        errors.push(HalError::violation("status", msg::STATUS_INVALID));
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("invalid user")]
    Invalid(Vec<HalError>),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Creates a user (`POST /api/v3/users`), checking the rules in the contract's order. The
/// password hash is computed by the caller (argon2 is slow and belongs on a blocking thread).
pub fn create(
    conn: &mut Conn,
    input: &UserWrite,
    password_hash: &str,
    now: i64,
) -> Result<User, UserError> {
    service_kit::db::write_transaction(conn, |conn| {
        let mut errors = Vec::new();
        let login = trimmed(&input.login);
        if login.is_empty() {
            errors.push(HalError::violation("login", msg::LOGIN_BLANK));
        } else if login.chars().count() > 255 {
            errors.push(HalError::violation("login", msg::LOGIN_TOO_LONG));
        } else if login.eq_ignore_ascii_case(RESERVED_LOGIN) || User::login_taken(conn, login)? {
            errors.push(HalError::violation("login", msg::LOGIN_TAKEN));
        }
        check_common(conn, input, None, true, &mut errors)?;
        if !errors.is_empty() {
            return Err(UserError::Invalid(errors));
        }
        let email = trimmed(&input.email);
        let status = input.status.value().map_or("active", String::as_str);
        let row = NewUserRow {
            login,
            login_lower: login.to_lowercase(),
            first_name: trimmed(&input.first_name),
            last_name: trimmed(&input.last_name),
            email,
            email_lower: email.to_lowercase(),
            admin: input.admin.value() == Some(&true),
            status,
            password_hash,
            created_at: now,
            updated_at: now,
        };
        User::insert(conn, &row).map_err(|e| {
            if service_kit::db::is_unique_violation(&e) {
                // A concurrent create won the race for the login or e-mail address.
                UserError::Invalid(vec![HalError::violation("login", msg::LOGIN_TAKEN)])
            } else {
                e.into()
            }
        })
    })
}

/// Updates a user (`PATCH /api/v3/users/{id}`). Locking a user or changing their password ends
/// their sessions.
pub fn update(
    conn: &mut Conn,
    user: &User,
    input: &UserWrite,
    password_hash: Option<&str>,
    now: i64,
) -> Result<User, UserError> {
    service_kit::db::write_transaction(conn, |conn| {
        let mut errors = Vec::new();
        check_common(conn, input, Some(user.id), false, &mut errors)?;
        if !errors.is_empty() {
            return Err(UserError::Invalid(errors));
        }
        let email = trimmed_change(&input.email);
        let status = input.status.value().cloned();
        let changes = UserChanges {
            first_name: trimmed_change(&input.first_name),
            last_name: trimmed_change(&input.last_name),
            email_lower: email.as_ref().map(|e| e.to_lowercase()),
            email,
            admin: input.admin.value().copied(),
            status: status.clone(),
            password_hash: password_hash.map(str::to_string),
            updated_at: Some(now),
        };
        let updated = User::update(conn, user.id, &changes)?;
        if password_hash.is_some() || status.as_deref() == Some(UserStatus::Locked.as_str()) {
            sessions::delete_for_user(conn, user.id)?;
        }
        Ok(updated)
    })
}

/// The password of `input` when one must be hashed (create, or an update that sets one that
/// passes the length rule).
pub fn password_to_hash(input: &UserWrite) -> Option<&str> {
    input
        .password
        .value()
        .map(String::as_str)
        .filter(|p| p.chars().count() >= MIN_PASSWORD_LENGTH)
}

/// The bootstrapped admin ([`service_kit::application::Service::BOOTSTRAP_ADMIN`]).
pub fn ensure_admin(
    conn: &mut Conn,
    login: &str,
    password: AdminPassword,
) -> anyhow::Result<AdminBootstrap> {
    if User::find_by_login(conn, login)?.is_some() {
        return Ok(AdminBootstrap::AlreadyPresent);
    }
    let hash = crypto::hash_password(password.expose());
    let now = now_millis();
    let row = NewUserRow {
        login,
        login_lower: login.to_lowercase(),
        first_name: "OpenProject",
        last_name: "Admin",
        email: &format!("{}@openproject.invalid", login.to_lowercase()),
        email_lower: format!("{}@openproject.invalid", login.to_lowercase()),
        admin: true,
        status: UserStatus::Active.as_str(),
        password_hash: &hash,
        created_at: now,
        updated_at: now,
    };
    match User::insert(conn, &row) {
        Ok(_) => Ok(password.created()),
        // Another replica bootstrapped the same admin at the same moment.
        Err(e) if service_kit::db::is_unique_violation(&e) => Ok(AdminBootstrap::AlreadyPresent),
        Err(e) => Err(e.into()),
    }
}

/// Whether two users are members of a common project (§3: users see who they share a project
/// with).
pub fn share_a_project(conn: &mut Conn, a: i64, b: i64) -> diesel::QueryResult<bool> {
    use crate::db::projects::Membership;
    let of_a: Vec<i64> = Membership::of_user(conn, a)?
        .iter()
        .map(|m| m.project_id)
        .collect();
    Ok(Membership::of_user(conn, b)?
        .iter()
        .any(|m| of_a.contains(&m.project_id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use storage_protocol::lenient::read_write_body;

    #[test]
    fn wrong_types_are_invalid_not_absent() {
        let input: UserWrite = read_write_body(&json!({"login": 5, "admin": "yes", "unknown": 1}));
        assert_eq!(input.login, Lenient::Invalid);
        assert_eq!(input.admin, Lenient::Invalid);
        assert_eq!(input.email, Lenient::Absent);
    }

    #[test]
    fn email_shapes() {
        assert!(is_valid_email("a@b.c"));
        assert!(is_valid_email("admin@localhost"));
        assert!(!is_valid_email("a.b.c"));
        assert!(!is_valid_email("a@@b"));
        assert!(!is_valid_email("a b@c"));
        assert!(!is_valid_email("@c"));
    }

    #[test]
    fn short_passwords_are_not_hashed() {
        let input: UserWrite = read_write_body(&json!({"password": "short"}));
        assert_eq!(password_to_hash(&input), None);
        let input: UserWrite = read_write_body(&json!({"password": "long enough!"}));
        assert_eq!(password_to_hash(&input), Some("long enough!"));
    }
}
