//! File storages on the OpenProject side (openproject-storages.md §6–§8, §13): the Storage, OAuth
//! application and OAuth client credential bodies, the health report, every message of the storage
//! rules and the URLs both sides build from a storage host.

use serde::{Deserialize, Serialize};

use crate::hal::Link;
use crate::lenient::{Lenient, Object};
use crate::openproject::API_BASE;

pub const PROVIDER_NEXTCLOUD: &str = "urn:openproject-org:api:v3:storages:Nextcloud";
pub const PROVIDER_NEXTCLOUD_TITLE: &str = "Nextcloud";
pub const AUTH_TWO_WAY_OAUTH2: &str =
    "urn:openproject-org:api:v3:storages:authenticationMethod:TwoWayOAuth2";
/// The bearer token every host check sends to Nextcloud's `check-config`.
pub const TEST_BEARER_TOKEN: &str = "TESTBEARERTOKEN";
/// The Nextcloud user owning the team folder and its app password.
pub const OPENPROJECT_SYSTEM_USER: &str = "OpenProject";
/// Scopes of the OpenProject OAuth application, space separated.
pub const API_V3_SCOPE: &str = "api_v3";
/// Oldest Nextcloud major version the host check accepts (contract README §2.4).
pub const MIN_NEXTCLOUD_MAJOR: u64 = 23;

pub fn storage_href(id: i64) -> String {
    format!("{API_BASE}/storages/{id}")
}

pub fn oauth_application_href(id: i64) -> String {
    format!("{API_BASE}/oauth_applications/{id}")
}

pub fn oauth_client_credentials_href(id: i64) -> String {
    format!("{API_BASE}/oauth_client_credentials/{id}")
}

/// Host normalisation (§6.4): trimmed, every trailing `/` stripped, then exactly one appended; an
/// empty host is none.
pub fn normalize_host(raw: &str) -> Option<String> {
    let trimmed = raw.trim().trim_end_matches('/');
    (!trimmed.is_empty()).then(|| format!("{trimmed}/"))
}

/// URLs under a Nextcloud host (normalised, ending in `/`).
pub mod nextcloud_urls {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

    /// What a WebDAV path segment leaves unescaped (RFC 3986 unreserved characters).
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');

    fn form_encode(value: &str) -> String {
        url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
    }

    /// Where OpenProject's OAuth application sends Nextcloud users back (§8).
    pub fn oauth_redirect_uri(host: &str) -> String {
        format!("{host}index.php/apps/integration_openproject/oauth-redirect")
    }
    pub fn capabilities(host: &str) -> String {
        format!("{host}ocs/v2.php/cloud/capabilities")
    }
    pub fn check_config(host: &str) -> String {
        format!("{host}index.php/apps/integration_openproject/check-config")
    }
    pub fn cloud_user(host: &str) -> String {
        format!("{host}ocs/v1.php/cloud/user")
    }
    pub fn dav_root(host: &str) -> String {
        format!("{host}remote.php/dav")
    }
    /// `path` is relative to the user's root; each segment is escaped.
    pub fn dav_files(host: &str, user: &str, path: &str) -> String {
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect();
        format!(
            "{host}remote.php/dav/files/{}/{}",
            utf8_percent_encode(user, SEGMENT),
            segments.join("/")
        )
    }
    pub fn files_app(host: &str) -> String {
        format!("{host}index.php/apps/files")
    }
    pub fn token(host: &str) -> String {
        format!("{host}index.php/apps/oauth2/api/v1/token")
    }
    /// The storage's `authorize` link (§6.2): no `state`, the front end appends its own.
    pub fn authorize(host: &str, client_id: &str, redirect_uri: &str) -> String {
        format!(
            "{host}index.php/apps/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}",
            form_encode(client_id),
            form_encode(redirect_uri)
        )
    }
}

/// OpenProject's callback for Nextcloud's OAuth client, registered at Nextcloud as the client's
/// redirect URI (oauth.md §3.4, openproject-storages.md §7); a trailing `/` of `openproject_url`
/// is dropped.
pub fn openproject_oauth_callback(openproject_url: &str, client_id: &str) -> String {
    format!(
        "{}/oauth_clients/{client_id}/callback",
        openproject_url.trim_end_matches('/')
    )
}

