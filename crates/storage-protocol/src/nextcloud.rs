//! Bodies of the Nextcloud side's server endpoints (nextcloud-openproject-app.md §2) and its
//! error formats (README §4.3).

use serde::{Deserialize, Serialize};

pub const VERSION_STRING: &str = "33.0.0";
pub const APP_VERSION: &str = "3.1.0";
pub const GROUPFOLDER_VERSION: &str = "20.1.7";
pub const SESSION_COOKIE: &str = "nc_session_id";
/// File names the server refuses (capabilities `files.blacklisted_files`).
pub const FORBIDDEN_FILE_NAMES: [&str; 1] = [".htaccess"];
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

/// What OpenProject's host check reads of the `check-config` answer of any integration app: the
/// `Authorization` header as the app saw it (a real app answers `user_id: null` for the check's
/// unknown token, so nothing else is read).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EchoedAuthorization {
    pub authorization_header: Option<String>,
}

/// `data` of `POST /ocs/v{1,2}.php/apps/dav/api/v1/direct` (nextcloud-openproject-app.md §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectDownload {
    /// `<ncUrl>/remote.php/direct/<token>`.
    pub url: String,
}

/// What OpenProject's host check reads of any Nextcloud's capabilities `data`: the major
/// version. The rest varies with the server and its apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ServerVersion {
    pub version: MajorVersion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MajorVersion {
    pub major: u64,
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

/// `bruteforce`: the delay the server currently puts on the caller's logins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BruteforceCapabilities {
    /// Milliseconds. Our throttle delays per (address, account), never a whole address, so an
    /// address as such is never delayed.
    pub delay: u64,
    #[serde(rename = "allow-listed")]
    pub allow_listed: bool,
}

/// `theming`: Nextcloud's default look; the three images point at this server's icon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemingCapabilities {
    pub name: String,
    pub url: String,
    pub slogan: String,
    pub color: String,
    #[serde(rename = "color-text")]
    pub color_text: String,
    #[serde(rename = "color-element")]
    pub color_element: String,
    #[serde(rename = "color-element-bright")]
    pub color_element_bright: String,
    #[serde(rename = "color-element-dark")]
    pub color_element_dark: String,
    pub logo: String,
    pub background: String,
    #[serde(rename = "background-plain")]
    pub background_plain: bool,
    #[serde(rename = "background-default")]
    pub background_default: bool,
    pub logoheader: String,
    pub favicon: String,
}

impl ThemingCapabilities {
    /// Nextcloud's default theme; `icon_url` is an absolute URL of an image this server serves.
    pub fn default_theme(icon_url: &str) -> Self {
        let primary = "#00679e".to_string();
        Self {
            name: "Nextcloud".into(),
            url: "https://nextcloud.com".into(),
            slogan: "a safe home for all your data".into(),
            color: primary.clone(),
            color_text: "#ffffff".into(),
            color_element: primary.clone(),
            color_element_bright: primary.clone(),
            color_element_dark: primary.clone(),
            logo: icon_url.into(),
            background: primary,
            background_plain: true,
            background_default: true,
            logoheader: icon_url.into(),
            favicon: icon_url.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityMap {
    pub core: CoreCapabilities,
    pub bruteforce: BruteforceCapabilities,
    pub files: FilesCapabilities,
    pub dav: DavCapabilities,
    pub checksums: ChecksumCapabilities,
    pub theming: ThemingCapabilities,
    pub integration_openproject: IntegrationCapabilities,
}

/// `data` of `GET /ocs/v{1,2}.php/cloud/capabilities`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub version: Version,
    pub capabilities: CapabilityMap,
}

impl Capabilities {
    /// What this server reports; `icon_url` is the absolute URL of its icon (theming images).
    pub fn of_server(icon_url: &str) -> Self {
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
                bruteforce: BruteforceCapabilities {
                    delay: 0,
                    allow_listed: false,
                },
                files: FilesCapabilities {
                    bigfilechunking: true,
                    blacklisted_files: FORBIDDEN_FILE_NAMES.map(String::from).to_vec(),
                },
                dav: DavCapabilities {
                    chunking: "1.0".into(),
                },
                checksums: ChecksumCapabilities {
                    supported_types: vec!["SHA1".into()],
                    preferred_upload_type: "SHA1".into(),
                },
                theming: ThemingCapabilities::default_theme(icon_url),
                integration_openproject: IntegrationCapabilities {
                    app_version: APP_VERSION.into(),
                    groupfolder_version: GROUPFOLDER_VERSION.into(),
                    groupfolders_enabled: true,
                },
            },
        }
    }
}

/// Visibility scopes of account properties: the defaults of a real Nextcloud.
pub const SCOPE_FEDERATED: &str = "v2-federated";
pub const SCOPE_LOCAL: &str = "v2-local";

/// `backendCapabilities` of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendCapabilities {
    pub set_display_name: bool,
    pub set_password: bool,
}

