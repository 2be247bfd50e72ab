//! Permissions of the host model (openproject-storages.md §2): a user holds a permission in a
//! project when active, the permission's module is enabled there, and the user is an admin or a
//! member with a role granting it. Non-members hold nothing; there are no public projects.

use std::collections::{BTreeSet, HashMap};

use storage_protocol::projects::{MODULE_STORAGES, MODULE_WORK_PACKAGE_TRACKING};

use crate::db::{
    projects::{Membership, Project, Role},
    users::User,
    Conn,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    ViewWorkPackages,
    AddWorkPackages,
    EditWorkPackages,
    ViewFileLinks,
    ManageFileLinks,
    ManageFilesInProject,
    ReadFiles,
    WriteFiles,
    CreateFiles,
    DeleteFiles,
    ShareFiles,
    SelectProjectModules,
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Self::ViewWorkPackages,
        Self::AddWorkPackages,
        Self::EditWorkPackages,
        Self::ViewFileLinks,
        Self::ManageFileLinks,
        Self::ManageFilesInProject,
        Self::ReadFiles,
        Self::WriteFiles,
        Self::CreateFiles,
        Self::DeleteFiles,
        Self::ShareFiles,
        Self::SelectProjectModules,
    ];

    /// The module that must be enabled for the permission to count.
    pub fn module(self) -> Option<&'static str> {
        use Permission::*;
        match self {
            ViewWorkPackages | AddWorkPackages | EditWorkPackages => {
                Some(MODULE_WORK_PACKAGE_TRACKING)
            }
            SelectProjectModules => None,
            _ => Some(MODULE_STORAGES),
        }
    }

    /// The table of §2, by the role's stable key.
    pub fn granted_by(self, role_key: &str) -> bool {
        use Permission::*;
        match role_key {
            "project_admin" => true,
            "member" => matches!(
                self,
                ViewWorkPackages
                    | AddWorkPackages
                    | EditWorkPackages
                    | ViewFileLinks
                    | ManageFileLinks
                    | ReadFiles
                    | WriteFiles
                    | CreateFiles
                    | DeleteFiles
            ),
            "reader" => matches!(self, ViewWorkPackages | ViewFileLinks | ReadFiles),
            _ => false,
        }
    }
}

pub type PermissionSet = BTreeSet<Permission>;

/// Everything one user holds, per project they see (member of, or every project for admins).
#[derive(Debug, Clone, Default)]
pub struct Access {
    by_project: HashMap<i64, PermissionSet>,
}

impl Access {
    /// Pure: the permissions from a user's standing, each project's enabled modules and the
    /// role keys of the user's membership in it.
    pub fn compute(
        active: bool,
        admin: bool,
        projects: &[i64],
        modules: &[(i64, String)],
        roles_by_project: &HashMap<i64, Vec<String>>,
    ) -> Self {
        let mut by_project = HashMap::new();
        if !active {
            return Self { by_project };
        }
        for &project_id in projects {
            let role_keys = roles_by_project.get(&project_id);
            if !admin && role_keys.is_none() {
                continue;
            }
            let enabled = |module: &str| {
                modules
                    .iter()
                    .any(|(p, name)| *p == project_id && name == module)
            };
            let held = Permission::ALL
                .into_iter()
                .filter(|p| p.module().is_none_or(enabled))
                .filter(|p| {
                    admin || role_keys.is_some_and(|keys| keys.iter().any(|key| p.granted_by(key)))
                })
                .collect();
            by_project.insert(project_id, held);
        }
        Self { by_project }
    }

