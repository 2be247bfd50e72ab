//! `file_nodes`: files and folders of users' trees and of the team folder.

use diesel::prelude::*;
use service_kit::db::{id_in, AnyConnection, QueryOnBackend, SelectColumns};

use super::schema::file_nodes;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = file_nodes)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct FileNodeRow {
    pub id: i64,
    pub owner_uid: Option<String>,
    pub team_folder_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub name: String,
    pub is_folder: bool,
    /// Folders: the total of their contents.
    pub size: i64,
    pub mime_type: String,
    /// The content's file name in the data directory (files only).
    pub content_key: Option<String>,
    pub etag: String,
    pub mtime: i64,
    pub ctime: i64,
    /// The last user who created or changed the content.
    pub modifier_uid: Option<String>,
    /// `TYPE:hex` entries separated by spaces (files only).
    pub checksum: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = file_nodes)]
pub struct NewFileNodeRow<'a> {
    pub owner_uid: Option<&'a str>,
    pub team_folder_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub name: &'a str,
    pub is_folder: bool,
    pub size: i64,
    pub mime_type: &'a str,
    pub content_key: Option<&'a str>,
    pub etag: &'a str,
    pub mtime: i64,
    pub ctime: i64,
    pub modifier_uid: Option<&'a str>,
    pub checksum: Option<&'a str>,
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<FileNodeRow>> {
    file_nodes::table
        .find(id)
        .select(FileNodeRow::columns())
        .first_on::<FileNodeRow>(conn)
        .optional()
}

/// The nodes among `ids` that exist, in no particular order.
pub fn find_many(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<FileNodeRow>> {
    file_nodes::table
        .filter(id_in(file_nodes::id, ids))
        .select(FileNodeRow::columns())
        .load_on::<FileNodeRow>(conn)
}

pub fn user_root(conn: &mut AnyConnection, uid: &str) -> QueryResult<Option<FileNodeRow>> {
    file_nodes::table
        .filter(file_nodes::owner_uid.eq(uid))
        .filter(file_nodes::parent_id.is_null())
        .select(FileNodeRow::columns())
        .first_on::<FileNodeRow>(conn)
        .optional()
}

pub fn team_root(
    conn: &mut AnyConnection,
    team_folder_id: i64,
) -> QueryResult<Option<FileNodeRow>> {
    file_nodes::table
        .filter(file_nodes::team_folder_id.eq(team_folder_id))
        .filter(file_nodes::parent_id.is_null())
        .select(FileNodeRow::columns())
        .first_on::<FileNodeRow>(conn)
        .optional()
}

pub fn child(
    conn: &mut AnyConnection,
    parent: i64,
    name: &str,
) -> QueryResult<Option<FileNodeRow>> {
    file_nodes::table
        .filter(file_nodes::parent_id.eq(parent))
        .filter(file_nodes::name.eq(name))
        .select(FileNodeRow::columns())
        .first_on::<FileNodeRow>(conn)
        .optional()
}

/// The children of a folder, ordered by name.
pub fn children(conn: &mut AnyConnection, parent: i64) -> QueryResult<Vec<FileNodeRow>> {
    file_nodes::table
        .filter(file_nodes::parent_id.eq(parent))
        .order(file_nodes::name.asc())
        .select(FileNodeRow::columns())
        .load_on::<FileNodeRow>(conn)
}

/// Inserts a node and returns it.
pub fn insert(conn: &mut AnyConnection, row: &NewFileNodeRow<'_>) -> QueryResult<FileNodeRow> {
    let id: i64 = diesel::insert_into(file_nodes::table)
        .values(row)
        .returning(file_nodes::id)
        .get_result_on(conn)?;
    file_nodes::table
        .find(id)
        .select(FileNodeRow::columns())
        .first_on::<FileNodeRow>(conn)
}

/// New content of a file.
#[derive(Debug)]
pub struct ContentChange<'a> {
    pub content_key: &'a str,
    pub size: i64,
    pub mime_type: &'a str,
    pub etag: &'a str,
    pub mtime: i64,
    pub modifier: &'a str,
    pub checksum: &'a str,
}

