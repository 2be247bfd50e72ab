//! Bodies of the OpenProject side's host-model endpoints (openproject-storages.md §1, §3).

use serde::{Deserialize, Serialize};

use crate::{hal::Link, lenient::Lenient};

pub const API_BASE: &str = "/api/v3";
pub const CORE_VERSION: &str = "17.1.0";
pub const DEFAULT_INSTANCE_NAME: &str = "OpenProject";
/// `Link` header on every API response.
pub const SERVICE_DESC_LINK: &str = "</api/v3/openapi.json>; rel=\"service-desc\"";
pub const SESSION_COOKIE: &str = "_open_project_session";
pub const HAL_JSON: &str = "application/hal+json; charset=utf-8";

pub fn user_href(id: i64) -> String {
    format!("{API_BASE}/users/{id}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub configuration: Link,
    pub memberships: Link,
    pub priorities: Link,
    pub statuses: Link,
    pub types: Link,
    #[serde(rename = "workPackages")]
    pub work_packages: Link,
    pub user: Link,
}

/// `GET /api/v3`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    #[serde(rename = "_type")]
    pub type_: String,
    #[serde(rename = "instanceName")]
    pub instance_name: String,
    /// Only for admins.
    #[serde(
        rename = "coreVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub core_version: Option<String>,
    #[serde(rename = "_links")]
    pub links: RootLinks,
}

impl Root {
    pub fn new(instance_name: &str, user_id: i64, user_name: &str, admin: bool) -> Self {
        let api = |path: &str| Link::to(format!("{API_BASE}/{path}"));
        Self {
            type_: "Root".into(),
            instance_name: instance_name.into(),
            core_version: admin.then(|| CORE_VERSION.to_string()),
            links: RootLinks {
                self_: Link::to(API_BASE),
                configuration: api("configuration"),
                memberships: api("memberships"),
                priorities: api("priorities"),
                statuses: api("statuses"),
                types: api("types"),
                work_packages: api("work_packages"),
                user: Link::titled(user_href(user_id), user_name),
            },
        }
    }
}

/// `GET /api/v3/configuration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    #[serde(rename = "_type")]
    pub type_: String,
    pub maximum_attachment_file_size: u64,
    pub per_page_options: Vec<u32>,
    pub date_format: Option<String>,
    pub time_format: Option<String>,
    pub start_of_week: Option<u8>,
    pub user_default_timezone: Option<String>,
    pub duration_format: String,
    pub hours_per_day: u32,
    pub days_per_month: u32,
    pub host_name: String,
    pub active_feature_flags: Vec<String>,
    pub available_features: Vec<String>,
    pub trialling_features: Vec<String>,
    pub allowed_link_protocols: Vec<String>,
    #[serde(rename = "_links")]
    pub links: crate::hal::SelfLinks,
}

impl Configuration {
    pub fn new(host_name: String, maximum_attachment_file_size: u64) -> Self {
        Self {
            type_: "Configuration".into(),
            maximum_attachment_file_size,
            per_page_options: vec![20, 100],
            date_format: None,
            time_format: None,
            start_of_week: None,
            user_default_timezone: None,
            duration_format: "hours_only".into(),
            hours_per_day: 8,
            days_per_month: 20,
            host_name,
            active_feature_flags: vec![],
            available_features: vec![],
            trialling_features: vec![],
            allowed_link_protocols: vec![],
            links: crate::hal::SelfLinks {
                self_: Link::to(format!("{API_BASE}/configuration")),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Locked,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Locked => "locked",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Self::Active),
            "locked" => Some(Self::Locked),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserLinks {
    #[serde(rename = "self")]
    pub self_: Link,
}

/// `_type: "User"`; `login`, `email` and `admin` only for the user themself and admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub status: UserStatus,
    pub avatar: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    #[serde(rename = "_links")]
    pub links: UserLinks,
}

/// `POST /api/v3/users` and `PATCH /api/v3/users/{id}`. Every key may be absent (a PATCH
/// changes what it names), and a wrong type is a rule failure in the contract's order
/// ([`Lenient`]); unknown and read-only keys are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserWrite {
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub login: Lenient<String>,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub password: Lenient<String>,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub first_name: Lenient<String>,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub last_name: Lenient<String>,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub email: Lenient<String>,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub admin: Lenient<bool>,
    /// One of [`UserStatus`]; any other string is a rule failure, not a parse error.
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub status: Lenient<String>,
}

impl UserWrite {
    /// A new active user who is not an admin.
    pub fn new(
        login: &str,
        password: &str,
        first_name: &str,
        last_name: &str,
        email: &str,
    ) -> Self {
        Self {
            login: login.to_string().into(),
            password: password.to_string().into(),
            first_name: first_name.to_string().into(),
            last_name: last_name.to_string().into(),
            email: email.to_string().into(),
            ..Self::default()
        }
    }
}

/// `POST /api/v3/users/me/api_token` (Extension): the token, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    #[serde(rename = "_type")]
    pub type_: String,
    pub token: String,
    pub created_at: String,
}

/// Validation messages of users (openproject-storages.md §3), in the order they are checked.
pub mod user_messages {
    pub const LOGIN_BLANK: &str = "Username can't be blank.";
    pub const LOGIN_TAKEN: &str = "Username has already been taken.";
    pub const LOGIN_TOO_LONG: &str = "Username is too long (maximum is 255 characters).";
    pub const PASSWORD_TOO_SHORT: &str = "Password is too short (minimum is 10 characters).";
    pub const FIRST_NAME_BLANK: &str = "First name can't be blank.";
    pub const LAST_NAME_BLANK: &str = "Last name can't be blank.";
    pub const EMAIL_BLANK: &str = "Email can't be blank.";
    pub const EMAIL_INVALID: &str = "Email is invalid.";
    pub const EMAIL_TAKEN: &str = "Email has already been taken.";
    pub const STATUS_INVALID: &str = "Status is not set to one of the allowed values.";
    pub const ADMIN_INVALID: &str = "Admin is not set to one of the allowed values.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::assert_round_trip;

    #[test]
    fn fixtures_round_trip() {
        assert_round_trip::<Root>("op_root_admin");
        assert_round_trip::<Root>("op_root_user");
        assert_round_trip::<Configuration>("op_configuration");
        assert_round_trip::<User>("op_user_full");
        assert_round_trip::<User>("op_user_public");
        assert_round_trip::<UserWrite>("op_create_user");
        assert_round_trip::<ApiToken>("op_api_token");
    }

    #[test]
    fn root_shows_core_version_only_to_admins() {
        assert_eq!(
            Root::new("OpenProject", 1, "Ada Admin", true)
                .core_version
                .as_deref(),
            Some("17.1.0")
        );
        assert_eq!(
            Root::new("OpenProject", 2, "Bo User", false).core_version,
            None
        );
        let admin: Root = serde_json::from_value(crate::fixtures::load("op_root_admin")).unwrap();
        assert_eq!(Root::new("OpenProject", 1, "Ada Admin", true), admin);
    }

    #[test]
    fn configuration_matches_fixture() {
        let golden: Configuration =
            serde_json::from_value(crate::fixtures::load("op_configuration")).unwrap();
        assert_eq!(
            Configuration::new("localhost:8080".into(), 268_435_456),
            golden
        );
    }
}
