//! `direct_uploads`: tokens of direct uploads, by digest; each is deleted when it is redeemed.

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend};

use super::schema::direct_uploads;

/// What a token stands for.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct DirectUploadRow {
    pub uid: String,
    pub folder_id: i64,
    pub expires_at: i64,
}

/// Local methods
impl DirectUploadRow {
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.expires_at > now
    }
}

/// Database methods
pub fn insert(
    conn: &mut AnyConnection,
    token_digest: &str,
    uid: &str,
    folder_id: i64,
    expires_at: i64,
) -> QueryResult<()> {
    diesel::insert_into(direct_uploads::table)
        .values((
            direct_uploads::token_digest.eq(token_digest),
            direct_uploads::uid.eq(uid),
            direct_uploads::folder_id.eq(folder_id),
            direct_uploads::expires_at.eq(expires_at),
        ))
        .execute_on(conn)
        .map(|_| ())
}

/// Deletes the token and returns what it stood for, expired or not; `None` when it is unknown
/// or another request took it first (the delete decides, so a token serves one request only).
pub fn take(conn: &mut AnyConnection, token_digest: &str) -> QueryResult<Option<DirectUploadRow>> {
    let found: Option<DirectUploadRow> = direct_uploads::table
        .filter(direct_uploads::token_digest.eq(token_digest))
        .select((
            direct_uploads::uid,
            direct_uploads::folder_id,
            direct_uploads::expires_at,
        ))
        .first_on(conn)
        .optional()?;
    let Some(row) = found else {
        return Ok(None);
    };
    let deleted =
        diesel::delete(direct_uploads::table.filter(direct_uploads::token_digest.eq(token_digest)))
            .execute_on(conn)?;
    Ok((deleted == 1).then_some(row))
}

/// The expiry of a token, for tests that check it without waiting.
pub fn expiry(conn: &mut AnyConnection, token_digest: &str) -> QueryResult<Option<i64>> {
    direct_uploads::table
        .filter(direct_uploads::token_digest.eq(token_digest))
        .select(direct_uploads::expires_at)
        .first_on(conn)
        .optional()
}

/// Sets a token's expiry (tests make a token expire without waiting).
pub fn set_expiry(
    conn: &mut AnyConnection,
    token_digest: &str,
    expires_at: i64,
) -> QueryResult<usize> {
    diesel::update(direct_uploads::table.filter(direct_uploads::token_digest.eq(token_digest)))
        .set(direct_uploads::expires_at.eq(expires_at))
        .execute_on(conn)
}

/// Deletes the tokens expired at `now`.
pub fn purge_expired(conn: &mut AnyConnection, now: i64) -> QueryResult<usize> {
    diesel::delete(direct_uploads::table.filter(direct_uploads::expires_at.le(now)))
        .execute_on(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_db;

    #[test]
    fn a_token_is_taken_once_and_purged_when_expired() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        insert(conn, "d1", "alice", 7, 100).unwrap();
        insert(conn, "d2", "alice", 7, 50).unwrap();
        assert_eq!(expiry(conn, "d1").unwrap(), Some(100));
        let row = take(conn, "d1").unwrap().unwrap();
        assert_eq!((row.uid.as_str(), row.folder_id), ("alice", 7));
        assert!(row.is_valid_at(99) && !row.is_valid_at(100));
        assert_eq!(take(conn, "d1").unwrap(), None);
        assert_eq!(set_expiry(conn, "d2", 10).unwrap(), 1);
        assert_eq!(purge_expired(conn, 10).unwrap(), 1);
        assert_eq!(take(conn, "d2").unwrap(), None);
    }
}