/// The `name` of the OAuth application OpenProject creates for a storage.
pub fn oauth_application_name(storage_name: &str) -> String {
    format!("{storage_name} (Nextcloud)")
}

/// Messages of the storage rules (§6.5, §6.6) and the client credential rules (§7).
pub mod messages {
    pub const PROVIDER_TYPE_INVALID: &str =
        "Provider type is not set to one of the allowed values.";
    pub const PROVIDER_TYPE_READ_ONLY: &str = "You must not write a read-only attribute.";
    pub const NAME_BLANK: &str = "Name can't be blank.";
    pub const NAME_TOO_LONG: &str = "Name is too long (maximum is 255 characters).";
    pub const NAME_TAKEN: &str = "Name has already been taken.";
    pub const HOST_INVALID_URL: &str = "Host is not a valid URL.";
    pub const HOST_UNSUPPORTED_PROTOCOL: &str =
        "Host is not a supported protocol (allowed: http, https).";
    pub const HOST_TOO_LONG: &str = "Host is too long (maximum is 255 characters).";
    /// Ends with a line feed, as OpenProject sends it.
    pub const HOST_NOT_SECURE: &str = "Host is not providing a \"Secure Context\". Either use HTTPS or a loopback address, such as localhost.\n";
    pub const HOST_TAKEN: &str = "Host has already been taken.";
    pub const HOST_UNREACHABLE: &str = "Host could not be reached. Please ensure the host is reachable and the OpenProject integration app is installed.";
    /// No trailing period, as OpenProject sends it.
    pub const HOST_NOT_NEXTCLOUD: &str = "Host is not a Nextcloud server";
    /// No trailing period, as OpenProject sends it.
    pub const HOST_VERSION_TOO_OLD: &str =
        "Host does not meet minimal version requirements (must be Nextcloud 23 or higher)";
    pub const HOST_APP_MISSING: &str = "Host appears to not have the app \"OpenProject integration\" installed. Please install it first and then try again.";
    pub const HOST_NO_AUTHORIZATION_HEADER: &str = "Host is not fully set up. The Nextcloud instance does not receive the \"Authorization\" header, which is necessary for a Bearer token based authorization of API requests. Please double check your HTTP server configuration.";
    pub const AUTHENTICATION_METHOD_INVALID: &str =
        "Authentication method is not set to one of the allowed values.";
    pub const APPLICATION_PASSWORD_INVALID: &str = "Application password is not valid.";
    pub const APPLICATION_PASSWORD_UNVERIFIED: &str = "Application password could not be validated with the file storage provider. Please verify that the connection is functioning properly.";
    pub const CLIENT_ID_BLANK: &str = "Client ID can't be blank.";
    pub const CLIENT_ID_TOO_LONG: &str = "Client ID is too long (maximum is 255 characters).";
    pub const CLIENT_SECRET_BLANK: &str = "Client secret can't be blank.";
    pub const CLIENT_SECRET_TOO_LONG: &str =
        "Client secret is too long (maximum is 255 characters).";
}

/// `POST`/`PATCH /api/v3/storages` body (§6.4). OpenProject reads each field leniently: a
/// wrong type is a rule failure in the contract's order ([`Lenient`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageWrite {
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub name: Lenient<String>,
    /// `""` or `null`: automatic management off.
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub application_password: Lenient<Option<String>>,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub storage_audience: Lenient<Option<String>>,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub token_exchange_scope: Lenient<Option<String>>,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub forbidden_file_name_characters: Lenient<Option<String>>,
    /// Not an object: as if absent.
    #[serde(rename = "_links", default, skip_serializing_if = "Lenient::is_absent")]
    pub links: Lenient<Object<StorageWriteLinks>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageWriteLinks {
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub origin: Lenient<Option<Object<LinkWrite>>>,
    #[serde(rename = "type", default, skip_serializing_if = "Lenient::is_absent")]
    pub type_: Lenient<Option<Object<LinkWrite>>>,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub authentication_method: Lenient<Option<Object<LinkWrite>>>,
}

/// A link of a write body: `{"href": …}`; a missing or `null` href names nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkWrite {
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub href: Lenient<Option<String>>,
}

