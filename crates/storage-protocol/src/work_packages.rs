//! Work packages, statuses, types, priorities and notifications (openproject-storages.md §5).

use serde::{Deserialize, Serialize};

use crate::{hal::Link, openproject::API_BASE, projects::Formattable};

pub fn work_package_href(id: i64) -> String {
    format!("{API_BASE}/work_packages/{id}")
}
pub fn status_href(id: i64) -> String {
    format!("{API_BASE}/statuses/{id}")
}
pub fn type_href(id: i64) -> String {
    format!("{API_BASE}/types/{id}")
}
pub fn priority_href(id: i64) -> String {
    format!("{API_BASE}/priorities/{id}")
}
pub fn notification_href(id: i64) -> String {
    format!("{API_BASE}/notifications/{id}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkPackageLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub project: Link,
    #[serde(rename = "type")]
    pub type_: Link,
    pub status: Link,
    pub priority: Link,
    pub author: Link,
    pub assignee: Link,
    pub file_links: Link,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_file_link: Option<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Link>,
}

/// `_type: "WorkPackage"` (§5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkPackage {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub lock_version: i64,
    pub subject: String,
    pub description: Formattable,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "_links")]
    pub links: WorkPackageLinks,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfLink {
    #[serde(rename = "self")]
    pub self_: Link,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub name: String,
    pub is_closed: bool,
    pub is_default: bool,
    pub color: String,
    pub position: i64,
    pub is_readonly: bool,
    /// `null` when the status sets no done ratio.
    pub default_done_ratio: Option<i64>,
    #[serde(rename = "_links")]
    pub links: SelfLink,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Type {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub name: String,
    pub color: String,
    pub position: i64,
    pub is_default: bool,
    pub is_milestone: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "_links")]
    pub links: SelfLink,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Priority {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub name: String,
    pub position: i64,
    pub is_default: bool,
    pub is_active: bool,
    #[serde(rename = "_links")]
    pub links: SelfLink,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub project: Link,
    pub actor: Link,
    pub resource: Link,
    pub details: Vec<Link>,
    #[serde(rename = "readIAN", default, skip_serializing_if = "Option::is_none")]
    pub read_ian: Option<Link>,
    #[serde(rename = "unreadIAN", default, skip_serializing_if = "Option::is_none")]
    pub unread_ian: Option<Link>,
}

/// `_type: "Notification"` (§5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub reason: String,
    #[serde(rename = "readIAN")]
    pub read_ian: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "_links")]
    pub links: NotificationLinks,
}

pub const REASON_ASSIGNED: &str = "assigned";

/// Messages of work packages (§5.2), in the order they are checked.
pub mod messages {
    pub const SUBJECT_BLANK: &str = "Subject can't be blank.";
    pub const SUBJECT_TOO_LONG: &str = "Subject is too long (maximum is 255 characters).";
    pub const ASSIGNEE_INVALID: &str = "Assignee is not set to one of the allowed values.";
    pub const TYPE_INVALID: &str = "Type is not set to one of the allowed values.";
    pub const STATUS_INVALID: &str = "Status is not set to one of the allowed values.";
    pub const PRIORITY_INVALID: &str = "Priority is not set to one of the allowed values.";
    pub const START_DATE_INVALID: &str = "Start date is invalid.";
    pub const DUE_DATE_INVALID: &str = "Due date is invalid.";
    pub const PROJECT_BLANK: &str = "Project can't be blank.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::assert_round_trip;

    #[test]
    fn fixtures_round_trip() {
        assert_round_trip::<WorkPackage>("op_work_package");
        assert_round_trip::<Status>("op_status");
        assert_round_trip::<Type>("op_type");
        assert_round_trip::<Priority>("op_priority");
        assert_round_trip::<Notification>("op_notification");
    }
}
