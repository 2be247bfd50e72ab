use diesel::prelude::*;
use service_kit::db::{QueryOnBackend, SelectColumns};

use super::{schema::storages, Conn};

/// A Nextcloud instance known to OpenProject. Field order is the table's column order.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = storages)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Storage {
    pub id: i64,
    pub name: String,
    pub provider_type: String,
    /// Normalised: ends with exactly one `/`.
    pub host: Option<String>,
    pub authentication_method: String,
    pub application_password_sealed: Option<String>,
    pub storage_audience: Option<String>,
    pub token_exchange_scope: Option<String>,
    pub forbidden_file_name_characters: Option<String>,
    pub creator_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = storages)]
pub struct NewStorage<'a> {
    pub name: &'a str,
    pub provider_type: &'a str,
    pub host: Option<&'a str>,
    pub authentication_method: &'a str,
    pub application_password_sealed: Option<&'a str>,
    pub storage_audience: Option<&'a str>,
    pub token_exchange_scope: Option<&'a str>,
    pub forbidden_file_name_characters: Option<&'a str>,
    pub creator_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Every column a PATCH may change, written as a whole (the record is validated as a whole).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = storages, treat_none_as_null = true)]
pub struct StorageRecord<'a> {
    pub name: &'a str,
    pub host: Option<&'a str>,
    pub application_password_sealed: Option<&'a str>,
    pub storage_audience: Option<&'a str>,
    pub token_exchange_scope: Option<&'a str>,
    pub forbidden_file_name_characters: Option<&'a str>,
    pub updated_at: i64,
}

impl Storage {
    pub fn find(conn: &mut Conn, id: i64) -> QueryResult<Option<Storage>> {
        storages::table
            .find(id)
            .select(Storage::columns())
            .first_on::<Storage>(conn)
            .optional()
    }

    pub fn all(conn: &mut Conn) -> QueryResult<Vec<Storage>> {
        storages::table
            .order(storages::id.asc())
            .select(Storage::columns())
            .load_on::<Storage>(conn)
    }

    /// Whether a storage other than `except` has this name (exact, as OpenProject compares).
    pub fn name_taken(conn: &mut Conn, name: &str, except: Option<i64>) -> QueryResult<bool> {
        // No row has id 0: `except: None` excludes nothing.
        let found = storages::table
            .filter(storages::name.eq(name))
            .filter(storages::id.ne(except.unwrap_or(0)))
            .select(storages::id)
            .first_on::<i64>(conn)
            .optional()?;
        Ok(found.is_some())
    }

    /// Whether a storage other than `except` has this (normalised) host.
    pub fn host_taken(conn: &mut Conn, host: &str, except: Option<i64>) -> QueryResult<bool> {
        // No row has id 0: `except: None` excludes nothing.
        let found = storages::table
            .filter(storages::host.eq(host))
            .filter(storages::id.ne(except.unwrap_or(0)))
            .select(storages::id)
            .first_on::<i64>(conn)
            .optional()?;
        Ok(found.is_some())
    }

    pub fn insert(conn: &mut Conn, row: &NewStorage<'_>) -> QueryResult<Storage> {
        diesel::insert_into(storages::table)
            .values(row)
            .returning(storages::all_columns)
            .get_result_on(conn)
    }

    pub fn update(conn: &mut Conn, id: i64, record: &StorageRecord<'_>) -> QueryResult<Storage> {
        diesel::update(storages::table.find(id))
            .set(record)
            .returning(storages::all_columns)
            .get_result_on(conn)
    }

    /// Deletes the row; rows referencing it go with it (ON DELETE CASCADE).
    pub fn delete(conn: &mut Conn, id: i64) -> QueryResult<usize> {
        diesel::delete(storages::table.find(id)).execute_on(conn)
    }
}
