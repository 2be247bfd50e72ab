//! Bodies of the Nextcloud side's server endpoints (nextcloud-openproject-app.md §2) and its
//! error formats (README §4.3).

use serde::{Deserialize, Serialize};

pub const VERSION_STRING: &str = "33.0.0";
pub const APP_VERSION: &str = "3.1.0";
pub const GROUPFOLDER_VERSION: &str = "20.1.7";
pub const SESSION_COOKIE: &str = "nc_session_id";
/// App routes live under this prefix, and also without `/index.php`.
pub const APP_PATH: &str = "/index.php/apps/integration_openproject";

/// Messages of the security layer and the OCS routes.
pub mod messages {
    pub const NOT_LOGGED_IN: &str = "Current user is not logged in";
    pub const MUST_BE_ADMIN: &str = "Logged in account must be an admin";
    pub const CSRF_FAILED: &str = "CSRF check failed";
    pub const MUST_BE_SUBADMIN: &str = "Logged in account must be at least a sub admin";
    pub const USER_EXISTS: &str = "User already exists";
    pub const PASSWORD_REQUIRED: &str =
        "To send a password link to the user an email address is required.";
    pub const INVALID_USER_ID: &str = "Only the following characters are allowed in a username: \"a-z\", \"A-Z\", \"0-9\", spaces and \"_.@-'\", and it must be at most 64 characters long.";
    pub const USER_NOT_FOUND: &str = "User does not exist";
    /// App-route and page 404s (our text).
    pub const NOT_FOUND: &str = "Not found";
    /// OCS code 998: no OCS route matches (Nextcloud's text).
    pub const OCS_INVALID_QUERY: &str = "Invalid query, please check the syntax. API specifications are here: http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.";
    /// Bodies above the JSON/form limit (Extension, README §2.7).
    pub const BODY_TOO_LARGE: &str = "The request body is too large.";
    /// A JSON body that does not parse, or has the wrong shape (our text).
    pub const INVALID_JSON: &str = "The request body is not valid JSON.";
    /// A query string that does not parse (our text).
    pub const INVALID_QUERY: &str = "The query string is not valid.";
    /// A form body that does not parse (our text).
    pub const INVALID_FORM: &str = "The request body is not a valid form.";
    /// The failed-login throttle refuses the client address (our text).
    pub const TOO_MANY_REQUESTS: &str = "Too many failed login attempts. Try again later.";
    /// Unexpected failures (our text; the cause is logged, never sent).
    pub const INTERNAL_ERROR: &str = "Internal Server Error";
    /// The login form after a failed attempt (our text).
    pub const WRONG_LOGIN: &str = "Wrong login or password.";

    pub fn group_missing(name: &str) -> String {
        format!("group {name} does not exist")
    }
}

/// `{"error": "<message>"}`: app-route handler errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub error: String,
}

/// `{"message": "<message>"}`: the security layer (401, 403, 412).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityError {
    pub message: String,
}

/// `GET APP/check-config`: who the request authenticated as, and the raw `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckConfig {
    /// The authenticated user's id, `""` when anonymous.
    pub user_id: String,
    /// The request's `Authorization` header as sent, `""` when absent.
    pub authorization_header: String,
}

/// `GET /status.php`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub installed: bool,
    pub maintenance: bool,
    pub needs_db_upgrade: bool,
    pub version: String,
    pub versionstring: String,
    pub edition: String,
    pub productname: String,
    pub extended_support: bool,
}

