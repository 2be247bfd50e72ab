use diesel::prelude::*;
use service_kit::db::{serialized_transaction, QueryOnBackend, SelectColumns};

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
    /// Also the row's version: every write moves it forward.
    pub updated_at: i64,
    /// When a replica claimed the refresh of this row (a lease), if one is running.
    pub refresh_claimed_at: Option<i64>,
    /// When the pair was last obtained by a refresh (not by an authorization).
    pub refreshed_at: Option<i64>,
}

/// A token pair as it is stored after an authorization or a refresh.
#[derive(Debug, Clone)]
pub struct SealedTokens {
    pub access_token_sealed: String,
    pub refresh_token_sealed: Option<String>,
    pub expires_at: Option<i64>,
}

/// Serializes the writes to one (user, credentials) row across replicas (see
/// [`serialized_transaction`]); distinct pairs rarely share a lock, and sharing one only orders them.
fn row_lock(user_id: i64, credentials_id: i64) -> i64 {
    const BASE: i64 = 0x6f63_746b_0000_0000; // "octk"
    BASE ^ ((user_id.wrapping_mul(0x9E37_79B9) ^ credentials_id) & 0xFFFF_FFFF)
}

/// Local methods
impl OAuthClientToken {
    /// The version a write after `self` must carry: strictly later, even within one millisecond.
    pub fn next_version(&self, now: i64) -> i64 {
        now.max(self.updated_at + 1)
    }
}

/// Database methods
impl OAuthClientToken {
    pub fn find(
        conn: &mut Conn,
        user_id: i64,
        credentials_id: i64,
    ) -> QueryResult<Option<OAuthClientToken>> {
        oauth_client_tokens::table
            .filter(oauth_client_tokens::user_id.eq(user_id))
            .filter(oauth_client_tokens::oauth_client_credentials_id.eq(credentials_id))
            .select(OAuthClientToken::columns())
            .first_on::<OAuthClientToken>(conn)
            .optional()
    }

    /// Stores a new authorization for (user, credentials), replacing the previous one.
    pub fn replace(
        conn: &mut Conn,
        user_id: i64,
        credentials_id: i64,
        tokens: &SealedTokens,
        origin_user_id: Option<&str>,
        now: i64,
    ) -> QueryResult<OAuthClientToken> {
        serialized_transaction(conn, row_lock(user_id, credentials_id), |conn| {
            let previous = Self::find(conn, user_id, credentials_id)?;
            let version = previous.as_ref().map_or(now, |p| p.next_version(now));
            diesel::delete(
                oauth_client_tokens::table
                    .filter(oauth_client_tokens::user_id.eq(user_id))
                    .filter(oauth_client_tokens::oauth_client_credentials_id.eq(credentials_id)),
            )
            .execute_on(conn)?;
            diesel::insert_into(oauth_client_tokens::table)
                .values((
                    oauth_client_tokens::oauth_client_credentials_id.eq(credentials_id),
                    oauth_client_tokens::user_id.eq(user_id),
                    oauth_client_tokens::access_token_sealed.eq(&tokens.access_token_sealed),
                    oauth_client_tokens::refresh_token_sealed.eq(&tokens.refresh_token_sealed),
                    oauth_client_tokens::expires_at.eq(tokens.expires_at),
                    oauth_client_tokens::origin_user_id.eq(origin_user_id),
                    oauth_client_tokens::created_at.eq(now),
                    oauth_client_tokens::updated_at.eq(version),
                ))
                .returning(oauth_client_tokens::all_columns)
                .get_result_on(conn)
        })
    }

    /// Claims the refresh of the row as it was seen (`seen.updated_at`), unless another claim
    /// younger than `lease_millis` runs. One conditional update: 1 means this caller refreshes.
    pub fn claim_refresh(
        conn: &mut Conn,
        seen: &OAuthClientToken,
        now: i64,
        lease_millis: i64,
    ) -> QueryResult<usize> {
        diesel::update(
            oauth_client_tokens::table
                .find(seen.id)
                .filter(oauth_client_tokens::updated_at.eq(seen.updated_at))
                .filter(
                    oauth_client_tokens::refresh_claimed_at
                        .is_null()
                        .or(oauth_client_tokens::refresh_claimed_at.lt(now - lease_millis)),
                ),
        )
        .set(oauth_client_tokens::refresh_claimed_at.eq(now))
        .execute_on(conn)
    }

    /// Stores the refreshed pair if this caller's claim still holds; 0 when the row was replaced,
    /// deleted, or its lease taken over meanwhile.
    pub fn finish_refresh(
        conn: &mut Conn,
        claimed: &OAuthClientToken,
        claimed_at: i64,
        tokens: &SealedTokens,
        now: i64,
    ) -> QueryResult<usize> {
        diesel::update(
            oauth_client_tokens::table
                .find(claimed.id)
                .filter(oauth_client_tokens::updated_at.eq(claimed.updated_at))
                .filter(oauth_client_tokens::refresh_claimed_at.eq(claimed_at)),
        )
        .set((
            oauth_client_tokens::access_token_sealed.eq(&tokens.access_token_sealed),
            oauth_client_tokens::refresh_token_sealed.eq(&tokens.refresh_token_sealed),
            oauth_client_tokens::expires_at.eq(tokens.expires_at),
            oauth_client_tokens::updated_at.eq(claimed.next_version(now)),
            oauth_client_tokens::refresh_claimed_at.eq(None::<i64>),
            oauth_client_tokens::refreshed_at.eq(now),
        ))
        .execute_on(conn)
    }

    /// Deletes a user's authorization for one set of credentials (the user disconnected).
    pub fn delete_for_user(
        conn: &mut Conn,
        user_id: i64,
        credentials_id: i64,
    ) -> QueryResult<usize> {
        diesel::delete(
            oauth_client_tokens::table
                .filter(oauth_client_tokens::user_id.eq(user_id))
                .filter(oauth_client_tokens::oauth_client_credentials_id.eq(credentials_id)),
        )
        .execute_on(conn)
    }

    /// Deletes the row after this caller's refresh failed, if its claim still holds.
    pub fn delete_claimed(
        conn: &mut Conn,
        claimed: &OAuthClientToken,
        claimed_at: i64,
    ) -> QueryResult<usize> {
        diesel::delete(
            oauth_client_tokens::table
                .find(claimed.id)
                .filter(oauth_client_tokens::updated_at.eq(claimed.updated_at))
                .filter(oauth_client_tokens::refresh_claimed_at.eq(claimed_at)),
        )
        .execute_on(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_always_move_forward() {
        let row = OAuthClientToken {
            id: 1,
            oauth_client_credentials_id: 1,
            user_id: 1,
            access_token_sealed: String::new(),
            refresh_token_sealed: None,
            expires_at: None,
            origin_user_id: None,
            created_at: 0,
            updated_at: 1_000,
            refresh_claimed_at: None,
            refreshed_at: None,
        };
        assert_eq!(row.next_version(5_000), 5_000);
        assert_eq!(row.next_version(1_000), 1_001);
        assert_eq!(
            row.next_version(900),
            1_001,
            "a clock behind the stored version"
        );
    }

    #[test]
    fn row_locks_stay_in_their_namespace() {
        assert_eq!(row_lock(1, 2) >> 32, 0x6f63_746b);
        assert_ne!(row_lock(1, 2), row_lock(2, 1));
    }
}