/// A link as a write body may give it: absent, `null`, a [`LinkWrite`], or of the wrong type.
pub type LinkField = Lenient<Option<Object<LinkWrite>>>;

impl LinkWrite {
    pub fn to(href: &str) -> LinkField {
        Lenient::Value(Some(Object(LinkWrite {
            href: Lenient::Value(Some(href.to_string())),
        })))
    }

    /// The href `link` names, when it is a link with a string href.
    pub fn href_of(link: &LinkField) -> Option<&str> {
        match link {
            Lenient::Value(Some(Object(link))) => link.href.value()?.as_deref(),
            Lenient::Absent | Lenient::Value(None) | Lenient::Invalid => None,
        }
    }
}

impl StorageWrite {
    /// The body of setup step 2 (flows.md §1).
    pub fn nextcloud(name: &str, host: &str) -> Self {
        Self {
            name: name.to_string().into(),
            application_password: Some(String::new()).into(),
            links: Lenient::Value(Object(StorageWriteLinks {
                origin: LinkWrite::to(host),
                type_: LinkWrite::to(PROVIDER_NEXTCLOUD),
                ..Default::default()
            })),
            ..Default::default()
        }
    }
}

/// `_type: "Storage"` (§6.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    pub configured: bool,
    pub has_application_password: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_audience: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange_scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbidden_file_name_characters: Option<String>,
    #[serde(rename = "_embedded", default, skip_serializing_if = "Option::is_none")]
    pub embedded: Option<StorageEmbedded>,
    #[serde(rename = "_links")]
    pub links: StorageLinks,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageEmbedded {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_application: Option<OAuthApplication>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_client_credentials: Option<OAuthClientCredentials>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    #[serde(rename = "type")]
    pub type_: Link,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Link>,
    pub authentication_method: Link,
    pub open: Link,
    pub prepare_upload: Vec<PrepareUploadLink>,
    pub authorization_state: Link,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize: Option<Link>,
    pub project_storages: Link,
    /// Admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_application: Option<Link>,
    /// Admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_client_credentials: Option<Link>,
}

/// The caller's connection to a storage (§6.2 `authorizationState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationState {
    Connected,
    NotConnected,
    FailedAuthorization,
    Error,
}

impl AuthorizationState {
    pub fn link(self) -> Link {
        let (name, title) = match self {
            Self::Connected => ("Connected", "Connected"),
            Self::NotConnected => ("NotConnected", "Not connected"),
            Self::FailedAuthorization => ("FailedAuthorization", "Authorization failed"),
            Self::Error => ("Error", "Error"),
        };
        Link::titled(
            format!("urn:openproject-org:api:v3:storages:authorization:{name}"),
            title,
        )
    }

    /// Whether the storage offers its `authorize` link in this state.
    pub fn offers_authorize(self) -> bool {
        matches!(self, Self::NotConnected | Self::FailedAuthorization)
    }
}

/// The `projectStorages` link of a storage: the project storages filtered by it, written as the
/// contract shows it.
pub fn project_storages_of(storage_id: i64) -> String {
    format!(
        "{API_BASE}/project_storages?filters=[{{\"storageId\":{{\"operator\":\"=\",\"values\":[\"{storage_id}\"]}}}}]"
    )
}

/// `_type: "OAuthApplication"` (§8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthApplication {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub name: String,
    pub client_id: String,
    /// Only in the response that created the application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub confidential: bool,
    pub created_at: String,
    pub updated_at: String,
    pub scopes: Vec<String>,
    #[serde(rename = "_links")]
    pub links: OAuthApplicationLinks,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthApplicationLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub owner: Link,
    pub integration: Link,
    pub redirect_uri: Vec<Link>,
}

/// `{"clientId", "clientSecret"}`: Nextcloud's values handed to OpenProject (§7). OpenProject
/// reads a missing or mistyped field as blank.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthClientCredentialsWrite {
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub client_id: Lenient<String>,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub client_secret: Lenient<String>,
}

impl OAuthClientCredentialsWrite {
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self {
            client_id: client_id.to_string().into(),
            client_secret: client_secret.to_string().into(),
        }
    }
}

