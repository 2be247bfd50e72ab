//! Bodies and message strings of the integration app's routes on the Nextcloud side
//! (nextcloud-openproject-app.md §3, §4 `is-valid-op-instance`, §10.1 direct upload): `/setup`,
//! `/admin-config`, `/nc-oauth`, `/check-admin-config`, `/project-folder-status`,
//! `/sign-term-of-service`, `/direct-upload-token`, `/direct-upload/{token}`.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// The app id, also the namespace of its app config and user preferences.
pub const APP_ID: &str = "integration_openproject";
/// Name of the Nextcloud OAuth client OpenProject uses (oauth.md §3.4).
pub const NC_OAUTH_CLIENT_NAME: &str = "OpenProject client";
/// The user, its group and its team folder created by `/setup` with team folders.
pub const OPENPROJECT_USER: &str = "OpenProject";
pub const OPENPROJECT_GROUP: &str = "OpenProject";
pub const NO_AUTOMATIC_PROJECT_FOLDERS_GROUP: &str = "OpenProjectNoAutomaticProjectFolders";
pub const TEAM_FOLDER: &str = "OpenProject";
/// Name of the `OpenProject` user's app password.
pub const APP_PASSWORD_NAME: &str = "OpenProject";
/// `User-Agent` of every request the app makes to OpenProject.
pub const USER_AGENT: &str = "Nextcloud OpenProject integration";
/// The only authorization method this service supports.
pub const AUTHORIZATION_METHOD_OAUTH2: &str = "oauth2";
/// Team-folder permission bits (read 1, update 2, create 4, delete 8, share 16).
pub const ALL_PERMISSIONS: i32 = 31;

/// The twelve recognised setting keys of `/setup` and `/admin-config`, in the contract's table
/// order.
pub mod keys {
    pub const OPENPROJECT_INSTANCE_URL: &str = "openproject_instance_url";
    pub const AUTHORIZATION_METHOD: &str = "authorization_method";
    pub const DEFAULT_ENABLE_NAVIGATION: &str = "default_enable_navigation";
    pub const DEFAULT_ENABLE_UNIFIED_SEARCH: &str = "default_enable_unified_search";
    pub const SETUP_PROJECT_FOLDER: &str = "setup_project_folder";
    pub const SETUP_APP_PASSWORD: &str = "setup_app_password";
    pub const TOKEN_EXCHANGE: &str = "token_exchange";
    pub const OPENPROJECT_CLIENT_ID: &str = "openproject_client_id";
    pub const OPENPROJECT_CLIENT_SECRET: &str = "openproject_client_secret";
    pub const OIDC_PROVIDER: &str = "oidc_provider";
    pub const TARGETED_AUDIENCE_CLIENT_ID: &str = "targeted_audience_client_id";
    pub const SSO_PROVIDER_TYPE: &str = "sso_provider_type";

    /// Stored only (not a request key): see nextcloud-openproject-app.md §1.
    pub const NC_OAUTH_CLIENT_ID: &str = "nc_oauth_client_id";
    pub const FRESH_PROJECT_FOLDER_SETUP: &str = "fresh_project_folder_setup";

    /// The keys `POST /setup` requires, in the order their absence is reported.
    pub const REQUIRED_ON_POST: [&str; 8] = [
        OPENPROJECT_INSTANCE_URL,
        AUTHORIZATION_METHOD,
        DEFAULT_ENABLE_NAVIGATION,
        DEFAULT_ENABLE_UNIFIED_SEARCH,
        SETUP_PROJECT_FOLDER,
        SETUP_APP_PASSWORD,
        OPENPROJECT_CLIENT_ID,
        OPENPROJECT_CLIENT_SECRET,
    ];
}

/// Valid values of `sso_provider_type`.
pub const SSO_PROVIDER_TYPES: [&str; 2] = ["nextcloud_hub", "external"];

