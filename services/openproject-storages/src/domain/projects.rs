//! Projects, modules and memberships (openproject-storages.md §4): creation rules in the
//! contract's order, the module switches, and what a user sees.

use std::collections::BTreeSet;

use service_kit::db::serialized_transaction;
use storage_protocol::{
    hal::HalError,
    lenient::Lenient,
    openproject::API_BASE,
    projects::{
        messages as msg, MembershipWrite, ProjectWrite, TextWrite, AVAILABLE_MODULES,
        MODULE_WORK_PACKAGE_TRACKING,
    },
    storages::LinkWrite,
};

use super::{
    host::{id_from_href, HostError},
    permissions::{Access, Permission},
};
use crate::db::{
    file_links::ProjectStorage,
    projects::{Membership, NewMembership, NewProject, Project, Role},
    storages::Storage,
    users::User,
    Conn,
};

/// A project as one caller sees it: with the storages enabled in it, only where the caller
/// holds `view_file_links` (real OpenProject shows `_links.storages` under that permission).
#[derive(Debug, Clone)]
pub struct ProjectView {
    pub project: Project,
    pub storages: Option<Vec<Storage>>,
}

/// Pairs each project with what `access` may see of its storages, keeping the order.
pub fn views(
    conn: &mut Conn,
    access: &Access,
    projects: Vec<Project>,
) -> Result<Vec<ProjectView>, HostError> {
    let project_storages = ProjectStorage::all(conn)?;
    let storages = Storage::all(conn)?;
    Ok(projects
        .into_iter()
        .map(|project| {
            let shown = access
                .allowed(project.id, Permission::ViewFileLinks)
                .then(|| enabled_storages(project.id, &project_storages, &storages));
            ProjectView {
                project,
                storages: shown,
            }
        })
        .collect())
}

/// The storages enabled in a project, by storage id.
fn enabled_storages(
    project_id: i64,
    project_storages: &[ProjectStorage],
    storages: &[Storage],
) -> Vec<Storage> {
    let mut enabled: Vec<Storage> = storages
        .iter()
        .filter(|s| {
            project_storages
                .iter()
                .any(|ps| ps.project_id == project_id && ps.storage_id == s.id)
        })
        .cloned()
        .collect();
    enabled.sort_by_key(|s| s.id);
    enabled
}

/// Read-then-write work on these rows runs one at a time across replicas ("PROJ").
const PROJECTS_LOCK: i64 = 0x5052_4f4a;

const NAME_MAX: usize = 255;
const IDENTIFIER_MAX: usize = 100;

/// The identifier OpenProject derives from a name: lower case, every run of characters outside
/// `[a-z0-9_-]` replaced by `-`.
pub fn derive_identifier(name: &str) -> String {
    let mut out = String::new();
    let mut in_run = false;
    for c in name.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('-');
            in_run = true;
        }
    }
    out
}