/// `_type: "OAuthClientCredentials"` (§7); the secret is never rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthClientCredentials {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub client_id: String,
    pub confidential: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "_links")]
    pub links: OAuthClientCredentialsLinks,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthClientCredentialsLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub integration: Link,
}

/// `GET /api/v3/storages/{id}/health` (§13, Extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageHealth {
    #[serde(rename = "_type")]
    pub type_: String,
    pub status: HealthStatus,
    pub checked_at: String,
    pub groups: Vec<HealthGroup>,
    #[serde(rename = "_links")]
    pub links: StorageHealthLinks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    Unhealthy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthGroup {
    pub key: String,
    pub checks: Vec<HealthCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub key: String,
    pub state: CheckState,
    pub code: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    Success,
    Warning,
    Failure,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageHealthLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub storage: Link,
}

/// Codes and messages of the health checks (§13). The two messages the contract fixes are
/// OpenProject's; the others name what to fix.
pub mod health {
    /// A failure of `peer_paired` (Extension): the paired Nextcloud reset the integration at `at`.
    pub fn integration_reset(at: &str) -> (&'static str, String) {
        ("nc_integration_reset", format!("Nextcloud reset the integration at {at}. Pair again with a new pairing code, or enter Nextcloud's new OAuth values."))
    }
    /// A failure of `peer_messages` (Extension): a message to the paired Nextcloud is stuck.
    pub fn message_stuck(event: &str, attempts: i64, error: &str) -> (&'static str, String) {
        ("peer_message_stuck", format!("A message to Nextcloud ({event}) is stuck after {attempts} attempts: {error}. It is sent again until Nextcloud accepts it."))
    }
    pub const NOT_CONFIGURED: (&str, &str) = ("not_configured", "The storage is not fully configured: it needs a host, OpenProject's OAuth application and Nextcloud's OAuth client credentials.");
    /// A failure of `storage_configured` (Extension code): a sealed secret of the storage cannot
    /// be decrypted.
    pub const SECRET_KEY_CHANGED: (&str, &str) = ("secret_key_changed", "A secret stored for this storage cannot be decrypted: the secret key (OPS_SECRET_KEY) changed since it was stored. Restore the previous key, or enter Nextcloud's OAuth client credentials and the application password again.");
    pub const HOST_NOT_FOUND: (&str, &str) = (
        "nc_host_not_found",
        "No Nextcloud server found at the configured host url. Please check the configuration.",
    );
    pub const HOST_UNKNOWN_ERROR: (&str, &str) = ("unknown_error", "The Nextcloud host could not be reached. Check that the host URL is right and the server is running.");
    pub const CAPABILITIES_INVALID: (&str, &str) = ("unknown_error", "The Nextcloud host did not answer the capabilities request with a valid body. Check that the host URL points to a Nextcloud server.");
    pub const DEPENDENCY_MISSING: (&str, &str) = ("nc_dependency_missing", "The Nextcloud app \"OpenProject integration\" is not installed or not enabled. Install and enable it on Nextcloud.");
    pub const VERSION_MISMATCH: (&str, &str) = ("nc_dependency_version_mismatch", "A Nextcloud app is older than required (OpenProject integration 2.11.0, Team folders 20.1.7). Update it on Nextcloud.");
    pub const TOKEN_MISSING: (&str, &str) = ("nc_oauth_token_missing", "You have not connected your account to this Nextcloud yet, so the user checks were skipped. Log in to Nextcloud from a project's Files tab.");
    pub const REQUEST_UNAUTHORIZED: (&str, &str) = ("nc_oauth_request_unauthorized", "Nextcloud refused your token. Check the OAuth client credentials on both sides and connect your account again.");
    pub const REQUEST_NOT_FOUND: (&str, &str) = (
        "nc_oauth_request_not_found",
        "Nextcloud could not find your user. Check that the user still exists on Nextcloud.",
    );
    pub const REQUEST_UNKNOWN_ERROR: (&str, &str) = ("unknown_error", "A request to Nextcloud with your token failed. Check that Nextcloud is reachable and working.");
    pub const GROUP_FOLDER_APP_MISSING: (&str, &str) = (
        "nc_dependency_missing",
        "The Nextcloud app \"Team folders\" is not enabled. Enable it on Nextcloud.",
    );
    pub const USERLESS_ACCESS_DENIED: (&str, &str) = (
        "nc_userless_access_denied",
        "The configured app password is invalid.",
    );
    pub const FILES_REQUEST_FAILED: (&str, &str) = ("unknown_error", "Listing the team folder as user \"OpenProject\" failed. Check the app password and that Nextcloud is reachable.");
    pub const GROUP_FOLDER_NOT_FOUND: (&str, &str) = ("nc_group_folder_not_found", "The team folder \"OpenProject\" was not found. Run the Nextcloud integration setup with the team folder enabled.");
    pub const UNEXPECTED_CONTENT: (&str, &str) = ("nc_unexpected_content", "The team folder \"OpenProject\" holds items that are not managed project folders. Move them out of the team folder.");
}

