//! `team_folders`: the team folder records (what a folder holds comes with the files).

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend, SelectColumns};

use super::schema::team_folders;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = team_folders)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct TeamFolderRow {
    pub id: i64,
    pub name: String,
    /// The group it is shared with; `None` once that group is gone.
    pub gid: Option<String>,
    pub permissions: i32,
    pub acl: bool,
    pub acl_manager_uid: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = team_folders)]
pub struct NewTeamFolderRow<'a> {
    pub name: &'a str,
    pub gid: &'a str,
    pub permissions: i32,
    pub acl: bool,
    pub acl_manager_uid: &'a str,
    pub created_at: i64,
}

pub fn find_by_name(conn: &mut AnyConnection, name: &str) -> QueryResult<Option<TeamFolderRow>> {
    team_folders::table
        .filter(team_folders::name.eq(name))
        .select(TeamFolderRow::columns())
        .first_on::<TeamFolderRow>(conn)
        .optional()
}

/// Inserts a team folder and returns its id.
pub fn insert(conn: &mut AnyConnection, row: &NewTeamFolderRow<'_>) -> QueryResult<i64> {
    diesel::insert_into(team_folders::table)
        .values(row)
        .returning(team_folders::id)
        .get_result_on(conn)
}
