use diesel::prelude::*;
use service_kit::db::{QueryOnBackend, SelectColumns};

use super::{id_in, schema::oauth_applications, Conn};

/// OpenProject's OAuth application for one storage: Nextcloud is its client.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = oauth_applications)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct OAuthApplication {
    pub id: i64,
    pub name: String,
    pub client_id: String,
    pub secret_digest: String,
    pub redirect_uri: String,
    /// Space separated.
    pub scopes: String,
    pub confidential: bool,
    pub owner_id: Option<i64>,
    pub storage_id: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = oauth_applications)]
pub struct NewOAuthApplication<'a> {
    pub name: &'a str,
    pub client_id: &'a str,
    pub secret_digest: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a str,
    pub confidential: bool,
    pub owner_id: Option<i64>,
    pub storage_id: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl OAuthApplication {
    pub fn find(conn: &mut Conn, id: i64) -> QueryResult<Option<OAuthApplication>> {
        oauth_applications::table
            .find(id)
            .select(OAuthApplication::columns())
            .first_on::<OAuthApplication>(conn)
            .optional()
    }

    pub fn find_by_client_id(
        conn: &mut Conn,
        client_id: &str,
    ) -> QueryResult<Option<OAuthApplication>> {
        oauth_applications::table
            .filter(oauth_applications::client_id.eq(client_id))
            .select(OAuthApplication::columns())
            .first_on::<OAuthApplication>(conn)
            .optional()
    }

    pub fn for_storage(conn: &mut Conn, storage_id: i64) -> QueryResult<Option<OAuthApplication>> {
        oauth_applications::table
            .filter(oauth_applications::storage_id.eq(storage_id))
            .select(OAuthApplication::columns())
            .first_on::<OAuthApplication>(conn)
            .optional()
    }

    pub fn for_storages(
        conn: &mut Conn,
        storage_ids: &[i64],
    ) -> QueryResult<Vec<OAuthApplication>> {
        oauth_applications::table
            .filter(id_in(oauth_applications::storage_id, storage_ids))
            .select(OAuthApplication::columns())
            .load_on::<OAuthApplication>(conn)
    }

    pub fn insert(conn: &mut Conn, row: &NewOAuthApplication<'_>) -> QueryResult<OAuthApplication> {
        diesel::insert_into(oauth_applications::table)
            .values(row)
            .returning(oauth_applications::all_columns)
            .get_result_on(conn)
    }

    /// Name and redirect URI follow the storage (§6.7 PATCH).
    pub fn follow_storage(
        conn: &mut Conn,
        storage_id: i64,
        name: &str,
        redirect_uri: &str,
        now: i64,
    ) -> QueryResult<usize> {
        diesel::update(
            oauth_applications::table.filter(oauth_applications::storage_id.eq(storage_id)),
        )
        .set((
            oauth_applications::name.eq(name),
            oauth_applications::redirect_uri.eq(redirect_uri),
            oauth_applications::updated_at.eq(now),
        ))
        .execute_on(conn)
    }

    /// Deletes the application of a storage; its grants and tokens go with it (ON DELETE CASCADE).
    pub fn delete_for_storage(conn: &mut Conn, storage_id: i64) -> QueryResult<usize> {
        diesel::delete(
            oauth_applications::table.filter(oauth_applications::storage_id.eq(storage_id)),
        )
        .execute_on(conn)
    }
}
