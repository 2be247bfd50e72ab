use diesel::prelude::*;
use service_kit::db::{QueryOnBackend, SelectColumns};

use super::{id_in, schema::oauth_client_credentials, Conn};

/// Nextcloud's OAuth client for OpenProject, as OpenProject holds it for one storage.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = oauth_client_credentials)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct OAuthClientCredentials {
    pub id: i64,
    pub storage_id: i64,
    pub client_id: String,
    pub client_secret_sealed: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = oauth_client_credentials)]
pub struct NewOAuthClientCredentials<'a> {
    pub storage_id: i64,
    pub client_id: &'a str,
    pub client_secret_sealed: Option<&'a str>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl OAuthClientCredentials {
    pub fn find(conn: &mut Conn, id: i64) -> QueryResult<Option<OAuthClientCredentials>> {
        oauth_client_credentials::table
            .find(id)
            .select(OAuthClientCredentials::columns())
            .first_on::<OAuthClientCredentials>(conn)
            .optional()
    }

    pub fn for_storage(
        conn: &mut Conn,
        storage_id: i64,
    ) -> QueryResult<Option<OAuthClientCredentials>> {
        oauth_client_credentials::table
            .filter(oauth_client_credentials::storage_id.eq(storage_id))
            .select(OAuthClientCredentials::columns())
            .first_on::<OAuthClientCredentials>(conn)
            .optional()
    }

    pub fn for_storages(
        conn: &mut Conn,
        storage_ids: &[i64],
    ) -> QueryResult<Vec<OAuthClientCredentials>> {
        oauth_client_credentials::table
            .filter(id_in(oauth_client_credentials::storage_id, storage_ids))
            .select(OAuthClientCredentials::columns())
            .load_on::<OAuthClientCredentials>(conn)
    }

    pub fn insert(
        conn: &mut Conn,
        row: &NewOAuthClientCredentials<'_>,
    ) -> QueryResult<OAuthClientCredentials> {
        diesel::insert_into(oauth_client_credentials::table)
            .values(row)
            .returning(oauth_client_credentials::all_columns)
            .get_result_on(conn)
    }

    /// Deletes a storage's credentials; every user's tokens for them go with them (ON DELETE
    /// CASCADE).
    pub fn delete_for_storage(conn: &mut Conn, storage_id: i64) -> QueryResult<usize> {
        diesel::delete(
            oauth_client_credentials::table
                .filter(oauth_client_credentials::storage_id.eq(storage_id)),
        )
        .execute_on(conn)
    }
}
