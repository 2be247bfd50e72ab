//! Who a request is, as the database tells it: the authenticated user and how it logged in,
//! and what a Basic login names. `flows::authentication` checks the credentials, with the
//! throttle and the password hashing around these.

use service_kit::{crypto, crypto::SecretString, db::AnyConnection};

use crate::db::{app_passwords, groups, users, users::UserRow};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    Password,
    AppPassword,
    /// An access token of the OAuth client for OpenProject.
    Bearer,
    /// A browser session; the cookie value binds CSRF tokens.
    Session {
        id: SecretString,
        expires_at_millis: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub uid: String,
    pub display_name: String,
    pub is_admin: bool,
    pub method: AuthMethod,
}

/// The parts of a request that can authenticate it.
#[derive(Debug, Default)]
pub struct RequestCredentials {
    pub authorization: Option<String>,
    pub session_cookie: Option<String>,
    pub client_address: String,
}

/// What the database says about a Basic login.
pub enum Candidate {
    AppPassword(UserRow),
    Password(UserRow),
    Nobody,
}

pub fn candidate(
    conn: &mut AnyConnection,
    login: &str,
    password: &str,
) -> diesel::QueryResult<Candidate> {
    let Some(user) = users::find(conn, login)?.filter(|u| u.enabled) else {
        return Ok(Candidate::Nobody);
    };
    if app_passwords::owner(conn, login, &crypto::digest(password))?.is_some() {
        return Ok(Candidate::AppPassword(user));
    }
    Ok(Candidate::Password(user))
}

/// The authenticated user of a user row, with whether it is an admin.
pub fn load(
    conn: &mut AnyConnection,
    row: UserRow,
    method: AuthMethod,
) -> diesel::QueryResult<AuthenticatedUser> {
    Ok(AuthenticatedUser {
        is_admin: groups::is_member(conn, groups::ADMIN_GROUP, &row.uid)?,
        uid: row.uid,
        display_name: row.display_name,
        method,
    })
}
