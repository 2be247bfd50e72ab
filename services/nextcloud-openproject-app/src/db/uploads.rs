//! `uploads` and `upload_chunks`: chunked uploads in progress and their chunks.

use diesel::prelude::*;
use service_kit::db::{id_in, AnyConnection, QueryOnBackend, SelectColumns};

use super::schema::{upload_chunks, uploads};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = uploads)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct UploadRow {
    pub id: i64,
    pub owner_uid: String,
    pub name: String,
    /// The target's path segments joined by `/`, when known.
    pub destination: Option<String>,
    /// Legacy v1: how many chunks make the file.
    pub chunk_count: Option<i64>,
    pub assembling_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = uploads)]
pub struct NewUploadRow<'a> {
    pub owner_uid: &'a str,
    pub name: &'a str,
    pub destination: Option<&'a str>,
    pub chunk_count: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = upload_chunks)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ChunkRow {
    pub upload_id: i64,
    pub name: String,
    pub content_key: String,
    pub size: i64,
}

pub fn find(conn: &mut AnyConnection, owner: &str, name: &str) -> QueryResult<Option<UploadRow>> {
    uploads::table
        .filter(uploads::owner_uid.eq(owner))
        .filter(uploads::name.eq(name))
        .select(UploadRow::columns())
        .first_on::<UploadRow>(conn)
        .optional()
}

/// The owner's uploads, by name.
pub fn list(conn: &mut AnyConnection, owner: &str) -> QueryResult<Vec<UploadRow>> {
    uploads::table
        .filter(uploads::owner_uid.eq(owner))
        .order(uploads::name.asc())
        .select(UploadRow::columns())
        .load_on::<UploadRow>(conn)
}

pub fn insert(conn: &mut AnyConnection, row: &NewUploadRow<'_>) -> QueryResult<UploadRow> {
    let id: i64 = diesel::insert_into(uploads::table)
        .values(row)
        .returning(uploads::id)
        .get_result_on(conn)?;
    uploads::table
        .find(id)
        .select(UploadRow::columns())
        .first_on::<UploadRow>(conn)
}

/// Marks the upload as used now (it expires a while after its last use).
pub fn touch(conn: &mut AnyConnection, id: i64, now: i64) -> QueryResult<usize> {
    diesel::update(uploads::table.find(id))
        .set(uploads::updated_at.eq(now))
        .execute_on(conn)
}

/// Claims the upload for assembly unless another request holds a claim younger than
/// `stale_before`; true when claimed.
pub fn claim(conn: &mut AnyConnection, id: i64, now: i64, stale_before: i64) -> QueryResult<bool> {
    let claimed = diesel::update(
        uploads::table.find(id).filter(
            uploads::assembling_since
                .is_null()
                .or(uploads::assembling_since.lt(stale_before)),
        ),
    )
    .set(uploads::assembling_since.eq(now))
    .execute_on(conn)?;
    Ok(claimed == 1)
}

pub fn release(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::update(uploads::table.find(id))
        .set(uploads::assembling_since.eq(None::<i64>))
        .execute_on(conn)
}

/// The upload's chunks, in no particular order.
pub fn chunks(conn: &mut AnyConnection, id: i64) -> QueryResult<Vec<ChunkRow>> {
    upload_chunks::table
        .filter(upload_chunks::upload_id.eq(id))
        .select(ChunkRow::columns())
        .load_on::<ChunkRow>(conn)
}

pub fn find_chunk(conn: &mut AnyConnection, id: i64, name: &str) -> QueryResult<Option<ChunkRow>> {
    upload_chunks::table
        .filter(upload_chunks::upload_id.eq(id))
        .filter(upload_chunks::name.eq(name))
        .select(ChunkRow::columns())
        .first_on::<ChunkRow>(conn)
        .optional()
}

pub fn insert_chunk(conn: &mut AnyConnection, row: &ChunkRow) -> QueryResult<usize> {
    diesel::insert_into(upload_chunks::table)
        .values((
            upload_chunks::upload_id.eq(row.upload_id),
            upload_chunks::name.eq(&row.name),
            upload_chunks::content_key.eq(&row.content_key),
            upload_chunks::size.eq(row.size),
        ))
        .execute_on(conn)
}

pub fn replace_chunk(conn: &mut AnyConnection, row: &ChunkRow) -> QueryResult<usize> {
    diesel::update(
        upload_chunks::table
            .filter(upload_chunks::upload_id.eq(row.upload_id))
            .filter(upload_chunks::name.eq(&row.name)),
    )
    .set((
        upload_chunks::content_key.eq(&row.content_key),
        upload_chunks::size.eq(row.size),
    ))
    .execute_on(conn)
}

pub fn delete_chunk(conn: &mut AnyConnection, id: i64, name: &str) -> QueryResult<usize> {
    diesel::delete(
        upload_chunks::table
            .filter(upload_chunks::upload_id.eq(id))
            .filter(upload_chunks::name.eq(name)),
    )
    .execute_on(conn)
}

/// Deletes uploads with their chunks; returns the chunks' content keys.
pub fn delete(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = upload_chunks::table
        .filter(id_in(upload_chunks::upload_id, ids))
        .select(upload_chunks::content_key)
        .load_on(conn)?;
    diesel::delete(upload_chunks::table.filter(id_in(upload_chunks::upload_id, ids)))
        .execute_on(conn)?;
    diesel::delete(uploads::table.filter(id_in(uploads::id, ids))).execute_on(conn)?;
    Ok(keys)
}

/// Uploads last used before `before` (unix seconds).
pub fn unused_since(conn: &mut AnyConnection, before: i64) -> QueryResult<Vec<i64>> {
    uploads::table
        .filter(uploads::updated_at.lt(before))
        .select(uploads::id)
        .load_on(conn)
}