fn identifier_valid(identifier: &str) -> bool {
    let mut chars = identifier.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// `POST /api/v3/projects`: `name`, optional `identifier`, `description.raw`. New projects have
/// only `work_package_tracking` enabled.
pub fn create_project(
    conn: &mut Conn,
    write: &ProjectWrite,
    now: i64,
) -> Result<Project, HostError> {
    let trimmed = |field: &Lenient<String>| field.value().map_or("", |s| s.trim()).to_string();
    let name = trimmed(&write.name);
    let given_identifier = !write.identifier.is_absent();
    let identifier = match given_identifier {
        true => trimmed(&write.identifier),
        false => derive_identifier(&name),
    };
    let description = TextWrite::raw_of(&write.description).to_string();
    serialized_transaction(conn, PROJECTS_LOCK, |conn| {
        let mut errors = Vec::new();
        if name.is_empty() {
            errors.push(HalError::violation("name", msg::NAME_BLANK));
        } else if name.chars().count() > NAME_MAX {
            errors.push(HalError::violation("name", msg::NAME_TOO_LONG));
        }
        // A derived identifier of a blank name is not a second mistake of the caller.
        if given_identifier || !name.is_empty() {
            let mut identifier_ok = true;
            if !identifier_valid(&identifier) {
                errors.push(HalError::violation("identifier", msg::IDENTIFIER_INVALID));
                identifier_ok = false;
            }
            if identifier.chars().count() > IDENTIFIER_MAX {
                errors.push(HalError::violation("identifier", msg::IDENTIFIER_TOO_LONG));
                identifier_ok = false;
            }
            if identifier_ok && Project::find_by_identifier(conn, &identifier)?.is_some() {
                errors.push(HalError::violation("identifier", msg::IDENTIFIER_TAKEN));
            }
        }
        if !errors.is_empty() {
            return Err(HostError::Invalid(errors));
        }
        let project = Project::insert(
            conn,
            &NewProject {
                identifier: &identifier,
                name: &name,
                description: &description,
                created_at: now,
                updated_at: now,
            },
        )?;
        Project::enable_module(conn, project.id, MODULE_WORK_PACKAGE_TRACKING)?;
        Ok(project)
    })
}

/// A project by id or identifier, if the user sees it (member or admin).
pub fn find_visible(
    conn: &mut Conn,
    user: &User,
    id_or_identifier: &str,
) -> Result<(Project, Access), HostError> {
    let project = match id_or_identifier.parse::<i64>() {
        Ok(id) if id > 0 && id_or_identifier.bytes().all(|b| b.is_ascii_digit()) => {
            Project::find(conn, id)?
        }
        _ => Project::find_by_identifier(conn, id_or_identifier)?,
    };
    let project = project.ok_or(HostError::NotFound)?;
    let access = Access::load(conn, user)?;
    if !access.sees_project(project.id) {
        return Err(HostError::NotFound);
    }
    Ok((project, access))
}

/// Enables or disables a module (Extension): the project must be visible, the module known, and
/// the caller must hold `select_project_modules`.
pub fn switch_module(
    conn: &mut Conn,
    user: &User,
    raw_project: &str,
    module: &str,
    enable: bool,
) -> Result<(Project, Vec<String>), HostError> {
    let (project, access) = find_visible(conn, user, raw_project)?;
    if !AVAILABLE_MODULES.contains(&module) {
        return Err(HostError::NotFound);
    }
    if !access.allowed(project.id, Permission::SelectProjectModules) {
        return Err(HostError::Forbidden);
    }
    if enable {
        Project::enable_module(conn, project.id, module)?;
    } else {
        Project::disable_module(conn, project.id, module)?;
    }
    let modules = Project::modules(conn, project.id)?;
    Ok((project, modules))
}

/// `POST /api/v3/memberships` (admin): project, principal and roles, one membership per user
/// and project.
pub fn create_membership(
    conn: &mut Conn,
    write: &MembershipWrite,
    now: i64,
) -> Result<Membership, HostError> {
    let links = write.links();
    let project_id = LinkWrite::href_of(&links.project)
        .and_then(|h| id_from_href(h, &format!("{API_BASE}/projects/")));
    let principal_id = LinkWrite::href_of(&links.principal)
        .and_then(|h| id_from_href(h, &format!("{API_BASE}/users/")));
    let role_ids: BTreeSet<i64> = links
        .roles
        .value()
        .into_iter()
        .flatten()
        .filter_map(LinkWrite::href_of)
        .filter_map(|h| id_from_href(h, &format!("{API_BASE}/roles/")))
        .collect();
    serialized_transaction(conn, PROJECTS_LOCK, |conn| {
        let mut errors = Vec::new();
        let project = match project_id {
            Some(id) => Project::find(conn, id)?,
            None => None,
        };
        if project.is_none() {
            errors.push(HalError::violation("project", msg::PROJECT_BLANK));
        }
        let principal = match principal_id {
            Some(id) => User::find(conn, id)?,
            None => None,
        };
        if principal.is_none() {
            errors.push(HalError::violation("principal", msg::PRINCIPAL_BLANK));
        }
        let mut roles = Vec::new();
        for id in &role_ids {
            if let Some(role) = Role::find(conn, *id)? {
                roles.push(role.id);
            }
        }
        if roles.is_empty() || roles.len() != role_ids.len() {
            errors.push(HalError::violation("roles", msg::ROLES_BLANK));
        }
        if let (Some(project), Some(principal)) = (&project, &principal) {
            if Membership::exists(conn, project.id, principal.id)? {
                errors.push(HalError::violation("principal", msg::PRINCIPAL_TAKEN));
            }
        }
        let (Some(project), Some(principal)) = (project, principal) else {
            return Err(HostError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(HostError::Invalid(errors));
        }
        Ok(Membership::insert(
            conn,
            &NewMembership {
                project_id: project.id,
                user_id: principal.id,
                created_at: now,
                updated_at: now,
            },
            &roles,
        )?)
    })
}

/// Memberships the user sees: all for admins, else those of the user's projects.
pub fn visible_memberships(conn: &mut Conn, user: &User) -> Result<Vec<Membership>, HostError> {
    if user.is_active_admin() {
        return Ok(Membership::all(conn)?);
    }
    let projects: Vec<i64> = Membership::of_user(conn, user.id)?
        .iter()
        .map(|m| m.project_id)
        .collect();
    Ok(Membership::of_projects(conn, &projects)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(id: i64, name: &str) -> Storage {
        Storage {
            id,
            name: name.into(),
            provider_type: String::new(),
            host: None,
            authentication_method: String::new(),
            application_password_sealed: None,
            storage_audience: None,
            token_exchange_scope: None,
            forbidden_file_name_characters: None,
            creator_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn enabled(id: i64, project_id: i64, storage_id: i64) -> ProjectStorage {
        ProjectStorage {
            id,
            project_id,
            storage_id,
            project_folder_mode: "inactive".into(),
            project_folder_id: None,
            creator_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_project_lists_only_its_enabled_storages_by_id() {
        let storages = [storage(3, "C"), storage(1, "A"), storage(2, "B")];
        let project_storages = [enabled(1, 7, 3), enabled(2, 7, 1), enabled(3, 8, 2)];
        let names = |project| {
            enabled_storages(project, &project_storages, &storages)
                .into_iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(7), ["A", "C"]);
        assert_eq!(names(8), ["B"]);
        assert!(names(9).is_empty());
    }

    #[test]
    fn identifiers() {
        assert_eq!(derive_identifier("Demo project"), "demo-project");
        assert_eq!(derive_identifier("A  &  B_c-1"), "a-b_c-1");
        assert!(identifier_valid("demo-project"));
        assert!(!identifier_valid("1demo"));
        assert!(!identifier_valid(""));
        assert!(!identifier_valid("Demo"));
    }
}
