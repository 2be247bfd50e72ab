//! The storage health report (openproject-storages.md §13, Extension): live checks of the
//! configuration, the connection to Nextcloud, the calling admin's token and, with automatic
//! management, the team folder. Each failure carries a code and a message naming what to fix.

use reqwest::StatusCode;
use serde_json::Value;
use storage_protocol::{
    hal::Link,
    storages::{
        health, storage_href, CheckState, HealthCheck, HealthGroup, HealthStatus, StorageHealth,
        StorageHealthLinks, OPENPROJECT_SYSTEM_USER,
    },
};

use crate::peer::{NextcloudClient, Probe};

/// Oldest integration app version OpenProject works with.
const MIN_APP_VERSION: (u64, u64, u64) = (2, 11, 0);
/// Oldest team folders app version automatic management works with.
const MIN_GROUPFOLDER_VERSION: (u64, u64, u64) = (20, 1, 7);

/// What the checks look at, read from the database beforehand.
pub struct HealthInput {
    pub storage_id: i64,
    pub host: Option<String>,
    pub configured: bool,
    /// A secret stored for the storage cannot be decrypted (the secret key changed).
    pub secret_key_changed: bool,
    /// `cloud/user` with the calling admin's Nextcloud token (refreshed once on a 401).
    pub user_request: UserRequest,
    /// The application password, when automatic management is on.
    pub application_password: Option<String>,
}

/// What a user-bound request with the calling admin's token came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRequest {
    /// The admin holds no token for the storage.
    NoToken,
    Succeeded,
    /// Nextcloud refused the token, also after a refresh.
    Unauthorized,
    NotFound,
    Failed,
}

/// One group of checks: after the first failure, the rest are skipped.
struct Group {
    key: &'static str,
    checks: Vec<HealthCheck>,
    stopped: bool,
}

impl Group {
    fn new(key: &'static str) -> Self {
        Self {
            key,
            checks: Vec::new(),
            stopped: false,
        }
    }

    fn active(&self) -> bool {
        !self.stopped
    }

    fn success(&mut self, key: &str) {
        self.push(key, CheckState::Success, None);
    }

    fn failure(&mut self, key: &str, (code, message): (&str, &str)) {
        self.push(key, CheckState::Failure, Some((code, message)));
        self.stopped = true;
    }

    /// A warning that makes the later checks of the group pointless.
    fn warning(&mut self, key: &str, (code, message): (&str, &str)) {
        self.push(key, CheckState::Warning, Some((code, message)));
        self.stopped = true;
    }

    fn skipped(&mut self, key: &str) {
        self.push(key, CheckState::Skipped, None);
    }

    fn push(&mut self, key: &str, state: CheckState, detail: Option<(&str, &str)>) {
        self.checks.push(HealthCheck {
            key: key.into(),
            state,
            code: detail.map(|(code, _)| code.to_string()),
            message: detail.map(|(_, message)| message.to_string()),
        });
    }

    fn finish(self) -> HealthGroup {
        HealthGroup {
            key: self.key.into(),
            checks: self.checks,
        }
    }
}

