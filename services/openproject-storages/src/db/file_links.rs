//! Project storages and file links (openproject-storages.md §9, §10). Both reference their
//! storage ON DELETE CASCADE.

use diesel::prelude::*;
use service_kit::db::{QueryOnBackend, SelectColumns};

use super::{
    schema::{file_links, project_storages, work_packages},
    Conn,
};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = project_storages)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ProjectStorage {
    pub id: i64,
    pub project_id: i64,
    pub storage_id: i64,
    pub project_folder_mode: String,
    pub project_folder_id: Option<String>,
    pub creator_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = project_storages)]
pub struct NewProjectStorage<'a> {
    pub project_id: i64,
    pub storage_id: i64,
    pub project_folder_mode: &'a str,
    pub project_folder_id: Option<&'a str>,
    pub creator_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = file_links)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct FileLink {
    pub id: i64,
    pub storage_id: i64,
    pub container_id: i64,
    pub origin_id: String,
    pub origin_name: String,
    pub origin_mime_type: Option<String>,
    pub origin_created_at: Option<i64>,
    pub origin_updated_at: Option<i64>,
    pub origin_created_by_name: Option<String>,
    pub origin_last_modified_by_name: Option<String>,
    pub creator_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = file_links)]
pub struct NewFileLink {
    pub storage_id: i64,
    pub container_id: i64,
    pub origin_id: String,
    pub origin_name: String,
    pub origin_mime_type: Option<String>,
    pub origin_created_at: Option<i64>,
    pub origin_updated_at: Option<i64>,
    pub origin_created_by_name: Option<String>,
    pub origin_last_modified_by_name: Option<String>,
    pub creator_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Origin data refreshed from Nextcloud's answer.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = file_links, treat_none_as_null = true)]
pub struct OriginRefresh {
    pub origin_name: String,
    pub origin_mime_type: Option<String>,
    pub origin_created_at: Option<i64>,
    pub origin_updated_at: Option<i64>,
    pub origin_created_by_name: Option<String>,
    pub origin_last_modified_by_name: Option<String>,
}

impl OriginRefresh {
    /// True when `link` already holds exactly these values.
    pub fn is_stored_in(&self, link: &FileLink) -> bool {
        self.origin_name == link.origin_name
            && self.origin_mime_type == link.origin_mime_type
            && self.origin_created_at == link.origin_created_at
            && self.origin_updated_at == link.origin_updated_at
            && self.origin_created_by_name == link.origin_created_by_name
            && self.origin_last_modified_by_name == link.origin_last_modified_by_name
    }
}

/// Database methods
impl ProjectStorage {
    pub fn all(conn: &mut Conn) -> QueryResult<Vec<ProjectStorage>> {
        project_storages::table
            .order(project_storages::id.asc())
            .select(ProjectStorage::columns())
            .load_on::<ProjectStorage>(conn)
    }

    pub fn find(conn: &mut Conn, id: i64) -> QueryResult<Option<ProjectStorage>> {
        project_storages::table
            .find(id)
            .select(ProjectStorage::columns())
            .first_on::<ProjectStorage>(conn)
            .optional()
    }

    pub fn find_pair(
        conn: &mut Conn,
        project_id: i64,
        storage_id: i64,
    ) -> QueryResult<Option<ProjectStorage>> {
        project_storages::table
            .filter(project_storages::project_id.eq(project_id))
            .filter(project_storages::storage_id.eq(storage_id))
            .select(ProjectStorage::columns())
            .first_on::<ProjectStorage>(conn)
            .optional()
    }

    pub fn insert(conn: &mut Conn, row: &NewProjectStorage<'_>) -> QueryResult<ProjectStorage> {
        diesel::insert_into(project_storages::table)
            .values(row)
            .returning(project_storages::all_columns)
            .get_result_on(conn)
    }

    /// Deletes the project storage and every file link to its storage on work packages of its
    /// project, in one transaction.
    pub fn delete_with_links(conn: &mut Conn, project_storage: &ProjectStorage) -> QueryResult<()> {
        service_kit::db::write_transaction(conn, |conn| {
            let containers = work_packages::table
                .filter(work_packages::project_id.eq(project_storage.project_id))
                .select(work_packages::id);
            diesel::delete(
                file_links::table
                    .filter(file_links::storage_id.eq(project_storage.storage_id))
                    .filter(file_links::container_id.eq_any(containers)),
            )
            .execute_on(conn)?;
            diesel::delete(project_storages::table.find(project_storage.id)).execute_on(conn)?;
            Ok(())
        })
    }
}

/// Database methods
impl FileLink {
    pub fn find(conn: &mut Conn, id: i64) -> QueryResult<Option<FileLink>> {
        file_links::table
            .find(id)
            .select(FileLink::columns())
            .first_on::<FileLink>(conn)
            .optional()
    }

    pub fn all(conn: &mut Conn) -> QueryResult<Vec<FileLink>> {
        file_links::table
            .order(file_links::id.asc())
            .select(FileLink::columns())
            .load_on::<FileLink>(conn)
    }

    /// A work package's links, oldest first.
    pub fn of_container(conn: &mut Conn, container_id: i64) -> QueryResult<Vec<FileLink>> {
        file_links::table
            .filter(file_links::container_id.eq(container_id))
            .order(file_links::id.asc())
            .select(FileLink::columns())
            .load_on::<FileLink>(conn)
    }

    pub fn find_existing(
        conn: &mut Conn,
        storage_id: i64,
        container_id: i64,
        origin_id: &str,
    ) -> QueryResult<Option<FileLink>> {
        file_links::table
            .filter(file_links::storage_id.eq(storage_id))
            .filter(file_links::container_id.eq(container_id))
            .filter(file_links::origin_id.eq(origin_id))
            .select(FileLink::columns())
            .first_on::<FileLink>(conn)
            .optional()
    }

    pub fn insert(conn: &mut Conn, row: &NewFileLink) -> QueryResult<FileLink> {
        diesel::insert_into(file_links::table)
            .values(row)
            .returning(file_links::all_columns)
            .get_result_on(conn)
    }

    pub fn refresh_origin(conn: &mut Conn, id: i64, refresh: &OriginRefresh) -> QueryResult<usize> {
        diesel::update(file_links::table.find(id))
            .set(refresh)
            .execute_on(conn)
    }

    pub fn delete(conn: &mut Conn, id: i64) -> QueryResult<usize> {
        diesel::delete(file_links::table.find(id)).execute_on(conn)
    }
}
