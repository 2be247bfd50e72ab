//! Who is calling: the caller, what a request presents and why authentication fails. The use case
//! that resolves a caller is [`crate::flows::authentication`].

use crate::db::users::User;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Password,
    ApiKey,
    /// An OAuth access token (scope `api_v3`).
    Bearer,
    Session,
}

/// An authenticated, active user and how they authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub method: AuthMethod,
}

/// The credentials a request carries.
#[derive(Debug, Clone)]
pub enum Presented {
    Authorization(String),
    Session(String),
    Nothing,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong credentials")]
    WrongCredentials,
    #[error("too many failed logins")]
    Throttled,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<service_kit::db::DbError> for AuthError {
    fn from(e: service_kit::db::DbError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<diesel::result::Error> for AuthError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Unexpected(e.into())
    }
}