/// `data` of `GET /ocs/v{1,2}.php/cloud/user` and `…/cloud/users/{id}`: every field a real
/// Nextcloud returns to the user themself and to admins, in its order. Properties this host
/// model does not keep are empty strings with the real default scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudUser {
    pub enabled: bool,
    pub storage_location: String,
    pub id: String,
    /// Unix milliseconds; 0 when never recorded.
    pub last_login: i64,
    pub backend: String,
    pub subadmin: Vec<String>,
    pub quota: UserQuota,
    pub manager: String,
    pub avatar_scope: String,
    pub email: Option<String>,
    pub email_scope: String,
    #[serde(rename = "additional_mail")]
    pub additional_mail: Vec<String>,
    #[serde(rename = "additional_mailScope")]
    pub additional_mail_scope: Vec<String>,
    #[serde(rename = "displayname")]
    pub displayname: String,
    #[serde(rename = "display-name")]
    pub display_name: String,
    #[serde(rename = "displaynameScope")]
    pub displayname_scope: String,
    pub phone: String,
    pub phone_scope: String,
    pub address: String,
    pub address_scope: String,
    pub website: String,
    pub website_scope: String,
    pub twitter: String,
    pub twitter_scope: String,
    pub fediverse: String,
    pub fediverse_scope: String,
    pub organisation: String,
    pub organisation_scope: String,
    pub role: String,
    pub role_scope: String,
    pub headline: String,
    pub headline_scope: String,
    pub biography: String,
    pub biography_scope: String,
    #[serde(rename = "profile_enabled")]
    pub profile_enabled: String,
    #[serde(rename = "profile_enabledScope")]
    pub profile_enabled_scope: String,
    pub groups: Vec<String>,
    pub language: String,
    pub locale: String,
    #[serde(rename = "notify_email")]
    pub notify_email: Option<String>,
    pub backend_capabilities: BackendCapabilities,
}

/// What the host model knows of a user.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudUserFacts {
    pub id: String,
    pub enabled: bool,
    pub email: Option<String>,
    pub display_name: String,
    pub groups: Vec<String>,
    pub subadmin: Vec<String>,
    pub quota: UserQuota,
}

impl CloudUser {
    /// The full answer for a user of the database backend; personal properties are empty.
    pub fn from_facts(facts: CloudUserFacts) -> Self {
        let federated = || SCOPE_FEDERATED.to_string();
        let local = || SCOPE_LOCAL.to_string();
        Self {
            enabled: facts.enabled,
            storage_location: String::new(),
            id: facts.id,
            last_login: 0,
            backend: "Database".into(),
            subadmin: facts.subadmin,
            quota: facts.quota,
            manager: String::new(),
            avatar_scope: federated(),
            email: facts.email,
            email_scope: federated(),
            additional_mail: Vec::new(),
            additional_mail_scope: Vec::new(),
            displayname: facts.display_name.clone(),
            display_name: facts.display_name,
            displayname_scope: federated(),
            phone: String::new(),
            phone_scope: local(),
            address: String::new(),
            address_scope: local(),
            website: String::new(),
            website_scope: local(),
            twitter: String::new(),
            twitter_scope: local(),
            fediverse: String::new(),
            fediverse_scope: local(),
            organisation: String::new(),
            organisation_scope: local(),
            role: String::new(),
            role_scope: local(),
            headline: String::new(),
            headline_scope: local(),
            biography: String::new(),
            biography_scope: local(),
            profile_enabled: "1".into(),
            profile_enabled_scope: local(),
            groups: facts.groups,
            language: "en".into(),
            locale: String::new(),
            notify_email: None,
            backend_capabilities: BackendCapabilities {
                set_display_name: true,
                set_password: true,
            },
        }
    }
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
        assert_round_trip::<DirectDownload>("nc_direct_download");
    }

    #[test]
    fn the_host_check_reads_only_what_every_nextcloud_sends() {
        let capabilities = load("nc_capabilities");
        let version: ServerVersion = serde_json::from_value(capabilities).unwrap();
        assert_eq!(version.version.major, 33);
        let echoed: EchoedAuthorization =
            serde_json::from_str(r#"{"user_id": null, "authorization_header": "Bearer x"}"#)
                .unwrap();
        assert_eq!(echoed.authorization_header.as_deref(), Some("Bearer x"));
    }

    #[test]
    fn a_database_user_has_every_field_of_a_real_one() {
        let user = CloudUser::from_facts(CloudUserFacts {
            id: "alice".into(),
            enabled: true,
            email: None,
            display_name: "Alice A".into(),
            groups: vec!["admin".into()],
            subadmin: Vec::new(),
            quota: UserQuota::new(0, None),
        });
        assert_eq!(serde_json::to_value(user).unwrap(), load("nc_cloud_user"));
    }

    #[test]
    fn defaults_are_the_contract_values() {
        assert_eq!(
            serde_json::to_value(Status::default()).unwrap(),
            load("nc_status")
        );
        assert_eq!(
            serde_json::to_value(Capabilities::of_server(
                "https://nc.example.com/assets/favicon.svg"
            ))
            .unwrap(),
            load("nc_capabilities")
        );
    }
}