impl Default for Status {
    fn default() -> Self {
        Self {
            installed: true,
            maintenance: false,
            needs_db_upgrade: false,
            version: format!("{VERSION_STRING}.0"),
            versionstring: VERSION_STRING.into(),
            edition: String::new(),
            productname: "Nextcloud".into(),
            extended_support: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub micro: u32,
    pub string: String,
    pub edition: String,
    pub extended_support: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreCapabilities {
    pub pollinterval: u32,
    #[serde(rename = "webdav-root")]
    pub webdav_root: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationCapabilities {
    pub app_version: String,
    pub groupfolder_version: String,
    pub groupfolders_enabled: bool,
}

/// `files`: what the desktop client reads before it syncs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesCapabilities {
    /// Files over the client's chunk size go up in chunks (see `dav.chunking`).
    pub bigfilechunking: bool,
    pub blacklisted_files: Vec<String>,
}

/// `dav`: the chunked upload version the WebDAV server speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DavCapabilities {
    /// `"1.0"`: uploads under `/remote.php/dav/uploads/<user>/` (chunking v2 with a
    /// `Destination` at MKCOL).
    pub chunking: String,
}

/// `checksums`: the `OC-Checksum` types uploads may carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChecksumCapabilities {
    pub supported_types: Vec<String>,
    pub preferred_upload_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityMap {
    pub core: CoreCapabilities,
    pub files: FilesCapabilities,
    pub dav: DavCapabilities,
    pub checksums: ChecksumCapabilities,
    pub integration_openproject: IntegrationCapabilities,
}

/// `data` of `GET /ocs/v{1,2}.php/cloud/capabilities`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub version: Version,
    pub capabilities: CapabilityMap,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            version: Version {
                major: 33,
                minor: 0,
                micro: 0,
                string: VERSION_STRING.into(),
                edition: String::new(),
                extended_support: false,
            },
            capabilities: CapabilityMap {
                core: CoreCapabilities {
                    pollinterval: 60,
                    webdav_root: "remote.php/webdav".into(),
                },
                files: FilesCapabilities {
                    bigfilechunking: true,
                    blacklisted_files: vec![".htaccess".into()],
                },
                dav: DavCapabilities {
                    chunking: "1.0".into(),
                },
                checksums: ChecksumCapabilities {
                    supported_types: vec!["SHA1".into()],
                    preferred_upload_type: "SHA1".into(),
                },
                integration_openproject: IntegrationCapabilities {
                    app_version: APP_VERSION.into(),
                    groupfolder_version: GROUPFOLDER_VERSION.into(),
                    groupfolders_enabled: true,
                },
            },
        }
    }
}

/// `data` of `GET /ocs/v{1,2}.php/cloud/user` and `…/cloud/users/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudUser {
    pub id: String,
    pub enabled: bool,
    pub email: Option<String>,
    pub displayname: String,
    #[serde(rename = "display-name")]
    pub display_name: String,
    pub groups: Vec<String>,
    pub language: String,
    pub backend: String,
    pub quota: UserQuota,
}

/// A user's storage as provisioning reports it. Without a quota, `quota`, `free` and `total`
/// are [`UserQuota::UNLIMITED`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserQuota {
    pub free: i64,
    pub used: i64,
    pub total: i64,
    /// Percent of the quota in use, two decimals.
    pub relative: f64,
    pub quota: i64,
}

impl UserQuota {
    /// Nextcloud's `SPACE_UNLIMITED`.
    pub const UNLIMITED: i64 = -3;

    pub fn new(used: i64, quota: Option<i64>) -> Self {
        match quota {
            None => Self {
                free: Self::UNLIMITED,
                used,
                total: Self::UNLIMITED,
                relative: 0.0,
                quota: Self::UNLIMITED,
            },
            Some(quota) => Self {
                free: (quota - used).max(0),
                used,
                total: quota,
                relative: if quota > 0 {
                    (used as f64 * 10_000.0 / quota as f64).round() / 100.0
                } else {
                    0.0
                },
                quota,
            },
        }
    }
}

/// Parameters of `POST /ocs/v{1,2}.php/cloud/users` (form, JSON or query).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProvisionUser {
    #[serde(default)]
    pub userid: String,
    #[serde(default)]
    pub password: String,
    #[serde(
        rename = "displayName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// Success `data` of user provisioning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionedUser {
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{assert_round_trip, load};

    #[test]
    fn fixtures_round_trip() {
        assert_round_trip::<Status>("nc_status");
        assert_round_trip::<Capabilities>("nc_capabilities");
        assert_round_trip::<CloudUser>("nc_cloud_user");
        assert_round_trip::<ProvisionUser>("nc_provision_user");
        assert_round_trip::<ProvisionedUser>("nc_provisioned_user");
        assert_round_trip::<AppError>("nc_app_error");
        assert_round_trip::<SecurityError>("nc_security_must_be_admin");
        assert_round_trip::<CheckConfig>("nc_check_config");
    }

    #[test]
    fn defaults_are_the_contract_values() {
        assert_eq!(
            serde_json::to_value(Status::default()).unwrap(),
            load("nc_status")
        );
        assert_eq!(
            serde_json::to_value(Capabilities::default()).unwrap(),
            load("nc_capabilities")
        );
    }
}
