//! The OAuth 2 authorization-server engine both services run (spec/oauth.md §1–§3, §7).
//!
//! What is shared: single-use authorization codes bound to client, user, redirect URI, scope and
//! PKCE challenge; token families with rotation and reuse detection; revocation; bearer lookup.
//! What each service passes in its [`Policy`]: lifetimes, token shapes, the PKCE methods it
//! accepts and how refresh rotation retires the previous pair. Error bodies, check order and
//! client authentication stay in the services, composed from the steps here.
//!
//! Codes and tokens are stored only as SHA-256 digests; every lookup goes to the database, so a
//! revocation is seen at once by every replica.

pub mod schema;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use diesel::prelude::*;
use service_kit::db::{QueryOnBackend, SelectColumns};
use service_kit::{
    crypto::{constant_time_eq, digest, random_hex},
    db::AnyConnection as Conn,
    time::now_millis,
};
use sha2::{Digest, Sha256};

use schema::{oauth_codes, oauth_tokens};

/// How refresh rotation retires the pair it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The old pair stays usable until the new access or refresh token is first used
    /// (OpenProject, covering a lost response).
    GraceUntilSuccessorUsed,
    /// The old pair stops working at once (Nextcloud).
    Immediate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMethod {
    S256,
    Plain,
}

impl PkceMethod {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "S256" => Some(Self::S256),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

/// A service's rules for the engine.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub code_ttl_secs: i64,
    pub access_ttl_secs: i64,
    pub rotation: Rotation,
    pub pkce_methods: &'static [PkceMethod],
    /// Generators of the opaque values handed out, each from a CSPRNG.
    pub new_code: fn() -> String,
    pub new_access_token: fn() -> String,
    pub new_refresh_token: fn() -> String,
}

