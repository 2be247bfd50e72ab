use diesel::prelude::*;

use super::{schema::oauth_client_tokens, Conn};

/// A user's Nextcloud tokens (sealed) and Nextcloud user id, for one set of client credentials.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = oauth_client_tokens)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct OAuthClientToken {
    pub id: i64,
    pub oauth_client_credentials_id: i64,
    pub user_id: i64,
    pub access_token_sealed: String,
    pub refresh_token_sealed: Option<String>,
    pub expires_at: Option<i64>,
    pub origin_user_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl OAuthClientToken {
    pub fn find(
        conn: &mut Conn,
        user_id: i64,
        credentials_id: i64,
    ) -> QueryResult<Option<OAuthClientToken>> {
        oauth_client_tokens::table
            .filter(oauth_client_tokens::user_id.eq(user_id))
            .filter(oauth_client_tokens::oauth_client_credentials_id.eq(credentials_id))
            .select(OAuthClientToken::as_select())
            .first(conn)
            .optional()
    }

    /// Deletes this token row unless it was replaced meanwhile (`updated_at` changed).
    pub fn delete_if_unchanged(conn: &mut Conn, token: &OAuthClientToken) -> QueryResult<usize> {
        diesel::delete(
            oauth_client_tokens::table
                .find(token.id)
                .filter(oauth_client_tokens::updated_at.eq(token.updated_at)),
        )
        .execute(conn)
    }
}
