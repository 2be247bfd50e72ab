//! Project storages (openproject-storages.md §9): visibility, filters, and the Extension
//! endpoints that enable a storage in a project and remove it with its file links.

use service_kit::db::serialized_transaction;
use storage_protocol::{
    hal::HalError,
    lenient::Lenient,
    openproject::API_BASE,
    projects::{messages as msg, ProjectStorageWrite, MODULE_STORAGES, PROJECT_FOLDER_MODES},
    storages::{LinkField, LinkWrite},
};

use super::{
    filters::{self, Filter},
    host::{id_from_href, HostError},
    permissions::{Access, Permission},
};
use crate::db::{
    file_links::{NewProjectStorage, ProjectStorage},
    projects::Project,
    storages::Storage,
    users::User,
    Conn,
};

/// Read-then-write work on these rows runs one at a time across replicas ("PSTO").
const PROJECT_STORAGES_LOCK: i64 = 0x5053_544f;

pub const FILTERS: &[(&str, &[&str])] = &[
    ("storageId", &["="]),
    ("projectId", &["="]),
    ("storageUrl", &["="]),
    ("storage_id", &["="]),
    ("project_id", &["="]),
    ("storage_url", &["="]),
];

/// A project storage with what its representation names.
#[derive(Debug, Clone)]
pub struct Shown {
    pub project_storage: ProjectStorage,
    pub project: Project,
    pub storage: Storage,
    pub creator: Option<User>,
    pub can_read_files: bool,
}

fn show(
    conn: &mut Conn,
    access: &Access,
    rows: Vec<ProjectStorage>,
) -> Result<Vec<Shown>, HostError> {
    let projects = Project::all(conn)?;
    let storages = Storage::all(conn)?;
    let creators = User::find_many(
        conn,
        &rows.iter().filter_map(|r| r.creator_id).collect::<Vec<_>>(),
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|ps| {
            Some(Shown {
                project: projects.iter().find(|p| p.id == ps.project_id)?.clone(),
                storage: storages.iter().find(|s| s.id == ps.storage_id)?.clone(),
                creator: ps
                    .creator_id
                    .and_then(|id| creators.iter().find(|u| u.id == id).cloned()),
                can_read_files: access.allowed(ps.project_id, Permission::ReadFiles),
                project_storage: ps,
            })
        })
        .collect())
}

/// Visible project storages (`view_file_links` in the project) matching the filters, by id.
pub fn list(conn: &mut Conn, user: &User, filters: &[Filter]) -> Result<Vec<Shown>, HostError> {
    let access = Access::load(conn, user)?;
    let storages = Storage::all(conn)?;
    let rows: Vec<ProjectStorage> = ProjectStorage::all(conn)?
        .into_iter()
        .filter(|ps| access.allowed(ps.project_id, Permission::ViewFileLinks))
        .filter(|ps| {
            filters.iter().all(|f| match f.name.as_str() {
                "storageId" | "storage_id" => filters::ids(&f.values).contains(&ps.storage_id),
                "projectId" | "project_id" => filters::ids(&f.values).contains(&ps.project_id),
                _ => {
                    let host = storages
                        .iter()
                        .find(|s| s.id == ps.storage_id)
                        .and_then(|s| s.host.as_deref());
                    f.values.iter().any(|v| filters::host_matches(v, host))
                }
            })
        })
        .collect();
    show(conn, &access, rows)
}

pub fn find_visible(conn: &mut Conn, user: &User, id: i64) -> Result<(Shown, Access), HostError> {
    let access = Access::load(conn, user)?;
    let row = ProjectStorage::find(conn, id)?
        .filter(|ps| access.allowed(ps.project_id, Permission::ViewFileLinks))
        .ok_or(HostError::NotFound)?;
    let shown = show(conn, &access, vec![row])?
        .pop()
        .ok_or(HostError::NotFound)?;
    Ok((shown, access))
}

/// The folder id of `_links.projectFolder.href` (`/api/v3/storages/{sid}/files/{folderId}`).
fn folder_id(href: &str) -> Option<String> {
    let rest = href.strip_prefix(&format!("{API_BASE}/storages/"))?;
    let (_, folder) = rest.split_once("/files/")?;
    (!folder.is_empty() && !folder.contains('/')).then(|| folder.to_string())
}