    pub fn load(conn: &mut Conn, user: &User) -> diesel::QueryResult<Self> {
        let admin = user.is_active_admin();
        let memberships = Membership::of_user(conn, user.id)?;
        let projects: Vec<i64> = if admin {
            Project::all(conn)?.into_iter().map(|p| p.id).collect()
        } else {
            memberships.iter().map(|m| m.project_id).collect()
        };
        let roles = Role::all(conn)?;
        let pairs = Membership::roles_of_user(conn, user.id)?;
        let mut roles_by_project: HashMap<i64, Vec<String>> = HashMap::new();
        for membership in &memberships {
            let keys = pairs
                .iter()
                .filter(|(m, _)| *m == membership.id)
                .filter_map(|(_, r)| roles.iter().find(|role| role.id == *r))
                .map(|role| role.role_key.clone())
                .collect();
            roles_by_project.insert(membership.project_id, keys);
        }
        let modules = Project::all_modules(conn)?;
        Ok(Self::compute(
            user.is_active(),
            admin,
            &projects,
            &modules,
            &roles_by_project,
        ))
    }

    /// Whether the project is visible at all: the user is a member, or an admin.
    pub fn sees_project(&self, project_id: i64) -> bool {
        self.by_project.contains_key(&project_id)
    }

    pub fn allowed(&self, project_id: i64, permission: Permission) -> bool {
        self.by_project
            .get(&project_id)
            .is_some_and(|set| set.contains(&permission))
    }

    pub fn permissions(&self, project_id: i64) -> PermissionSet {
        self.by_project
            .get(&project_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Projects where the permission is held, ascending.
    pub fn projects_with(&self, permission: Permission) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .by_project
            .iter()
            .filter(|(_, set)| set.contains(&permission))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    pub fn visible_projects(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.by_project.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    pub fn anywhere(&self, permission: Permission) -> bool {
        self.by_project
            .values()
            .any(|set| set.contains(&permission))
    }
}

/// The set of permissions `user` holds in `project_id` (§2).
pub fn permissions(
    conn: &mut Conn,
    user: &User,
    project_id: i64,
) -> diesel::QueryResult<PermissionSet> {
    Ok(Access::load(conn, user)?.permissions(project_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    fn modules(project: i64, names: &[&str]) -> Vec<(i64, String)> {
        names.iter().map(|n| (project, n.to_string())).collect()
    }

    #[test]
    fn roles_and_modules() {
        let both = modules(1, &[MODULE_STORAGES, MODULE_WORK_PACKAGE_TRACKING]);
        let roles = |key: &str| HashMap::from([(1, vec![key.to_string()])]);
        let member = Access::compute(true, false, &[1], &both, &roles("member"));
        assert!(member.allowed(1, ManageFileLinks));
        assert!(!member.allowed(1, ManageFilesInProject));
        assert!(!member.allowed(1, SelectProjectModules));
        let reader = Access::compute(true, false, &[1], &both, &roles("reader"));
        assert!(reader.allowed(1, ViewFileLinks));
        assert!(!reader.allowed(1, ManageFileLinks));
        assert!(!reader.allowed(1, AddWorkPackages));
        let wp_only = modules(1, &[MODULE_WORK_PACKAGE_TRACKING]);
        let project_admin = Access::compute(true, false, &[1], &wp_only, &roles("project_admin"));
        assert!(project_admin.allowed(1, SelectProjectModules));
        assert!(project_admin.allowed(1, ViewWorkPackages));
        assert!(
            !project_admin.allowed(1, ViewFileLinks),
            "storages module off"
        );
    }

    #[test]
    fn admins_and_non_members() {
        let both = modules(1, &[MODULE_STORAGES, MODULE_WORK_PACKAGE_TRACKING]);
        let admin = Access::compute(true, true, &[1, 2], &both, &HashMap::new());
        assert!(admin.allowed(1, ManageFilesInProject));
        assert!(admin.allowed(2, SelectProjectModules));
        assert!(
            !admin.allowed(2, ViewWorkPackages),
            "no module in project 2"
        );
        let stranger = Access::compute(true, false, &[], &both, &HashMap::new());
        assert!(!stranger.sees_project(1));
        let locked = Access::compute(false, true, &[1], &both, &HashMap::new());
        assert!(!locked.sees_project(1));
    }
}