pub fn set_content(
    conn: &mut AnyConnection,
    id: i64,
    change: &ContentChange<'_>,
) -> QueryResult<usize> {
    diesel::update(file_nodes::table.find(id))
        .set((
            file_nodes::content_key.eq(change.content_key),
            file_nodes::size.eq(change.size),
            file_nodes::mime_type.eq(change.mime_type),
            file_nodes::etag.eq(change.etag),
            file_nodes::mtime.eq(change.mtime),
            file_nodes::modifier_uid.eq(change.modifier),
            file_nodes::checksum.eq(change.checksum),
        ))
        .execute_on(conn)
}

/// A folder changed below: its size moves by `size_delta`, and it gets a new etag and mtime.
pub fn touch_folder(
    conn: &mut AnyConnection,
    id: i64,
    size_delta: i64,
    etag: &str,
    mtime: i64,
) -> QueryResult<usize> {
    diesel::update(file_nodes::table.find(id))
        .set((
            file_nodes::size.eq(file_nodes::size + size_delta),
            file_nodes::etag.eq(etag),
            file_nodes::mtime.eq(mtime),
        ))
        .execute_on(conn)
}

/// Moves a node (and so its subtree) under another parent, possibly in another tree.
pub fn relocate(
    conn: &mut AnyConnection,
    id: i64,
    parent: i64,
    name: &str,
    owner_uid: Option<&str>,
    team_folder_id: Option<i64>,
) -> QueryResult<usize> {
    diesel::update(file_nodes::table.find(id))
        .set((
            file_nodes::parent_id.eq(parent),
            file_nodes::name.eq(name),
            file_nodes::owner_uid.eq(owner_uid),
            file_nodes::team_folder_id.eq(team_folder_id),
        ))
        .execute_on(conn)
}

/// Sets the tree of nodes (the descendants of a moved folder).
pub fn set_tree(
    conn: &mut AnyConnection,
    ids: &[i64],
    owner_uid: Option<&str>,
    team_folder_id: Option<i64>,
) -> QueryResult<usize> {
    diesel::update(file_nodes::table.filter(id_in(file_nodes::id, ids)))
        .set((
            file_nodes::owner_uid.eq(owner_uid),
            file_nodes::team_folder_id.eq(team_folder_id),
        ))
        .execute_on(conn)
}

/// Deletes the nodes in one statement: a folder and its subtree go together, whatever the order
/// of `ids` (foreign keys are checked at the end of the statement).
pub fn delete(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(file_nodes::table.filter(id_in(file_nodes::id, ids))).execute_on(conn)
}

/// Ids and content keys of a folder's whole subtree (not the folder itself).
pub fn descendants(
    conn: &mut AnyConnection,
    folder: i64,
) -> QueryResult<Vec<(i64, Option<String>)>> {
    let mut found = Vec::new();
    let mut level = vec![folder];
    while !level.is_empty() {
        let rows: Vec<(i64, bool, Option<String>)> = file_nodes::table
            .filter(id_in(file_nodes::parent_id, &level))
            .select((
                file_nodes::id,
                file_nodes::is_folder,
                file_nodes::content_key,
            ))
            .load_on(conn)?;
        level.clear();
        for (id, is_folder, key) in rows {
            if is_folder {
                level.push(id);
            }
            found.push((id, key));
        }
    }
    Ok(found)
}

/// A folder's whole subtree (not the folder itself), each folder before its children.
pub fn subtree(conn: &mut AnyConnection, folder: i64) -> QueryResult<Vec<FileNodeRow>> {
    let mut found = Vec::new();
    let mut level = vec![folder];
    while !level.is_empty() {
        let rows: Vec<FileNodeRow> = file_nodes::table
            .filter(id_in(file_nodes::parent_id, &level))
            .order(file_nodes::name.asc())
            .select(FileNodeRow::columns())
            .load_on::<FileNodeRow>(conn)?;
        level = rows.iter().filter(|r| r.is_folder).map(|r| r.id).collect();
        found.extend(rows);
    }
    Ok(found)
}
