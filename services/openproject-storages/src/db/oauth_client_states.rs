use diesel::prelude::*;
use service_kit::db::{QueryOnBackend, SelectColumns};

use super::{schema::oauth_client_states, Conn};

/// A state of an OpenProject user's authorization at Nextcloud (oauth.md §4.1), stored under its
/// digest. `code_verifier_sealed` is absent for a front-end nonce (§4.2) and once consumed.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = oauth_client_states)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct OAuthClientState {
    pub id: i64,
    pub state_digest: String,
    pub user_id: i64,
    pub storage_id: i64,
    pub code_verifier_sealed: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = oauth_client_states)]
pub struct NewOAuthClientState<'a> {
    pub state_digest: &'a str,
    pub user_id: i64,
    pub storage_id: i64,
    pub code_verifier_sealed: Option<&'a str>,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
}

/// Database methods
impl OAuthClientState {
    pub fn insert(conn: &mut Conn, row: &NewOAuthClientState<'_>) -> QueryResult<usize> {
        diesel::insert_into(oauth_client_states::table)
            .values(row)
            .execute_on(conn)
    }

    /// Inserts the row unless one with its digest exists; returns whether it was inserted. A
    /// conflict does not abort the caller's transaction.
    pub fn insert_new(conn: &mut Conn, row: &NewOAuthClientState<'_>) -> QueryResult<bool> {
        diesel::insert_into(oauth_client_states::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute_on(conn)
            .map(|inserted| inserted == 1)
    }

    pub fn find_by_digest(
        conn: &mut Conn,
        state_digest: &str,
    ) -> QueryResult<Option<OAuthClientState>> {
        oauth_client_states::table
            .filter(oauth_client_states::state_digest.eq(state_digest))
            .select(OAuthClientState::columns())
            .first_on::<OAuthClientState>(conn)
            .optional()
    }

    /// Marks the state used and forgets its verifier, in one conditional update: 1 for the one
    /// caller that consumed it, 0 for everyone else.
    pub fn consume(conn: &mut Conn, id: i64, now: i64) -> QueryResult<usize> {
        diesel::update(
            oauth_client_states::table
                .find(id)
                .filter(oauth_client_states::consumed_at.is_null())
                .filter(oauth_client_states::expires_at.gt(now)),
        )
        .set((
            oauth_client_states::consumed_at.eq(now),
            oauth_client_states::code_verifier_sealed.eq(None::<String>),
        ))
        .execute_on(conn)
    }

    /// Forgets states (and the digests of used ones) created before `cutoff`.
    pub fn purge_created_before(conn: &mut Conn, cutoff: i64) -> QueryResult<usize> {
        diesel::delete(
            oauth_client_states::table.filter(oauth_client_states::created_at.lt(cutoff)),
        )
        .execute_on(conn)
    }
}