/// Every `error` text of §3.1, §3.3 and §4.
pub mod messages {
    pub const INVALID_SETTINGS: &str = "Invalid settings.";
    pub const INVALID_AUTHORIZATION_METHOD: &str = "Invalid authorization method.";
    pub const INVALID_OPENPROJECT_URL: &str = "Invalid OpenProject URL.";
    pub const INVALID_TEAM_FOLDER_SETUP: &str = "Invalid team folder setup configuration: Both \"setup_project_folder\" and \"setup_app_password\" must be either true or false.";
    pub const USER_EXISTS: &str = "The user \"OpenProject\" already exists";
    pub const GROUP_EXISTS: &str = "The group \"OpenProject\" already exists";
    pub const TEAM_FOLDER_EXISTS: &str = "The team folder name \"OpenProject\" already exists";
    pub const APP_PASSWORD_USER_MISSING: &str =
        "User \"OpenProject\" does not exists to create application password";
    pub const ADMIN_CONFIG_NOT_VALID: &str = "OpenProject admin config is not valid!";
    /// A 500 of `/setup` or `/admin-config` (our text: it names what failed, never a cause).
    pub const SAVING_SETTINGS_FAILED: &str = "Saving the OpenProject integration settings failed.";

    pub fn unknown_setting(key: &str) -> String {
        format!("Unknown setting: {key}")
    }

    pub fn missing_required_field(key: &str) -> String {
        format!("Missing required field: {key}")
    }

    pub fn invalid_value(key: &str) -> String {
        format!("Invalid value for setting: {key}")
    }
}

/// `{"values": {…}}`: the body of `POST`/`PATCH APP/setup` and `PUT APP/admin-config` as a
/// client writes it. (The server reads the raw JSON: key order, `null` and types matter there.)
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SettingsRequest {
    pub values: SettingValues,
}

/// The twelve keys; absent ones are not sent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SettingValues {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openproject_instance_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openproject_client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openproject_client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_enable_navigation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_enable_unified_search: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_project_folder: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_app_password: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targeted_audience_client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_provider_type: Option<String>,
}

/// 200 of `POST APP/setup`. The secret (and the app password) are shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupPostResponse {
    pub status: bool,
    pub nextcloud_oauth_client_name: String,
    pub openproject_redirect_uri: String,
    pub nextcloud_client_id: String,
    pub nextcloud_client_secret: String,
    /// Only when this request created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openproject_user_app_password: Option<String>,
}

/// 200 of `PATCH APP/setup`, one of three shapes: the client existed (`id`, no secret), the
/// client was created now (secret, no `id`), or there is no client (`status` only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupPatchResponse {
    pub status: bool,
    /// The client's internal id, when it existed before the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nextcloud_oauth_client_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openproject_redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nextcloud_client_id: Option<String>,
    /// Only when the client was created by this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nextcloud_client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openproject_user_app_password: Option<String>,
}

/// 200 of `DELETE APP/setup`: `{"status": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupDeleteResponse {
    pub status: bool,
}

/// 200 of `PUT APP/admin-config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminConfigResponse {
    pub status: bool,
    /// The `OpenProject` user's app password when this request created it, else `null`.
    #[serde(rename = "oPUserAppPassword")]
    pub op_user_app_password: Option<String>,
}

/// 200 of `POST APP/nc-oauth`: the new client, its secret shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcOauthResponse {
    pub nextcloud_oauth_client_name: String,
    pub openproject_redirect_uri: String,
    pub nextcloud_client_id: String,
    pub nextcloud_client_secret: String,
}

/// 200 of `GET APP/check-admin-config` (§3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckAdminConfig {
    pub config_status_without_project_folder: bool,
    pub project_folder_setup_status: bool,
}

/// `{"result": <bool>}`: 200 of `GET APP/project-folder-status` and of
/// `POST APP/sign-term-of-service`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultFlag {
    pub result: bool,
}

/// Body of `POST APP/is-valid-op-instance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsValidOpInstanceRequest {
    pub url: String,
}

/// 200 of `POST APP/is-valid-op-instance` (always 200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsValidOpInstanceResponse {
    pub result: OpInstanceResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl IsValidOpInstanceResponse {
    pub fn new(result: OpInstanceResult) -> Self {
        Self {
            result,
            details: None,
        }
    }

    pub fn with_details(result: OpInstanceResult, details: impl Into<String>) -> Self {
        Self {
            result,
            details: Some(details.into()),
        }
    }
}

/// The `result` of `is-valid-op-instance`: JSON `true` for an OpenProject instance, else one of
/// the strings of the contract's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpInstanceResult {
    Valid,
    Invalid,
    LocalRemoteServersNotAllowed,
    Redirected,
    UnexpectedError,
    NotValidBody,
    ClientException,
    ServerException,
    NetworkError,
    RequestException,
}

