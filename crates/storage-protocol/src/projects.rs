//! Projects, their modules, roles, memberships and project storages (openproject-storages.md
//! §2, §4, §9): the bodies and the messages of the host model around storages.

use serde::{Deserialize, Serialize};

use crate::{
    hal::Link,
    lenient::{Lenient, Object},
    openproject::{user_href, API_BASE},
    storages::{storage_href, LinkField, LinkWrite},
};

pub const MODULE_WORK_PACKAGE_TRACKING: &str = "work_package_tracking";
pub const MODULE_STORAGES: &str = "storages";
/// Every module, in the order ProjectModules lists them.
pub const AVAILABLE_MODULES: [&str; 2] = [MODULE_STORAGES, MODULE_WORK_PACKAGE_TRACKING];

pub fn project_href(id: i64) -> String {
    format!("{API_BASE}/projects/{id}")
}
pub fn role_href(id: i64) -> String {
    format!("{API_BASE}/roles/{id}")
}
pub fn membership_href(id: i64) -> String {
    format!("{API_BASE}/memberships/{id}")
}
pub fn project_storage_href(id: i64) -> String {
    format!("{API_BASE}/project_storages/{id}")
}

/// `{format: "markdown", raw, html}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Formattable {
    pub format: String,
    pub raw: String,
    pub html: String,
}

impl Formattable {
    /// Markdown as stored; the HTML is the text escaped in one paragraph (no renderer here).
    pub fn markdown(raw: &str) -> Self {
        let escaped = raw
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        Self {
            format: "markdown".into(),
            raw: raw.to_string(),
            html: if raw.is_empty() {
                String::new()
            } else {
                format!("<p>{escaped}</p>")
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub parent: Link,
    pub work_packages: Link,
    /// One `{href, title}` per storage enabled in the project, shown only to callers holding
    /// `view_file_links` there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storages: Option<Vec<Link>>,
}

/// `_type: "Project"` (§4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub identifier: String,
    pub name: String,
    pub active: bool,
    pub public: bool,
    pub description: Formattable,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "_links")]
    pub links: ProjectLinks,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectModulesLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub project: Link,
}

/// `_type: "ProjectModules"` (Extension, §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectModules {
    #[serde(rename = "_type")]
    pub type_: String,
    pub enabled: Vec<String>,
    pub available: Vec<String>,
    #[serde(rename = "_links")]
    pub links: ProjectModulesLinks,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfLink {
    #[serde(rename = "self")]
    pub self_: Link,
}

/// `{_type: "Role", id, name, _links.self}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub name: String,
    #[serde(rename = "_links")]
    pub links: SelfLink,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub project: Link,
    pub principal: Link,
    pub roles: Vec<Link>,
}

/// `_type: "Membership"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "_links")]
    pub links: MembershipLinks,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectStorageLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    pub storage: Link,
    pub project: Link,
    pub creator: Link,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_folder: Option<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_with_connection_ensured: Option<Link>,
}

/// `_type: "ProjectStorage"` (§9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectStorage {
    #[serde(rename = "_type")]
    pub type_: String,
    pub id: i64,
    pub project_folder_mode: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "_links")]
    pub links: ProjectStorageLinks,
}

/// `POST /api/v3/projects`. A wrong type is a rule failure in the contract's order
/// ([`Lenient`]); unknown and read-only keys are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectWrite {
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub name: Lenient<String>,
    /// Absent: derived from the name.
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub identifier: Lenient<String>,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub description: Lenient<Object<TextWrite>>,
}

impl ProjectWrite {
    /// A project with this name, its identifier derived from it.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string().into(),
            ..Self::default()
        }
    }
}

/// A formattable text as a write body gives it: only `raw` is read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextWrite {
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub raw: Lenient<String>,
}

impl TextWrite {
    /// The raw text of a `description`-like field: `""` when absent or of the wrong type.
    pub fn raw_of(text: &Lenient<Object<TextWrite>>) -> &str {
        text.value()
            .and_then(|Object(text)| text.raw.value())
            .map_or("", String::as_str)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipWriteLinks {
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub project: LinkField,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub principal: LinkField,
    /// Elements that are not links with a string href name no role.
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub roles: Lenient<Vec<LinkField>>,
}

/// `POST /api/v3/memberships`, read leniently ([`Lenient`]): what is not a link names nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipWrite {
    #[serde(rename = "_links", default, skip_serializing_if = "Lenient::is_absent")]
    pub links: Lenient<Object<MembershipWriteLinks>>,
}

impl MembershipWrite {
    /// The user `principal_id` in `project_id` with the one role at `role_href`.
    pub fn new(project_id: i64, principal_id: i64, role_href: &str) -> Self {
        Self {
            links: Lenient::Value(Object(MembershipWriteLinks {
                project: LinkWrite::to(&project_href(project_id)),
                principal: LinkWrite::to(&user_href(principal_id)),
                roles: Lenient::Value(vec![LinkWrite::to(role_href)]),
            })),
        }
    }