/// Direct upload (openproject-storages.md §6.2 `prepareUpload`, §11 `prepare_upload`).
pub mod upload {
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    use super::storage_href;
    use crate::hal::Link;

    pub const UPLOAD_LINK_SELF: &str =
        "urn:openproject-org:api:v3:storages:upload_link:no_link_provided";
    pub const PREPARE_UPLOAD_TITLE: &str = "Upload file";
    pub const DESTINATION_TITLE: &str = "Upload File";
    /// The detail of the 400 `BadRequest` for any body but `{projectId, fileName, parent}`.
    pub const REQUEST_BODY_MALFORMED: &str = "Request body malformed!";

    pub fn prepare_upload_href(storage_id: i64) -> String {
        format!("{}/files/prepare_upload", storage_href(storage_id))
    }

    /// One entry of a storage's `_links.prepareUpload`: a templated action for one project.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PrepareUploadLink {
        pub href: String,
        pub method: String,
        pub title: String,
        pub payload: PrepareUploadPayload,
        pub templated: bool,
    }

    /// The body template of a `prepareUpload` link.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PrepareUploadPayload {
        pub project_id: i64,
        pub file_name: String,
        pub parent: String,
    }

    impl PrepareUploadLink {
        pub fn for_project(storage_id: i64, project_id: i64) -> Self {
            Self {
                href: prepare_upload_href(storage_id),
                method: "post".into(),
                title: PREPARE_UPLOAD_TITLE.into(),
                payload: PrepareUploadPayload {
                    project_id,
                    file_name: "{fileName}".into(),
                    parent: "{parent}".into(),
                },
                templated: true,
            }
        }
    }

    /// Body of `POST /api/v3/storages/{id}/files/prepare_upload` as a client writes it.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PrepareUploadRequest {
        pub project_id: i64,
        pub file_name: String,
        /// The folder's Nextcloud file id.
        pub parent: String,
    }

    impl PrepareUploadRequest {
        /// The body as the service reads it: exactly the three keys; `projectId` an integer or
        /// a string of digits, `fileName` a string, `parent` a string or an integer. `None` for
        /// anything else.
        pub fn parse(body: &Value) -> Option<Self> {
            let map = body.as_object()?;
            if map.len() != 3 {
                return None;
            }
            let project_id = match map.get("projectId")? {
                Value::Number(n) => n.as_i64()?,
                Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                    s.parse().ok()?
                }
                _ => return None,
            };
            let file_name = map.get("fileName")?.as_str()?.to_string();
            let parent = match map.get("parent")? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.as_i64()?.to_string(),
                _ => return None,
            };
            Some(Self {
                project_id,
                file_name,
                parent,
            })
        }
    }

    /// 200 of `prepare_upload`: where the browser posts the file.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct UploadLink {
        #[serde(rename = "_type")]
        pub type_: String,
        #[serde(rename = "_links")]
        pub links: UploadLinkLinks,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct UploadLinkLinks {
        #[serde(rename = "self")]
        pub self_: Link,
        /// `{href, method: "post", title: "Upload File"}`.
        pub destination: Link,
    }

    impl UploadLink {
        pub fn new(destination: String) -> Self {
            Self {
                type_: "UploadLink".into(),
                links: UploadLinkLinks {
                    self_: Link::to(UPLOAD_LINK_SELF),
                    destination: Link {
                        title: Some(DESTINATION_TITLE.into()),
                        ..Link::action(destination, "post")
                    },
                },
            }
        }
    }
}