impl OpInstanceResult {
    const STRINGS: [(Self, &'static str); 9] = [
        (Self::Invalid, "invalid"),
        (
            Self::LocalRemoteServersNotAllowed,
            "local_remote_servers_not_allowed",
        ),
        (Self::Redirected, "redirected"),
        (Self::UnexpectedError, "unexpected_error"),
        (Self::NotValidBody, "not_valid_body"),
        (Self::ClientException, "client_exception"),
        (Self::ServerException, "server_exception"),
        (Self::NetworkError, "network_error"),
        (Self::RequestException, "request_exception"),
    ];

    /// The string form; `None` for [`OpInstanceResult::Valid`] (which is JSON `true`).
    pub fn as_str(self) -> Option<&'static str> {
        Self::STRINGS
            .iter()
            .find_map(|(result, name)| (*result == self).then_some(*name))
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::STRINGS
            .iter()
            .find_map(|(result, name)| (*name == raw).then_some(*result))
    }
}

impl Serialize for OpInstanceResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.as_str() {
            Some(name) => serializer.serialize_str(name),
            None => serializer.serialize_bool(true),
        }
    }
}

impl<'de> Deserialize<'de> for OpInstanceResult {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ResultVisitor;

        impl de::Visitor<'_> for ResultVisitor {
            type Value = OpInstanceResult;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true or an is-valid-op-instance result string")
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
                if value {
                    Ok(OpInstanceResult::Valid)
                } else {
                    Err(E::invalid_value(de::Unexpected::Bool(false), &self))
                }
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                OpInstanceResult::parse(value)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(value), &self))
            }
        }

        deserializer.deserialize_any(ResultVisitor)
    }
}

/// Direct upload (nextcloud-openproject-app.md §10.1): a single-use token for one folder, then
/// one public multipart `POST` of the file.
pub mod direct_upload {
    use serde::{Deserialize, Serialize};

    /// Length of a token (`[A-Za-z0-9]`).
    pub const TOKEN_LEN: usize = 64;
    /// A token is valid this long after it is issued.
    pub const LIFETIME_SECS: i64 = 3600;
    /// The multipart field holding the file (its filename is the new file's name).
    pub const FILE_FIELD: &str = "file";
    /// The optional multipart field `true`/`false` (case-insensitive).
    pub const OVERWRITE_FIELD: &str = "overwrite";

    /// Every `error` text of the two routes.
    pub mod messages {
        pub const FOLDER_NOT_FOUND: &str = "folder not found or not enough permissions";
        pub const INVALID_TOKEN: &str = "invalid token";
        pub const UNAUTHORIZED: &str = "unauthorized";
        pub const INVALID_FILE_NAME: &str = "invalid file name";
        pub const INVALID_OVERWRITE: &str = "invalid overwrite value";
        pub const NOT_ENOUGH_PERMISSIONS: &str = "not enough permissions";
        pub const CONFLICT: &str = "conflict, file name already exists";
        pub const OVERWRITE_NON_FILE: &str = "overwrite is not allowed on non-files";
        pub const INSUFFICIENT_QUOTA: &str = "insufficient quota";
        /// 413, with `upload_limit` (our text).
        pub const TOO_LARGE: &str = "file size exceeds the upload limit";
        /// A request without a `folder_id` (our text, as the direct download's `fileId`).
        pub const FOLDER_ID_REQUIRED: &str = "folder_id must be an integer";
    }