    /// The links of the body; none when `_links` is absent or not an object.
    pub fn links(&self) -> MembershipWriteLinks {
        self.links
            .value()
            .map(|Object(links)| links.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectStorageWriteLinks {
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub project: LinkField,
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub storage: LinkField,
    /// The folder of the `manual` mode.
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub project_folder: LinkField,
}

/// `POST /api/v3/project_storages`, read leniently ([`Lenient`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectStorageWrite {
    /// One of [`PROJECT_FOLDER_MODES`]; absent or `null` is `inactive`.
    #[serde(default, skip_serializing_if = "Lenient::is_absent")]
    pub project_folder_mode: Lenient<Option<String>>,
    #[serde(rename = "_links", default, skip_serializing_if = "Lenient::is_absent")]
    pub links: Lenient<Object<ProjectStorageWriteLinks>>,
}

impl ProjectStorageWrite {
    /// Setup step 5 (flows.md §1): the storage enabled in the project, without a project folder.
    pub fn inactive(project_id: i64, storage_id: i64) -> Self {
        Self {
            project_folder_mode: Lenient::Value(Some("inactive".into())),
            links: Lenient::Value(Object(ProjectStorageWriteLinks {
                project: LinkWrite::to(&project_href(project_id)),
                storage: LinkWrite::to(&storage_href(storage_id)),
                ..Default::default()
            })),
        }
    }

    /// The links of the body; none when `_links` is absent or not an object.
    pub fn links(&self) -> ProjectStorageWriteLinks {
        self.links
            .value()
            .map(|Object(links)| links.clone())
            .unwrap_or_default()
    }
}

pub const PROJECT_FOLDER_MODES: [&str; 3] = ["inactive", "manual", "automatic"];

/// Messages of projects, memberships and project storages, in the order they are checked.
pub mod messages {
    pub const NAME_BLANK: &str = "Name can't be blank.";
    pub const NAME_TOO_LONG: &str = "Name is too long (maximum is 255 characters).";
    pub const IDENTIFIER_INVALID: &str = "Identifier is invalid.";
    pub const IDENTIFIER_TOO_LONG: &str = "Identifier is too long (maximum is 100 characters).";
    pub const IDENTIFIER_TAKEN: &str = "Identifier has already been taken.";
    pub const PROJECT_BLANK: &str = "Project can't be blank.";
    pub const PROJECT_NOT_EXIST: &str = "Project does not exist.";
    pub const PRINCIPAL_BLANK: &str = "Principal can't be blank.";
    pub const ROLES_BLANK: &str = "Roles need to be assigned.";
    pub const PRINCIPAL_TAKEN: &str = "Principal has already been taken.";
    pub const STORAGES_MODULE_DISABLED: &str =
        "Project does not have the \"File storages\" module enabled.";
    pub const STORAGE_BLANK: &str = "Storage can't be blank.";
    pub const STORAGE_NOT_EXIST: &str = "Storage does not exist.";
    pub const FOLDER_MODE_INVALID: &str =
        "Project folder mode is not set to one of the allowed values.";
    pub const PROJECT_FOLDER_BLANK: &str = "Project folder can't be blank.";
    pub const FOLDER_MODE_UNAVAILABLE: &str =
        "Project folder mode is not available for this storage.";
    pub const PROJECT_TAKEN: &str = "Project has already been taken.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::assert_round_trip;

    #[test]
    fn fixtures_round_trip() {
        assert_round_trip::<Project>("op_project");
        assert_round_trip::<ProjectModules>("op_project_modules");
        assert_round_trip::<Role>("op_role");
        assert_round_trip::<Membership>("op_membership");
        assert_round_trip::<ProjectStorage>("op_project_storage");
        assert_round_trip::<ProjectWrite>("op_project_write");
        assert_round_trip::<MembershipWrite>("op_membership_write");
        assert_round_trip::<ProjectStorageWrite>("op_project_storage_write");
    }

    #[test]
    fn writes_name_their_resources_by_href() {
        assert_eq!(
            serde_json::to_value(MembershipWrite::new(1, 5, &role_href(2))).unwrap(),
            crate::fixtures::load("op_membership_write")
        );
        assert_eq!(
            serde_json::to_value(ProjectStorageWrite::inactive(1, 3)).unwrap(),
            crate::fixtures::load("op_project_storage_write")
        );
    }

    #[test]
    fn descriptions_are_escaped() {
        assert_eq!(Formattable::markdown("a<b").html, "<p>a&lt;b</p>");
        assert_eq!(Formattable::markdown("").html, "");
    }
}
