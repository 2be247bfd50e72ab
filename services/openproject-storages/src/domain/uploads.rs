//! Direct upload (openproject-storages.md §6.2 `prepareUpload`, §11 `prepare_upload`): who may
//! upload into a storage for which project. The upload itself goes from the browser straight
//! to Nextcloud.

use super::{
    host::HostError,
    permissions::{Access, Permission},
};
use crate::db::{
    file_links::ProjectStorage, projects::Project, storages::Storage, users::User, Conn,
};

/// The (storage, project) pairs where `user` may upload: the storage is enabled in the project
/// and the user holds `manage_file_links` there; by project id.
pub fn upload_projects(conn: &mut Conn, user: &User) -> diesel::QueryResult<Vec<(i64, i64)>> {
    let access = Access::load(conn, user)?;
    Ok(pairs(&access, ProjectStorage::all(conn)?))
}

/// Pure: the enabled pairs whose project grants `manage_file_links`.
fn pairs(access: &Access, enabled: Vec<ProjectStorage>) -> Vec<(i64, i64)> {
    let mut pairs: Vec<(i64, i64)> = enabled
        .into_iter()
        .filter(|ps| access.allowed(ps.project_id, Permission::ManageFileLinks))
        .map(|ps| (ps.storage_id, ps.project_id))
        .collect();
    pairs.sort_unstable_by_key(|&(storage, project)| (project, storage));
    pairs
}

/// The hosts of the storages a page about `project_id` may upload to for `user` (its
/// `connect-src`).
pub fn upload_hosts(
    conn: &mut Conn,
    user: &User,
    project_id: i64,
) -> diesel::QueryResult<Vec<String>> {
    let storage_ids: Vec<i64> = upload_projects(conn, user)?
        .into_iter()
        .filter(|&(_, project)| project == project_id)
        .map(|(storage, _)| storage)
        .collect();
    Ok(Storage::all(conn)?
        .into_iter()
        .filter(|s| storage_ids.contains(&s.id))
        .filter_map(|s| s.host)
        .collect())
}

/// May `user` prepare an upload into `storage_id` for `project_id`? An unknown or invisible
/// project is 404; without `manage_file_links` there, or with the storage not enabled in it,
/// 403.
pub fn authorize(
    conn: &mut Conn,
    user: &User,
    storage_id: i64,
    project_id: i64,
) -> Result<(), HostError> {
    let project = Project::find(conn, project_id)?.ok_or(HostError::NotFound)?;
    let access = Access::load(conn, user)?;
    if !access.sees_project(project.id) {
        return Err(HostError::NotFound);
    }
    if !access.allowed(project.id, Permission::ManageFileLinks) {
        return Err(HostError::Forbidden);
    }
    if ProjectStorage::find_pair(conn, project.id, storage_id)?.is_none() {
        return Err(HostError::Forbidden);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn enabled(project_id: i64, storage_id: i64) -> ProjectStorage {
        ProjectStorage {
            id: project_id * 100 + storage_id,
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
    fn uploads_go_where_links_may_be_managed_and_the_storage_is_enabled() {
        let modules: Vec<(i64, String)> = [1, 2, 3]
            .into_iter()
            .map(|p| (p, storage_protocol::projects::MODULE_STORAGES.to_string()))
            .collect();
        let roles = HashMap::from([
            (1, vec!["member".to_string()]),
            (2, vec!["reader".to_string()]),
            (3, vec!["project_admin".to_string()]),
        ]);
        let access = Access::compute(true, false, &[1, 2, 3, 4], &modules, &roles);
        let found = pairs(
            &access,
            vec![
                enabled(3, 7),
                enabled(1, 7),
                enabled(2, 7),
                enabled(4, 7),
                enabled(1, 8),
            ],
        );
        assert_eq!(found, vec![(7, 1), (8, 1), (7, 3)]);
    }
}