pub use upload::PrepareUploadLink;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::assert_round_trip;

    #[test]
    fn upload_fixtures_round_trip() {
        use upload::*;
        assert_round_trip::<UploadLink>("op_upload_link");
        assert_round_trip::<PrepareUploadRequest>("op_prepare_upload_request");
        assert_round_trip::<PrepareUploadLink>("op_storage_prepare_upload_link");
        assert_eq!(
            serde_json::to_value(PrepareUploadLink::for_project(7, 3)).unwrap(),
            crate::fixtures::load("op_storage_prepare_upload_link")
        );
        assert_eq!(
            serde_json::to_value(UploadLink::new(
                "https://nc.example.com/index.php/apps/integration_openproject/direct-upload/WampxL5Z97CndGwB9BWpRcL8lMDCmNWjAtypSwkWFdkFGlP4oWrUC3ki1DFGhfv2".into()
            ))
            .unwrap(),
            crate::fixtures::load("op_upload_link")
        );
    }

    #[test]
    fn prepare_upload_bodies_are_exact() {
        use serde_json::json;
        use upload::PrepareUploadRequest as R;
        let parsed = R::parse(&json!({"projectId": "12", "fileName": "a.txt", "parent": 42}));
        assert_eq!(
            parsed,
            Some(R {
                project_id: 12,
                file_name: "a.txt".into(),
                parent: "42".into()
            })
        );
        assert!(R::parse(&json!({"projectId": 12, "fileName": "a", "parent": "7"})).is_some());
        for bad in [
            json!({"projectId": 12, "fileName": "a"}),
            json!({"projectId": 12, "fileName": "a", "parent": "7", "extra": 1}),
            json!({"projectId": "twelve", "fileName": "a", "parent": "7"}),
            json!({"projectId": 1.5, "fileName": "a", "parent": "7"}),
            json!({"projectId": 12, "fileName": 3, "parent": "7"}),
            json!({"projectId": 12, "fileName": "a", "parent": null}),
            json!({"projectId": 12, "fileName": "a", "parent": ["7"]}),
            json!([1, 2, 3]),
            json!("text"),
        ] {
            assert_eq!(R::parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn hosts_end_with_exactly_one_slash() {
        assert_eq!(
            normalize_host(" https://nc.example.com// ").as_deref(),
            Some("https://nc.example.com/")
        );
        assert_eq!(
            normalize_host("http://localhost:8081").as_deref(),
            Some("http://localhost:8081/")
        );
        assert_eq!(normalize_host("  "), None);
        assert_eq!(normalize_host("///"), None);
    }

    #[test]
    fn urls_from_a_host() {
        let host = "https://nc.example.com/";
        assert_eq!(
            nextcloud_urls::oauth_redirect_uri(host),
            "https://nc.example.com/index.php/apps/integration_openproject/oauth-redirect"
        );
        assert_eq!(
            nextcloud_urls::authorize(host, "abc", "http://op/oauth_clients/abc/callback"),
            "https://nc.example.com/index.php/apps/oauth2/authorize?response_type=code&client_id=abc&redirect_uri=http%3A%2F%2Fop%2Foauth_clients%2Fabc%2Fcallback"
        );
        assert_eq!(
            nextcloud_urls::dav_files(host, "OpenProject", "/Open Project/"),
            "https://nc.example.com/remote.php/dav/files/OpenProject/Open%20Project"
        );
        assert_eq!(
            openproject_oauth_callback("http://op.example.com/", "xyz"),
            "http://op.example.com/oauth_clients/xyz/callback"
        );
        assert_eq!(
            project_storages_of(3),
            r#"/api/v3/project_storages?filters=[{"storageId":{"operator":"=","values":["3"]}}]"#
        );
    }

    #[test]
    fn fixtures_round_trip() {
        assert_round_trip::<Storage>("op_storage_created");
        assert_round_trip::<Storage>("op_storage");
        assert_round_trip::<OAuthApplication>("op_oauth_application");
        assert_round_trip::<OAuthClientCredentials>("op_oauth_client_credentials");
        assert_round_trip::<OAuthClientCredentialsWrite>("op_oauth_client_credentials_write");
        assert_round_trip::<StorageWrite>("op_storage_write");
        assert_round_trip::<StorageHealth>("op_storage_health");
    }
}
