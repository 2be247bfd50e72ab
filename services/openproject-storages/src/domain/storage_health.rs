//! The storage health report (openproject-storages.md §13, Extension): live checks of the
//! configuration, the connection to Nextcloud, the calling admin's token and, with automatic
//! management, the team folder. Each failure carries a code and a message naming what to fix.
//! Here are the groups and their verdicts; the live checks are [`crate::flows::storage_health`].

use storage_protocol::{
    hal::Link,
    storages::{
        health, storage_href, CheckState, HealthCheck, HealthGroup, HealthStatus, StorageHealth,
        StorageHealthLinks,
    },
};

/// Oldest integration app version OpenProject works with.
pub const MIN_APP_VERSION: (u64, u64, u64) = (2, 11, 0);
/// Oldest team folders app version automatic management works with.
pub const MIN_GROUPFOLDER_VERSION: (u64, u64, u64) = (20, 1, 7);

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
    /// The pairing with Nextcloud, when the storage was paired by a code (Extension).
    pub pairing: Option<PairingInput>,
}

/// What the `pairing` group looks at.
pub struct PairingInput {
    /// When Nextcloud reset the integration (ISO 8601).
    pub reset_at: Option<String>,
    /// The oldest message to Nextcloud when it is stuck: its event, attempts and last error.
    pub stuck: Option<(String, i64, String)>,
}

/// The `pairing` group (Extension): Nextcloud still paired, and no message to it stuck.
pub fn pairing(input: &PairingInput) -> HealthGroup {
    let mut group = Group::new("pairing");
    match &input.reset_at {
        Some(at) => {
            let (code, message) = health::integration_reset(at);
            group.failure("peer_paired", (code, &message));
        }
        None => group.success("peer_paired"),
    }
    if group.active() {
        match &input.stuck {
            Some((event, attempts, error)) => {
                let (code, message) = health::message_stuck(event, *attempts, error);
                group.failure("peer_messages", (code, &message));
            }
            None => group.success("peer_messages"),
        }
    } else {
        group.skipped("peer_messages");
    }
    group.finish()
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
pub struct Group {
    key: &'static str,
    pub checks: Vec<HealthCheck>,
    stopped: bool,
}

impl Group {
    pub fn new(key: &'static str) -> Self {
        Self {
            key,
            checks: Vec::new(),
            stopped: false,
        }
    }

    pub fn active(&self) -> bool {
        !self.stopped
    }

    pub fn success(&mut self, key: &str) {
        self.push(key, CheckState::Success, None);
    }

    pub fn failure(&mut self, key: &str, (code, message): (&str, &str)) {
        self.push(key, CheckState::Failure, Some((code, message)));
        self.stopped = true;
    }

    /// A warning that makes the later checks of the group pointless.
    pub fn warning(&mut self, key: &str, (code, message): (&str, &str)) {
        self.push(key, CheckState::Warning, Some((code, message)));
        self.stopped = true;
    }

    pub fn skipped(&mut self, key: &str) {
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

    pub fn finish(self) -> HealthGroup {
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

pub fn version_at_least(raw: Option<&str>, minimum: (u64, u64, u64)) -> bool {
    raw.and_then(parse_version).is_some_and(|v| v >= minimum)
}

/// The `authentication` group: the user's token and a request made with it.
pub fn authentication(user_request: UserRequest) -> HealthGroup {
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
pub fn report(storage_id: i64, checked_at: String, groups: Vec<HealthGroup>) -> StorageHealth {
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

/// Managed project folders are named `<project name> (<project id>)`.
pub fn is_project_folder_name(href: &str) -> bool {
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
    fn a_reset_or_a_stuck_message_fails_the_pairing_group_with_its_reason() {
        let states = |group: &HealthGroup| -> Vec<(String, CheckState)> {
            group
                .checks
                .iter()
                .map(|c| (c.key.clone(), c.state))
                .collect()
        };
        let healthy = pairing(&PairingInput {
            reset_at: None,
            stuck: None,
        });
        assert_eq!(
            states(&healthy),
            [
                ("peer_paired".into(), CheckState::Success),
                ("peer_messages".into(), CheckState::Success)
            ]
        );
        let stuck = pairing(&PairingInput {
            reset_at: None,
            stuck: Some((
                "oauth_values_replaced".into(),
                4,
                "connection refused".into(),
            )),
        });
        assert_eq!(stuck.checks[1].state, CheckState::Failure);
        let message = stuck.checks[1].message.as_deref().unwrap();
        assert!(
            message.contains("oauth_values_replaced") && message.contains("connection refused")
        );
        let reset = pairing(&PairingInput {
            reset_at: Some("2026-12-04T10:00:00.000Z".into()),
            stuck: None,
        });
        assert_eq!(
            states(&reset),
            [
                ("peer_paired".into(), CheckState::Failure),
                ("peer_messages".into(), CheckState::Skipped)
            ]
        );
    }

    #[test]
    fn project_folder_names() {
        assert!(is_project_folder_name("/x/OpenProject/Demo project (12)/"));
        assert!(!is_project_folder_name("/x/OpenProject/notes.txt"));
        assert!(!is_project_folder_name("/x/OpenProject/(12)/"));
        assert!(!is_project_folder_name("/x/OpenProject/Demo (x)/"));
    }
}
