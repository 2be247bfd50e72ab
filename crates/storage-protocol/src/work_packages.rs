//! Work packages, statuses, types, priorities and notifications (openproject-storages.md §5).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    hal::{HalError, Link},
    openproject::{user_href, User, API_BASE},
    projects::{Formattable, Project},
};

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
    /// Sent with a created work package: Nextcloud's app rejects one without it as
    /// "Malformed response".
    #[serde(rename = "_embedded", default, skip_serializing_if = "Option::is_none")]
    pub embedded: Option<WorkPackageEmbedded>,
}

/// The resources a work package links to, embedded (`assignee` only when set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkPackageEmbedded {
    #[serde(rename = "type")]
    pub type_: Type,
    pub status: Status,
    pub priority: Priority,
    pub project: Project,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<User>,
}

pub fn work_packages_of_project(project_id: i64) -> String {
    format!("{API_BASE}/projects/{project_id}/work_packages")
}
pub fn work_package_form_href(project_id: i64) -> String {
    format!("{API_BASE}/projects/{project_id}/work_packages/form")
}
pub fn available_assignees_href(project_id: i64) -> String {
    format!("{API_BASE}/projects/{project_id}/available_assignees")
}

/// `POST /api/v3/projects/{id}/work_packages` as a client sends it: the other fields take the
/// form's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkPackageWrite {
    pub subject: String,
    #[serde(rename = "_links", default, skip_serializing_if = "Option::is_none")]
    pub links: Option<WorkPackageWriteLinks>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkPackageWriteLinks {
    pub assignee: Link,
}

impl WorkPackageWrite {
    pub fn new(subject: &str) -> Self {
        Self {
            subject: subject.to_string(),
            links: None,
        }
    }

    /// Assigned to the user `assignee`, or explicitly to nobody.
    pub fn assigned(subject: &str, assignee: Option<i64>) -> Self {
        let assignee = assignee.map_or_else(Link::nothing, |id| Link::to(user_href(id)));
        Self {
            links: Some(WorkPackageWriteLinks { assignee }),
            ..Self::new(subject)
        }
    }
}

/// `_links` of a write payload: every link a new work package gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadLinks {
    pub project: Link,
    #[serde(rename = "type")]
    pub type_: Link,
    pub status: Link,
    pub priority: Link,
    pub assignee: Link,
}

/// The posted write body with the defaults filled in (`payload` of the form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkPackagePayload {
    pub subject: String,
    pub description: Formattable,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    #[serde(rename = "_links")]
    pub links: PayloadLinks,
}

/// Where a link field's values come from: the list itself, or a collection to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AllowedValues {
    List(Vec<Link>),
    Collection(Link),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaFieldLinks {
    pub allowed_values: AllowedValues,
}

/// One writable field of a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaField {
    #[serde(rename = "type")]
    pub type_: String,
    pub name: String,
    pub required: bool,
    pub has_default: bool,
    pub writable: bool,
    #[serde(rename = "_links", default, skip_serializing_if = "Option::is_none")]
    pub links: Option<SchemaFieldLinks>,
}

/// `_type: "Schema"` of a new work package: its writable fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkPackageSchema {
    #[serde(rename = "_type")]
    pub type_: String,
    pub subject: SchemaField,
    pub description: SchemaField,
    pub start_date: SchemaField,
    pub due_date: SchemaField,
    pub project: SchemaField,
    #[serde(rename = "type")]
    pub work_package_type: SchemaField,
    pub status: SchemaField,
    pub priority: SchemaField,
    pub assignee: SchemaField,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FormEmbedded {
    pub payload: WorkPackagePayload,
    pub schema: WorkPackageSchema,
    /// Each failing camelCase attribute → its `PropertyConstraintViolation`; `{}` when valid.
    pub validation_errors: BTreeMap<String, HalError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub validate: Link,
    /// Only when the payload is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<Link>,
}

/// `_type: "Form"` of `POST /api/v3/projects/{id}/work_packages/form` (Tier 2, §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkPackageForm {
    #[serde(rename = "_type")]
    pub type_: String,
    #[serde(rename = "_embedded")]
    pub embedded: FormEmbedded,
    #[serde(rename = "_links")]
    pub links: FormLinks,
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
        assert_round_trip::<WorkPackage>("op_work_package_created");
        assert_round_trip::<WorkPackageWrite>("op_work_package_write");
        assert_round_trip::<WorkPackageWrite>("op_work_package_write_assigned");
        assert_round_trip::<WorkPackageForm>("op_work_package_form");
        assert_round_trip::<WorkPackageForm>("op_work_package_form_invalid");
        assert_round_trip::<Status>("op_status");
        assert_round_trip::<Type>("op_type");
        assert_round_trip::<Priority>("op_priority");
        assert_round_trip::<Notification>("op_notification");
    }

    #[test]
    fn a_work_package_is_assigned_by_href_or_to_nobody() {
        assert_eq!(
            serde_json::to_value(WorkPackageWrite::assigned("Roadmap", Some(5))).unwrap(),
            crate::fixtures::load("op_work_package_write_assigned")
        );
        assert_eq!(
            serde_json::to_value(WorkPackageWrite::assigned("Roadmap", None)).unwrap(),
            serde_json::json!({"subject": "Roadmap", "_links": {"assignee": {"href": null}}})
        );
    }
}