fn parse_version(raw: &str) -> Option<(u64, u64, u64)> {
    let mut parts = raw.trim().split('.').map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

fn version_at_least(raw: Option<&str>, minimum: (u64, u64, u64)) -> bool {
    raw.and_then(parse_version).is_some_and(|v| v >= minimum)
}

/// Runs every check live and assembles the report.
pub async fn check(
    nextcloud: &NextcloudClient,
    input: HealthInput,
    checked_at: String,
) -> StorageHealth {
    let (base, app) = base_configuration(nextcloud, &input).await;
    let base_healthy = base.active();
    let mut groups = vec![base.finish(), authentication(input.user_request)];
    if let Some(password) = input.application_password.as_deref() {
        groups.push(
            team_folder_checks(nextcloud, &input, password, app.as_ref(), base_healthy).await,
        );
    }
    report(input.storage_id, checked_at, groups)
}

/// The `base_configuration` group, and the integration app's capabilities when Nextcloud
/// answered them.
async fn base_configuration(
    nextcloud: &NextcloudClient,
    input: &HealthInput,
) -> (Group, Option<Value>) {
    let automatic = input.application_password.is_some();
    let mut base = Group::new("base_configuration");
    if !input.configured {
        base.failure("storage_configured", health::NOT_CONFIGURED);
    } else if input.secret_key_changed {
        base.failure("storage_configured", health::SECRET_KEY_CHANGED);
    } else {
        base.success("storage_configured");
    }
    let mut capabilities: Option<Value> = None;
    if base.active() {
        let host = input.host.as_deref().unwrap_or_default();
        match nextcloud.capabilities(host).await {
            Probe::Ok(body) => {
                base.success("host_url_accessible");
                capabilities = Some(body);
            }
            Probe::Status(StatusCode::NOT_FOUND) => {
                base.failure("host_url_accessible", health::HOST_NOT_FOUND)
            }
            Probe::Unparseable => {
                base.success("host_url_accessible");
                base.failure("capabilities_request", health::CAPABILITIES_INVALID);
            }
            _ => base.failure("host_url_accessible", health::HOST_UNKNOWN_ERROR),
        }
    } else {
        base.skipped("host_url_accessible");
    }
    let data = capabilities.as_ref().and_then(|c| c.pointer("/ocs/data"));
    let app = data.and_then(|d| d.pointer("/capabilities/integration_openproject"));
    if base.active() {
        if data.and_then(|d| d.pointer("/version/major")).is_some() {
            base.success("capabilities_request");
        } else {
            base.failure("capabilities_request", health::CAPABILITIES_INVALID);
        }
    } else if !base.checks.iter().any(|c| c.key == "capabilities_request") {
        base.skipped("capabilities_request");
    }
    if base.active() {
        if app.is_some() {
            base.success("dependencies_check");
        } else {
            base.failure("dependencies_check", health::DEPENDENCY_MISSING);
        }
    } else {
        base.skipped("dependencies_check");
    }
    if base.active() {
        let app_version = app
            .and_then(|a| a.get("app_version"))
            .and_then(Value::as_str);
        let groupfolder_version = app
            .and_then(|a| a.get("groupfolder_version"))
            .and_then(Value::as_str);
        let app_ok = version_at_least(app_version, MIN_APP_VERSION);
        let groupfolder_ok =
            !automatic || version_at_least(groupfolder_version, MIN_GROUPFOLDER_VERSION);
        if app_ok && groupfolder_ok {
            base.success("dependencies_versions");
        } else {
            base.failure("dependencies_versions", health::VERSION_MISMATCH);
        }
    } else {
        base.skipped("dependencies_versions");
    }
    (base, app.cloned())
}

/// The `authentication` group: the user's token and a request made with it.
fn authentication(user_request: UserRequest) -> HealthGroup {
    let mut authentication = Group::new("authentication");
    if user_request == UserRequest::NoToken {
        authentication.warning("existing_token", health::TOKEN_MISSING);
        authentication.skipped("user_bound_request");
    } else {
        authentication.success("existing_token");
        match user_request {
            UserRequest::Succeeded => authentication.success("user_bound_request"),
            UserRequest::Unauthorized => {
                authentication.failure("user_bound_request", health::REQUEST_UNAUTHORIZED)
            }
            UserRequest::NotFound => {
                authentication.failure("user_bound_request", health::REQUEST_NOT_FOUND)
            }
            UserRequest::Failed | UserRequest::NoToken => {
                authentication.failure("user_bound_request", health::REQUEST_UNKNOWN_ERROR)
            }
        }
    }
    authentication.finish()
}

/// The report of `groups`: unhealthy when any check failed.
fn report(storage_id: i64, checked_at: String, groups: Vec<HealthGroup>) -> StorageHealth {
    let failed = groups
        .iter()
        .flat_map(|g| &g.checks)
        .any(|c| c.state == CheckState::Failure);
    StorageHealth {
        type_: "StorageHealth".into(),
        status: if failed {
            HealthStatus::Unhealthy
        } else {
            HealthStatus::Healthy
        },
        checked_at,
        groups,
        links: StorageHealthLinks {
            self_: Link::to(format!("{}/health", storage_href(storage_id))),
            storage: Link::to(storage_href(storage_id)),
        },
    }
}

/// The `ampf_configuration` group: the team folder that automatic management works in.
async fn team_folder_checks(
    nextcloud: &NextcloudClient,
    input: &HealthInput,
    password: &str,
    app: Option<&Value>,
    base_healthy: bool,
) -> HealthGroup {
    let mut group = Group::new("ampf_configuration");
    let host = input.host.as_deref().unwrap_or_default();
    let enabled = app
        .and_then(|a| a.get("groupfolders_enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if base_healthy && enabled {
        group.success("group_folder_app");
    } else {
        group.failure("group_folder_app", health::GROUP_FOLDER_APP_MISSING);
    }
    if group.active() {
        match nextcloud.dav_head(host, password).await {
            Some(status) if status.is_success() => group.success("userless_access"),
            _ => group.failure("userless_access", health::USERLESS_ACCESS_DENIED),
        }
    } else {
        group.skipped("userless_access");
    }
    let mut root = None;
    if group.active() {
        match nextcloud.propfind_as_system_user(host, password, "/").await {
            Probe::Ok(entries) => {
                group.success("files_request");
                root = Some(entries);
            }
            _ => group.failure("files_request", health::FILES_REQUEST_FAILED),
        }
    } else {
        group.skipped("files_request");
    }
    let team_folder_href =
        format!("/remote.php/dav/files/{OPENPROJECT_SYSTEM_USER}/{OPENPROJECT_SYSTEM_USER}/");
    if group.active() {
        let present = root.as_ref().is_some_and(|entries| {
            entries
                .iter()
                .any(|e| e.is_collection && e.href.ends_with(&team_folder_href))
        });
        if present {
            group.success("group_folder_presence");
        } else {
            group.failure("group_folder_presence", health::GROUP_FOLDER_NOT_FOUND);
        }
    } else {
        group.skipped("group_folder_presence");
    }
    if group.active() {
        match nextcloud
            .propfind_as_system_user(host, password, OPENPROJECT_SYSTEM_USER)
            .await
        {
            Probe::Ok(entries) => {
                let unexpected = entries
                    .iter()
                    .filter(|e| !e.href.ends_with(&team_folder_href))
                    .any(|e| !(e.is_collection && is_project_folder_name(&e.href)));
                if unexpected {
                    group.warning("group_folder_contents", health::UNEXPECTED_CONTENT);
                } else {
                    group.success("group_folder_contents");
                }
            }
            _ => group.failure("group_folder_contents", health::FILES_REQUEST_FAILED),
        }
    } else {
        group.skipped("group_folder_contents");
    }
    group.finish()
}

/// Managed project folders are named `<project name> (<project id>)`.
fn is_project_folder_name(href: &str) -> bool {
    let name = href.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    name.strip_suffix(')')
        .and_then(|rest| rest.rsplit_once(" ("))
        .is_some_and(|(project, id)| {
            !project.is_empty() && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(version_at_least(Some("3.1.0"), MIN_APP_VERSION));
        assert!(version_at_least(Some("2.11.0"), MIN_APP_VERSION));
        assert!(!version_at_least(Some("2.10.9"), MIN_APP_VERSION));
        assert!(!version_at_least(Some("junk"), MIN_APP_VERSION));
        assert!(!version_at_least(None, MIN_APP_VERSION));
    }

    #[test]
    fn project_folder_names() {
        assert!(is_project_folder_name("/x/OpenProject/Demo project (12)/"));
        assert!(!is_project_folder_name("/x/OpenProject/notes.txt"));
        assert!(!is_project_folder_name("/x/OpenProject/(12)/"));
        assert!(!is_project_folder_name("/x/OpenProject/Demo (x)/"));
    }

    #[tokio::test]
    async fn an_unconfigured_storage_skips_the_rest_of_its_group() {
        let report = check(
            &NextcloudClient::default(),
            HealthInput {
                storage_id: 1,
                host: None,
                configured: false,
                secret_key_changed: false,
                user_request: UserRequest::NoToken,
                application_password: None,
            },
            "2026-11-27T10:10:00.000Z".into(),
        )
        .await;
        assert_eq!(report.status, HealthStatus::Unhealthy);
        let states: Vec<_> = report.groups[0].checks.iter().map(|c| c.state).collect();
        assert_eq!(
            states,
            vec![
                CheckState::Failure,
                CheckState::Skipped,
                CheckState::Skipped,
                CheckState::Skipped,
                CheckState::Skipped
            ]
        );
        assert_eq!(report.groups[1].checks[0].state, CheckState::Warning);
    }
}
