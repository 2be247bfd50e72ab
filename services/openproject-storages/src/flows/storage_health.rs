//! The storage health checks (openproject-storages.md §13, Extension), run live against the
//! storage's Nextcloud; the groups and their verdicts are [`crate::domain::storage_health`].

use reqwest::StatusCode;
use serde_json::Value;
use storage_protocol::storages::{health, HealthGroup, StorageHealth, OPENPROJECT_SYSTEM_USER};

use crate::{
    domain::storage_health::{
        authentication, is_project_folder_name, pairing, report, version_at_least, Group,
        HealthInput, MIN_APP_VERSION, MIN_GROUPFOLDER_VERSION,
    },
    peer::{NextcloudClient, Probe},
};

/// Runs every check live and assembles the report.
pub async fn check(
    nextcloud: &NextcloudClient,
    input: HealthInput,
    checked_at: String,
) -> StorageHealth {
    let (base, app) = base_configuration(nextcloud, &input).await;
    let base_healthy = base.active();
    let mut groups = vec![base.finish(), authentication(input.user_request)];
    if let Some(paired) = &input.pairing {
        groups.push(pairing(paired));
    }
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

#[cfg(test)]
mod tests {
    use storage_protocol::storages::{CheckState, HealthStatus};

    use super::*;
    use crate::domain::storage_health::UserRequest;

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
                pairing: None,
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