/// `POST /api/v3/project_storages`, checks in the order of §9.2.
pub fn create(
    conn: &mut Conn,
    user: &User,
    write: &ProjectStorageWrite,
    now: i64,
) -> Result<ProjectStorage, HostError> {
    let links = write.links();
    serialized_transaction(conn, PROJECT_STORAGES_LOCK, |conn| {
        let access = Access::load(conn, user)?;
        let project = manageable_project(conn, &access, &links.project)?;
        // 4. Attribute rules, collected.
        let mut errors = Vec::new();
        let storage = match LinkWrite::href_of(&links.storage) {
            None => {
                errors.push(HalError::violation("storage", msg::STORAGE_BLANK));
                None
            }
            Some(href) => {
                let found = id_from_href(href, &format!("{API_BASE}/storages/"))
                    .map(|id| Storage::find(conn, id))
                    .transpose()?
                    .flatten();
                if found.is_none() {
                    errors.push(HalError::violation("storage", msg::STORAGE_NOT_EXIST));
                }
                found
            }
        };
        let (mode, folder) = folder_settings(write, &links.project_folder, &mut errors);
        if let Some(storage) = &storage {
            if ProjectStorage::find_pair(conn, project.id, storage.id)?.is_some() {
                errors.push(HalError::violation("project", msg::PROJECT_TAKEN));
            }
        }
        let (Some(storage), Some(mode), true) = (storage, mode, errors.is_empty()) else {
            return Err(HostError::Invalid(errors));
        };
        Ok(ProjectStorage::insert(
            conn,
            &NewProjectStorage {
                project_id: project.id,
                storage_id: storage.id,
                project_folder_mode: &mode,
                project_folder_id: if mode == "manual" {
                    folder.as_deref()
                } else {
                    None
                },
                creator_id: Some(user.id),
                created_at: now,
                updated_at: now,
            },
        )?)
    })
}

/// Steps 1–3 of §9.2: the project the body names, visible, with the file storages module on,
/// where the caller may manage files.
fn manageable_project(
    conn: &mut Conn,
    access: &Access,
    project_link: &LinkField,
) -> Result<Project, HostError> {
    // 1. The project.
    let Some(project_href) = LinkWrite::href_of(project_link) else {
        return Err(HostError::Invalid(vec![HalError::violation(
            "project",
            msg::PROJECT_BLANK,
        )]));
    };
    let project = id_from_href(project_href, &format!("{API_BASE}/projects/"))
        .filter(|id| access.sees_project(*id))
        .map(|id| Project::find(conn, id))
        .transpose()?
        .flatten()
        .ok_or_else(|| {
            HostError::Invalid(vec![HalError::violation("project", msg::PROJECT_NOT_EXIST)])
        })?;
    // 2. The module.
    if !Project::modules(conn, project.id)?
        .iter()
        .any(|m| m == MODULE_STORAGES)
    {
        return Err(HostError::Invalid(vec![HalError::violation(
            "project",
            msg::STORAGES_MODULE_DISABLED,
        )]));
    }
    // 3. The permission.
    if !access.allowed(project.id, Permission::ManageFilesInProject) {
        return Err(HostError::Forbidden);
    }
    Ok(project)
}

/// The project folder mode and folder of the body, their violations added to `errors`.
fn folder_settings(
    write: &ProjectStorageWrite,
    folder_link: &LinkField,
    errors: &mut Vec<HalError>,
) -> (Option<String>, Option<String>) {
    let mode = match &write.project_folder_mode {
        Lenient::Absent | Lenient::Value(None) => Some("inactive".to_string()),
        Lenient::Value(Some(m)) if PROJECT_FOLDER_MODES.contains(&m.as_str()) => Some(m.clone()),
        Lenient::Value(Some(_)) | Lenient::Invalid => None,
    };
    let folder = LinkWrite::href_of(folder_link).and_then(folder_id);
    match mode.as_deref() {
        None => errors.push(HalError::violation(
            "projectFolderMode",
            msg::FOLDER_MODE_INVALID,
        )),
        Some("manual") if folder.is_none() => errors.push(HalError::violation(
            "projectFolder",
            msg::PROJECT_FOLDER_BLANK,
        )),
        // Automatically managed folders are Tier 2, not built: never available.
        Some("automatic") => errors.push(HalError::violation(
            "projectFolderMode",
            msg::FOLDER_MODE_UNAVAILABLE,
        )),
        _ => {}
    }
    (mode, folder)
}

/// `DELETE /api/v3/project_storages/{id}`: invisible → 404, without `manage_files_in_project`
/// → 403; the project storage and its file links go in one transaction.
pub fn delete(conn: &mut Conn, user: &User, id: i64) -> Result<ProjectStorage, HostError> {
    let (shown, access) = find_visible(conn, user, id)?;
    if !access.allowed(shown.project.id, Permission::ManageFilesInProject) {
        return Err(HostError::Forbidden);
    }
    ProjectStorage::delete_with_links(conn, &shown.project_storage)?;
    Ok(shown.project_storage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_ids() {
        assert_eq!(folder_id("/api/v3/storages/1/files/42"), Some("42".into()));
        assert_eq!(folder_id("/api/v3/storages/1/files/"), None);
        assert_eq!(folder_id("/api/v3/projects/1"), None);
    }
}