    /// Body of `POST APP/direct-upload-token`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    pub struct DirectUploadTokenRequest {
        pub folder_id: i64,
    }

    /// 200 of `POST APP/direct-upload-token`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct DirectUploadToken {
        pub token: String,
        /// Unix seconds.
        pub expires_on: i64,
    }

    /// 201 (new file) or 200 (content replaced) of `POST APP/direct-upload/{token}`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct DirectUploaded {
        pub file_name: String,
        pub file_id: i64,
    }

    /// Every failure of the two routes: `{"error": …}`, and the limit in bytes on 413.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct DirectUploadError {
        pub error: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub upload_limit: Option<u64>,
    }

    /// An `overwrite` value other than `true` or `false`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct InvalidOverwrite;

    /// `overwrite` as sent: absent, `true` or `false` in any case; an error for anything else.
    pub fn parse_overwrite(raw: Option<&str>) -> Result<Option<bool>, InvalidOverwrite> {
        match raw {
            None => Ok(None),
            Some(value) if value.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(value) if value.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(InvalidOverwrite),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{assert_round_trip, load};

    #[test]
    fn fixtures_round_trip() {
        assert_round_trip::<SettingsRequest>("nc_setup_request");
        assert_round_trip::<SetupPostResponse>("nc_setup_post_response");
        assert_round_trip::<SetupPostResponse>("nc_setup_post_response_without_app_password");
        assert_round_trip::<SetupPatchResponse>("nc_setup_patch_response");
        assert_round_trip::<SetupPatchResponse>("nc_setup_patch_response_created");
        assert_round_trip::<SetupPatchResponse>("nc_setup_patch_response_no_client");
        assert_round_trip::<SetupDeleteResponse>("nc_setup_delete_response");
        assert_round_trip::<AdminConfigResponse>("nc_admin_config_response");
        assert_round_trip::<AdminConfigResponse>("nc_admin_config_response_with_app_password");
        assert_round_trip::<NcOauthResponse>("nc_nc_oauth_response");
        assert_round_trip::<CheckAdminConfig>("nc_check_admin_config");
        assert_round_trip::<ResultFlag>("nc_project_folder_status");
        assert_round_trip::<ResultFlag>("nc_sign_term_of_service");
        assert_round_trip::<IsValidOpInstanceRequest>("nc_is_valid_op_instance_request");
        for name in [
            "nc_is_valid_op_instance_true",
            "nc_is_valid_op_instance_invalid",
            "nc_is_valid_op_instance_redirected",
            "nc_is_valid_op_instance_not_valid_body",
            "nc_is_valid_op_instance_server_exception",
        ] {
            assert_round_trip::<IsValidOpInstanceResponse>(name);
        }
    }

    #[test]
    fn direct_upload_fixtures_round_trip() {
        use direct_upload::*;
        assert_round_trip::<DirectUploadTokenRequest>("nc_direct_upload_token_request");
        assert_round_trip::<DirectUploadToken>("nc_direct_upload_token");
        assert_round_trip::<DirectUploaded>("nc_direct_uploaded");
        assert_round_trip::<DirectUploadError>("nc_direct_upload_error");
        assert_round_trip::<DirectUploadError>("nc_direct_upload_error_too_large");
        let token = load("nc_direct_upload_token");
        assert_eq!(token["token"].as_str().unwrap().len(), TOKEN_LEN);
    }

    #[test]
    fn overwrite_values() {
        use direct_upload::parse_overwrite;
        assert_eq!(parse_overwrite(None), Ok(None));
        assert_eq!(parse_overwrite(Some("TRUE")), Ok(Some(true)));
        assert_eq!(parse_overwrite(Some("False")), Ok(Some(false)));
        assert!(parse_overwrite(Some("yes")).is_err());
        assert!(parse_overwrite(Some("")).is_err());
    }

    #[test]
    fn results_are_true_or_the_contract_strings() {
        assert_eq!(
            serde_json::to_value(IsValidOpInstanceResponse::new(OpInstanceResult::Valid)).unwrap(),
            load("nc_is_valid_op_instance_true")
        );
        for (result, name) in OpInstanceResult::STRINGS {
            assert_eq!(
                serde_json::to_value(result).unwrap(),
                serde_json::json!(name)
            );
            assert_eq!(
                serde_json::from_value::<OpInstanceResult>(serde_json::json!(name)).unwrap(),
                result
            );
        }
        assert!(serde_json::from_str::<OpInstanceResult>("false").is_err());
        assert!(serde_json::from_str::<OpInstanceResult>("\"maybe\"").is_err());
        assert!(serde_json::from_str::<OpInstanceResult>("1").is_err());
    }

    #[test]
    fn the_setup_response_has_the_contract_fields() {
        let body = load("nc_setup_post_response");
        let redirect = body["openproject_redirect_uri"].as_str().unwrap();
        let client_id = body["nextcloud_client_id"].as_str().unwrap();
        assert_eq!(
            redirect,
            crate::storages::openproject_oauth_callback("http://some-host.de/", client_id)
        );
        assert!(body.get("openproject_revocation_status").is_none());
        let patch = load("nc_setup_patch_response");
        assert!(patch.get("nextcloud_client_secret").is_none());
        assert!(patch["id"].is_i64());
    }

    #[test]
    fn messages_are_exact() {
        assert_eq!(messages::unknown_setting("x"), "Unknown setting: x");
        assert_eq!(
            messages::missing_required_field("setup_app_password"),
            "Missing required field: setup_app_password"
        );
        assert_eq!(
            messages::invalid_value("token_exchange"),
            "Invalid value for setting: token_exchange"
        );
    }
}