/// What the user approved at the authorization endpoint.
#[derive(Debug, Clone)]
pub struct Authorization<'a> {
    pub client_pk: i64,
    pub subject: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<PkceMethod>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = oauth_codes)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CodeRow {
    pub id: i64,
    pub client_pk: i64,
    pub subject: String,
    pub code_digest: String,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub family_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = oauth_tokens)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct TokenRow {
    pub id: i64,
    pub client_pk: i64,
    pub subject: String,
    pub family_id: String,
    pub scope: String,
    pub access_digest: String,
    pub refresh_digest: Option<String>,
    pub access_expires_at: i64,
    pub previous_id: Option<i64>,
    pub created_at: i64,
    pub rotated_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenRow {
    /// Unix seconds.
    pub fn created_at_secs(&self) -> i64 {
        self.created_at / 1000
    }

    /// Unix seconds.
    pub fn expires_at_secs(&self) -> i64 {
        self.access_expires_at / 1000
    }

    pub fn expires_in_secs(&self, now_millis: i64) -> i64 {
        ((self.access_expires_at - now_millis) / 1000).max(0)
    }
}

/// A freshly issued pair, shown once to the client.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub scope: String,
    pub subject: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// What a presented code turned out to be.
#[derive(Debug)]
pub enum CodeState {
    Usable(Box<CodeRow>),
    /// Past its lifetime; it has been deleted.
    Expired,
    /// Already exchanged: everything issued from it has been revoked.
    Replayed,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceError {
    /// The code has a challenge and no verifier came.
    Missing,
    Mismatch,
}

/// What a presented refresh token turned out to be.
#[derive(Debug)]
pub enum RefreshState {
    Usable(Box<TokenRow>),
    /// Revoked, presented again: the whole family has been revoked.
    Reused,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked,
    /// Issued to another client; nothing was changed.
    OtherClient,
    /// Not a token we know (also fine for the caller: revocation is idempotent).
    Unknown,
}

/// Errors of the steps that write: the database, or a race lost to a replay.
#[derive(Debug)]
pub enum GrantError {
    /// The code or refresh token was used concurrently or before: the family was revoked.
    Replayed,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for GrantError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

/// `base64url(SHA-256(verifier))` without padding: the S256 challenge of a verifier.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Stores a code for what the user approved and returns it (shown once, in the redirect).
pub fn issue_code(
    conn: &mut Conn,
    policy: &Policy,
    authorization: &Authorization<'_>,
) -> QueryResult<String> {
    let code = (policy.new_code)();
    let now = now_millis();
    diesel::insert_into(oauth_codes::table)
        .values((
            oauth_codes::client_pk.eq(authorization.client_pk),
            oauth_codes::subject.eq(authorization.subject),
            oauth_codes::code_digest.eq(digest(&code)),
            oauth_codes::redirect_uri.eq(authorization.redirect_uri),
            oauth_codes::scope.eq(authorization.scope),
            oauth_codes::code_challenge.eq(authorization.code_challenge),
            oauth_codes::code_challenge_method
                .eq(authorization.code_challenge_method.map(PkceMethod::as_str)),
            oauth_codes::family_id.eq(random_hex(16)),
            oauth_codes::created_at.eq(now),
            oauth_codes::expires_at.eq(now + policy.code_ttl_secs * 1000),
        ))
        .execute_on(conn)?;
    Ok(code)
}

/// Looks a presented code up. A consumed code is a replay: every token issued from it is
/// revoked. An expired code is deleted.
pub fn find_code(conn: &mut Conn, code: &str) -> QueryResult<CodeState> {
    let Some(row) = oauth_codes::table
        .filter(oauth_codes::code_digest.eq(digest(code)))
        .select(CodeRow::columns())
        .first_on::<CodeRow>(conn)
        .optional()?
    else {
        return Ok(CodeState::Unknown);
    };
    if row.consumed_at.is_some() {
        revoke_family(conn, &row.family_id)?;
        return Ok(CodeState::Replayed);
    }
    if row.expires_at <= now_millis() {
        diesel::delete(oauth_codes::table.find(row.id)).execute_on(conn)?;
        return Ok(CodeState::Expired);
    }
    Ok(CodeState::Usable(Box::new(row)))
}

/// Checks the verifier against the code's challenge. A verifier for a code without challenge is
/// ignored (oauth.md §2.2).
pub fn verify_pkce(code: &CodeRow, verifier: Option<&str>) -> Result<(), PkceError> {
    let Some(challenge) = code.code_challenge.as_deref() else {
        return Ok(());
    };
    let Some(verifier) = verifier.filter(|v| !v.is_empty()) else {
        return Err(PkceError::Missing);
    };
    let method = code
        .code_challenge_method
        .as_deref()
        .and_then(PkceMethod::parse)
        .unwrap_or(PkceMethod::Plain);
    let computed = match method {
        PkceMethod::S256 => s256_challenge(verifier),
        PkceMethod::Plain => verifier.to_string(),
    };
    if constant_time_eq(&computed, challenge) {
        Ok(())
    } else {
        Err(PkceError::Mismatch)
    }
}

/// Consumes the code (one conditional update: a concurrent second exchange loses and revokes
/// what the first produced) and issues the first pair of its family.
pub fn redeem_code(
    conn: &mut Conn,
    policy: &Policy,
    code: &CodeRow,
) -> Result<TokenPair, GrantError> {
    conn.transaction(|conn| {
        let consumed = diesel::update(
            oauth_codes::table
                .find(code.id)
                .filter(oauth_codes::consumed_at.is_null()),
        )
        .set(oauth_codes::consumed_at.eq(now_millis()))
        .execute_on(conn)?;
        if consumed == 0 {
            return Err(GrantError::Replayed);
        }
        Ok(insert_pair(
            conn,
            policy,
            code.client_pk,
            &code.subject,
            &code.family_id,
            &code.scope,
            None,
        )?)
    })
    .or_else(|error| match error {
        GrantError::Replayed => {
            revoke_family(conn, &code.family_id)?;
            Err(GrantError::Replayed)
        }
        other => Err(other),
    })
}

fn insert_pair(
    conn: &mut Conn,
    policy: &Policy,
    client_pk: i64,
    subject: &str,
    family_id: &str,
    scope: &str,
    previous_id: Option<i64>,
) -> QueryResult<TokenPair> {
    let access_token = (policy.new_access_token)();
    let refresh_token = (policy.new_refresh_token)();
    let now = now_millis();
    diesel::insert_into(oauth_tokens::table)
        .values((
            oauth_tokens::client_pk.eq(client_pk),
            oauth_tokens::subject.eq(subject),
            oauth_tokens::family_id.eq(family_id),
            oauth_tokens::scope.eq(scope),
            oauth_tokens::access_digest.eq(digest(&access_token)),
            oauth_tokens::refresh_digest.eq(digest(&refresh_token)),
            oauth_tokens::access_expires_at.eq(now + policy.access_ttl_secs * 1000),
            oauth_tokens::previous_id.eq(previous_id),
            oauth_tokens::created_at.eq(now),
        ))
        .execute_on(conn)?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        expires_in: policy.access_ttl_secs,
        scope: scope.to_string(),
        subject: subject.to_string(),
        created_at: now / 1000,
    })
}

/// Looks a presented refresh token up. A revoked one presented again is reuse: its whole family
/// is revoked.
pub fn find_refresh(conn: &mut Conn, refresh_token: &str) -> QueryResult<RefreshState> {
    let Some(row) = oauth_tokens::table
        .filter(oauth_tokens::refresh_digest.eq(digest(refresh_token)))
        .select(TokenRow::columns())
        .first_on::<TokenRow>(conn)
        .optional()?
    else {
        return Ok(RefreshState::Unknown);
    };
    if row.revoked_at.is_some() {
        revoke_family(conn, &row.family_id)?;
        return Ok(RefreshState::Reused);
    }
    Ok(RefreshState::Usable(Box::new(row)))
}

/// Issues the next pair of `row`'s family with `scope` (the caller checked it is within the
/// original). Under [`Rotation::Immediate`] the presented pair is revoked in the same conditional
/// update that claims it; under [`Rotation::GraceUntilSuccessorUsed`] it is retired when the new
/// pair is first used, and using a successor retires its own predecessor.
pub fn rotate(
    conn: &mut Conn,
    policy: &Policy,
    row: &TokenRow,
    scope: &str,
) -> Result<TokenPair, GrantError> {
    let result = conn.transaction(|conn| {
        let now = now_millis();
        match policy.rotation {
            Rotation::Immediate => {
                let claimed = diesel::update(
                    oauth_tokens::table
                        .find(row.id)
                        .filter(oauth_tokens::revoked_at.is_null()),
                )
                .set((
                    oauth_tokens::revoked_at.eq(now),
                    oauth_tokens::rotated_at.eq(now),
                ))
                .execute_on(conn)?;
                if claimed == 0 {
                    return Err(GrantError::Replayed);
                }
                Ok(insert_pair(
                    conn,
                    policy,
                    row.client_pk,
                    &row.subject,
                    &row.family_id,
                    scope,
                    None,
                )?)
            }
            Rotation::GraceUntilSuccessorUsed => {
                // The claim also marks this pair as used, which retires its predecessor.
                let still_valid = diesel::update(
                    oauth_tokens::table
                        .find(row.id)
                        .filter(oauth_tokens::revoked_at.is_null()),
                )
                .set((
                    oauth_tokens::rotated_at.eq(now),
                    oauth_tokens::previous_id.eq(None::<i64>),
                ))
                .execute_on(conn)?;
                if still_valid == 0 {
                    return Err(GrantError::Replayed);
                }
                if let Some(previous) = row.previous_id {
                    revoke_pair(conn, previous, now)?;
                }
                Ok(insert_pair(
                    conn,
                    policy,
                    row.client_pk,
                    &row.subject,
                    &row.family_id,
                    scope,
                    Some(row.id),
                )?)
            }
        }
    });
    match result {
        Err(GrantError::Replayed) => {
            revoke_family(conn, &row.family_id)?;
            Err(GrantError::Replayed)
        }
        other => other,
    }
}

/// The first use of a pair revokes the pair it replaced (grace rotation).
fn retire_predecessor(conn: &mut Conn, row: &TokenRow) -> QueryResult<()> {
    if let Some(previous) = row.previous_id {
        revoke_pair(conn, previous, now_millis())?;
        diesel::update(oauth_tokens::table.find(row.id))
            .set(oauth_tokens::previous_id.eq(None::<i64>))
            .execute_on(conn)?;
    }
    Ok(())
}

/// Revokes the pair `id` unless it is revoked already.
fn revoke_pair(conn: &mut Conn, id: i64, now: i64) -> QueryResult<usize> {
    diesel::update(
        oauth_tokens::table
            .find(id)
            .filter(oauth_tokens::revoked_at.is_null()),
    )
    .set(oauth_tokens::revoked_at.eq(now))
    .execute_on(conn)
}

/// The live, unexpired access token `access_token`, if any. Its first use retires the pair it
/// replaced.
pub fn authenticate_access(conn: &mut Conn, access_token: &str) -> QueryResult<Option<TokenRow>> {
    let now = now_millis();
    let Some(row) = oauth_tokens::table
        .filter(oauth_tokens::access_digest.eq(digest(access_token)))
        .filter(oauth_tokens::revoked_at.is_null())
        .filter(oauth_tokens::access_expires_at.gt(now))
        .select(TokenRow::columns())
        .first_on::<TokenRow>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if row.previous_id.is_some() {
        retire_predecessor(conn, &row)?;
    }
    Ok(Some(row))
}

/// Finds the pair holding `token` as its access or refresh token.
fn find_pair(conn: &mut Conn, token: &str) -> QueryResult<Option<TokenRow>> {
    let token_digest = digest(token);
    oauth_tokens::table
        .filter(
            oauth_tokens::access_digest
                .eq(&token_digest)
                .or(oauth_tokens::refresh_digest.eq(&token_digest)),
        )
        .select(TokenRow::columns())
        .first_on::<TokenRow>(conn)
        .optional()
}

/// Revokes the pair holding `token` (access or refresh: both stop working) if `client_pk` was
/// issued it.
pub fn revoke(conn: &mut Conn, client_pk: i64, token: &str) -> QueryResult<RevokeOutcome> {
    let Some(row) = find_pair(conn, token)? else {
        return Ok(RevokeOutcome::Unknown);
    };
    if row.client_pk != client_pk {
        return Ok(RevokeOutcome::OtherClient);
    }
    revoke_pair(conn, row.id, now_millis())?;
    Ok(RevokeOutcome::Revoked)
}

/// Revokes the whole family of the pair holding `token`, if `client_pk` was issued it.
pub fn revoke_family_of(
    conn: &mut Conn,
    client_pk: i64,
    token: &str,
) -> QueryResult<RevokeOutcome> {
    let Some(row) = find_pair(conn, token)? else {
        return Ok(RevokeOutcome::Unknown);
    };
    if row.client_pk != client_pk {
        return Ok(RevokeOutcome::OtherClient);
    }
    revoke_family(conn, &row.family_id)?;
    Ok(RevokeOutcome::Revoked)
}

/// Revokes every token issued from one authorization.
pub fn revoke_family(conn: &mut Conn, family_id: &str) -> QueryResult<usize> {
    diesel::update(
        oauth_tokens::table
            .filter(oauth_tokens::family_id.eq(family_id))
            .filter(oauth_tokens::revoked_at.is_null()),
    )
    .set(oauth_tokens::revoked_at.eq(now_millis()))
    .execute_on(conn)
}

/// Revokes every token a client holds for one user (e.g. when the user is locked or removed).
pub fn revoke_subject(conn: &mut Conn, client_pk: i64, subject: &str) -> QueryResult<usize> {
    diesel::update(
        oauth_tokens::table
            .filter(oauth_tokens::client_pk.eq(client_pk))
            .filter(oauth_tokens::subject.eq(subject))
            .filter(oauth_tokens::revoked_at.is_null()),
    )
    .set(oauth_tokens::revoked_at.eq(now_millis()))
    .execute_on(conn)
}

/// Whether the user already holds a live pair of this client with exactly `scope` (the consent
/// page may then be skipped). A pair whose access token expired still counts while its refresh
/// token lives.
pub fn has_live_grant(
    conn: &mut Conn,
    client_pk: i64,
    subject: &str,
    scope: &str,
) -> QueryResult<bool> {
    let found: Option<i64> = oauth_tokens::table
        .filter(oauth_tokens::client_pk.eq(client_pk))
        .filter(oauth_tokens::subject.eq(subject))
        .filter(oauth_tokens::scope.eq(scope))
        .filter(oauth_tokens::revoked_at.is_null())
        .select(oauth_tokens::id)
        .first_on(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Introspection (RFC 7662) as the calling client sees it: its own live access tokens only.
pub fn introspect(conn: &mut Conn, client_pk: i64, token: &str) -> QueryResult<Option<TokenRow>> {
    let now = now_millis();
    let row = oauth_tokens::table
        .filter(oauth_tokens::access_digest.eq(digest(token)))
        .filter(oauth_tokens::revoked_at.is_null())
        .filter(oauth_tokens::access_expires_at.gt(now))
        .select(TokenRow::columns())
        .first_on::<TokenRow>(conn)
        .optional()?;
    Ok(row.filter(|r| r.client_pk == client_pk))
}

#[cfg(test)]
mod tests;
