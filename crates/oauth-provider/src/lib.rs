//! The OAuth 2 authorization-server engine both services run (spec/oauth.md §1–§3, §7).
//!
//! What is shared: single-use authorization codes bound to client, user, redirect URI, scope and
//! PKCE challenge; token families with rotation and reuse detection; revocation; bearer lookup.
//! What each service passes in its [`Policy`]: lifetimes, token shapes, the PKCE methods it
//! accepts and how refresh rotation retires the previous pair. Error bodies, check order and
//! client authentication stay in the services, composed from the steps here.
//!
//! Codes and tokens are stored only as SHA-256 digests; every lookup goes to the database, so a
//! revocation is seen at once by every replica. The one exception is a rotated pair's successor,
//! kept sealed (encrypted under the service's key) on the rotated row for the retry window (then
//! forgotten at the successor's first use, or by [`purge`]), so that a retry after a lost
//! response gets the same successor instead of a second chain.
//!
//! Every step that depends on time takes `now` (unix milliseconds), so tests need no clock.

pub mod migrations;
pub mod schema;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use diesel::prelude::*;
use service_kit::db::{Fixed, FixedSql, Param, QueryOnBackend, SelectColumns};
use service_kit::{
    crypto::{
        constant_time_eq, digest, random_alphanumeric, random_hex, random_urlsafe, SecretBox,
        SecretString,
    },
    db::{AnyConnection as Conn, Db, DbError},
    time::now_millis,
};
use sha2::{Digest, Sha256};

use schema::{oauth_codes, oauth_tokens};

/// How refresh rotation retires the pair it replaces. Under both, presenting the replaced
/// refresh token again within [`Policy::retry_window_secs`], while its successor is unused,
/// returns that same successor; any other replay revokes the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The old access token stays usable until the new access or refresh token is first used
    /// (OpenProject, covering a lost response).
    GraceUntilSuccessorUsed,
    /// The old access token stops working at once (Nextcloud).
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
    /// How long after a rotation a replay of the rotated refresh token gets the same successor
    /// (as long as the successor is unused): a retry after a lost response or a crash between
    /// commit and response.
    pub retry_window_secs: i64,
    pub pkce_methods: &'static [PkceMethod],
    /// Generator of the codes handed out, from a CSPRNG.
    pub new_code: fn() -> String,
    /// What the tokens look like on the wire.
    pub access_token: TokenShape,
    pub refresh_token: TokenShape,
}

/// The width of a token's selector in characters: 8 bytes in base64url, or an `i64` in base 62.
const SELECTOR_LEN: usize = 11;

/// What a service's tokens look like. Each is its pair's id (the selector, fixed width) followed
/// by a random verifier from a CSPRNG. A token is found by the selector, the primary key, and
/// checked against the stored digest of its verifier in constant time, so a pair is stored
/// without any index on random values; the selector says nothing but the order of issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenShape {
    /// 43 characters of base64url, like 32 random bytes (OpenProject): the id's 8 bytes
    /// big-endian in 11 characters, then 24 random bytes in 32.
    Base64Url43,
    /// This many characters `[A-Za-z0-9]` (Nextcloud): the id in base 62 in 11 characters, then
    /// random ones.
    Alphanumeric(usize),
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl TokenShape {
    /// A new verifier for a token of this shape.
    fn new_verifier(self) -> String {
        match self {
            Self::Base64Url43 => random_urlsafe(24),
            Self::Alphanumeric(len) => random_alphanumeric(len - SELECTOR_LEN),
        }
    }

    /// The token of pair `id` with `verifier`.
    fn token(self, id: i64, verifier: &str) -> String {
        let selector = match self {
            Self::Base64Url43 => URL_SAFE_NO_PAD.encode(id.to_be_bytes()),
            Self::Alphanumeric(_) => {
                let mut digits = [b'0'; SELECTOR_LEN];
                let mut rest = id.unsigned_abs();
                for digit in digits.iter_mut().rev() {
                    *digit = BASE62[(rest % 62) as usize];
                    rest /= 62;
                }
                String::from_utf8(digits.to_vec()).expect("base 62 digits are ASCII")
            }
        };
        format!("{selector}{verifier}")
    }

    /// The pair id and the verifier of a token of this shape; `None` for anything else.
    fn split(self, token: &str) -> Option<(i64, &str)> {
        let expected_len = match self {
            Self::Base64Url43 => 43,
            Self::Alphanumeric(len) => len,
        };
        if token.len() != expected_len || !token.is_ascii() {
            return None;
        }
        let (selector, verifier) = token.split_at(SELECTOR_LEN);
        let id = match self {
            Self::Base64Url43 => {
                let bytes: [u8; 8] = URL_SAFE_NO_PAD.decode(selector).ok()?.try_into().ok()?;
                i64::from_be_bytes(bytes)
            }
            Self::Alphanumeric(_) => selector.bytes().try_fold(0i64, |id, byte| {
                let digit = BASE62.iter().position(|&d| d == byte)? as i64;
                id.checked_mul(62)?.checked_add(digit)
            })?,
        };
        (id > 0).then_some((id, verifier))
    }
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

/// A freshly issued pair, shown once to the client (again only to a retry within the window).
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: SecretString,
    pub refresh_token: SecretString,
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
    /// A verifier came for a code issued without a challenge: a downgrade, refused.
    Unexpected,
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

/// Whether `challenge` has the shape RFC 7636 gives challenges and verifiers: 43 to 128
/// characters of `[A-Za-z0-9._~-]`.
pub fn is_valid_code_challenge(challenge: &str) -> bool {
    (43..=128).contains(&challenge.len())
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
}

/// Stores a code for what the user approved and returns it (shown once, in the redirect).
pub fn issue_code(
    conn: &mut Conn,
    policy: &Policy,
    authorization: &Authorization<'_>,
    now: i64,
) -> QueryResult<String> {
    let code = (policy.new_code)();
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
            // In order of issue, so that the family index is appended to, not scattered.
            oauth_codes::family_id.eq(format!("{now:013x}{}", random_hex(8))),
            oauth_codes::created_at.eq(now),
            oauth_codes::expires_at.eq(now + policy.code_ttl_secs * 1000),
        ))
        .execute_on(conn)?;
    Ok(code)
}

/// Looks a presented code up. A consumed code is a replay: every token issued from it is
/// revoked. An expired code is deleted.
pub fn find_code(conn: &mut Conn, code: &str, now: i64) -> QueryResult<CodeState> {
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
    if row.expires_at <= now {
        diesel::delete(oauth_codes::table.find(row.id)).execute_on(conn)?;
        return Ok(CodeState::Expired);
    }
    Ok(CodeState::Usable(Box::new(row)))
}

/// Checks the verifier against the code's challenge. A verifier for a code issued without a
/// challenge is refused: it would let a stolen code be redeemed by whoever skipped PKCE at
/// authorization (RFC 9700 §2.1.1, downgrade).
pub fn verify_pkce(code: &CodeRow, verifier: Option<&str>) -> Result<(), PkceError> {
    let verifier = verifier.filter(|v| !v.is_empty());
    let Some(challenge) = code.code_challenge.as_deref() else {
        return match verifier {
            Some(_) => Err(PkceError::Unexpected),
            None => Ok(()),
        };
    };
    let Some(verifier) = verifier else {
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
    now: i64,
) -> Result<TokenPair, GrantError> {
    conn.transaction(|conn| {
        let consumed = diesel::update(
            oauth_codes::table
                .find(code.id)
                .filter(oauth_codes::consumed_at.is_null()),
        )
        .set(oauth_codes::consumed_at.eq(now))
        .execute_on(conn)?;
        if consumed == 0 {
            return Err(GrantError::Replayed);
        }
        Ok(insert_pair(
            conn,
            policy,
            NewPair {
                client_pk: code.client_pk,
                subject: &code.subject,
                family_id: &code.family_id,
                scope: &code.scope,
                previous_id: None,
            },
            now,
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

/// The pair to insert: whose, from which authorization, replacing which pair.
struct NewPair<'a> {
    client_pk: i64,
    subject: &'a str,
    family_id: &'a str,
    scope: &'a str,
    previous_id: Option<i64>,
}

fn insert_pair(
    conn: &mut Conn,
    policy: &Policy,
    new: NewPair<'_>,
    now: i64,
) -> QueryResult<TokenPair> {
    let NewPair {
        client_pk,
        subject,
        family_id,
        scope,
        previous_id,
    } = new;
    let access_verifier = policy.access_token.new_verifier();
    let refresh_verifier = policy.refresh_token.new_verifier();
    let id: i64 = diesel::insert_into(oauth_tokens::table)
        .values((
            oauth_tokens::client_pk.eq(client_pk),
            oauth_tokens::subject.eq(subject),
            oauth_tokens::family_id.eq(family_id),
            oauth_tokens::scope.eq(scope),
            oauth_tokens::access_digest.eq(digest(&access_verifier)),
            oauth_tokens::refresh_digest.eq(digest(&refresh_verifier)),
            oauth_tokens::access_expires_at.eq(now + policy.access_ttl_secs * 1000),
            oauth_tokens::previous_id.eq(previous_id),
            oauth_tokens::created_at.eq(now),
        ))
        .returning(oauth_tokens::id)
        .get_result_on(conn)?;
    Ok(TokenPair {
        access_token: SecretString::new(policy.access_token.token(id, &access_verifier)),
        refresh_token: SecretString::new(policy.refresh_token.token(id, &refresh_verifier)),
        expires_in: policy.access_ttl_secs,
        scope: scope.to_string(),
        subject: subject.to_string(),
        created_at: now / 1000,
    })
}

/// Looks a presented refresh token up. A revoked one presented again is reuse: its whole family
/// is revoked, unless it was revoked by its own rotation moments ago and its successor is
/// still unused (then [`rotate`] hands out that successor again).
pub fn find_refresh(
    conn: &mut Conn,
    policy: &Policy,
    refresh_token: &str,
    now: i64,
) -> QueryResult<RefreshState> {
    let Some(row) = pair_holding(conn, policy, Held::Refresh, refresh_token)? else {
        return Ok(RefreshState::Unknown);
    };
    if row.revoked_at.is_some() && !retry_pending(conn, row.id, now)? {
        revoke_family(conn, &row.family_id)?;
        return Ok(RefreshState::Reused);
    }
    Ok(RefreshState::Usable(Box::new(row)))
}

/// Whether pair `id` holds an unexpired sealed successor (which means: still unused).
fn retry_pending(conn: &mut Conn, id: i64, now: i64) -> QueryResult<bool> {
    let found: Option<i64> = oauth_tokens::table
        .find(id)
        .filter(oauth_tokens::successor_sealed.is_not_null())
        .filter(oauth_tokens::retry_until.gt(now))
        .select(oauth_tokens::id)
        .first_on(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Issues the next pair of `row`'s family with `scope` (the caller checked it is within the
/// original), or hands out the same successor again.
///
/// A pair is rotated once: the conditional update that claims it also marks it rotated, so two
/// racing refreshes cannot both issue. The successor is kept sealed on the rotated row until
/// `retry_window_secs` pass or the successor is first used; a refresh with the rotated token in
/// that time gets that successor again (a retry after a lost response, or a replay: either
/// way there is one live chain). Any other replay revokes the family. Under
/// [`Rotation::Immediate`] the rotated pair's access token dies at once; under
/// [`Rotation::GraceUntilSuccessorUsed`] when the successor is first used. Using a pair retires
/// its own predecessor.
pub fn rotate(
    conn: &mut Conn,
    policy: &Policy,
    secret_box: &SecretBox,
    row: &TokenRow,
    scope: &str,
    now: i64,
) -> Result<TokenPair, GrantError> {
    // The successor is inserted first, so that claiming the rotated pair and keeping the sealed
    // successor on it are one statement; a claim lost to a replay undoes the insert.
    let issued = conn.transaction(|conn| {
        let pair = insert_pair(
            conn,
            policy,
            NewPair {
                client_pk: row.client_pk,
                subject: &row.subject,
                family_id: &row.family_id,
                scope,
                previous_id: Some(row.id),
            },
            now,
        )?;
        let sealed = secret_box.seal(&format!(
            "{} {}",
            pair.access_token.expose(),
            pair.refresh_token.expose()
        ));
        let revoked_at = match policy.rotation {
            Rotation::Immediate => Some(now),
            Rotation::GraceUntilSuccessorUsed => None,
        };
        let claimed = Fixed::<ClaimForRotation>::new(vec![
            Param::BigInt(Some(now)),
            Param::Text(Some(&sealed)),
            Param::BigInt(Some(now + policy.retry_window_secs * 1000)),
            Param::BigInt(revoked_at),
            Param::BigInt(Some(row.id)),
        ])
        .execute_on(conn)?;
        if claimed == 0 {
            return Err(GrantError::Replayed);
        }
        if let Some(previous) = row.previous_id {
            revoke_pair(conn, previous, now)?;
        }
        Ok(pair)
    });
    match issued {
        Err(GrantError::Replayed) => match same_successor(conn, policy, secret_box, row.id, now)? {
            Some(pair) => Ok(pair),
            None => {
                revoke_family(conn, &row.family_id)?;
                Err(GrantError::Replayed)
            }
        },
        other => other,
    }
}

/// Claims pair `id` for its one rotation, unless it was rotated or revoked before: rotated now,
/// its predecessor forgotten (retired in the same transaction), its successor kept sealed until
/// the retry window closes, and (under [`Rotation::Immediate`]) revoked. Parameters: now, the
/// sealed successor, the end of the window, the revocation time or NULL, the id.
struct ClaimForRotation;

impl FixedSql for ClaimForRotation {
    const PIECES: &'static [&'static str] = &[
        "UPDATE oauth_tokens SET rotated_at = ",
        ", previous_id = NULL, successor_sealed = ",
        ", retry_until = ",
        ", revoked_at = ",
        " WHERE id = ",
        " AND rotated_at IS NULL AND revoked_at IS NULL",
    ];
}

/// The successor sealed on pair `id`, if it is within its window and still live and unused.
fn same_successor(
    conn: &mut Conn,
    policy: &Policy,
    secret_box: &SecretBox,
    id: i64,
    now: i64,
) -> QueryResult<Option<TokenPair>> {
    let sealed: Option<Option<String>> = oauth_tokens::table
        .find(id)
        .filter(oauth_tokens::retry_until.gt(now))
        .select(oauth_tokens::successor_sealed)
        .first_on(conn)
        .optional()?;
    let Some(sealed) = sealed.flatten() else {
        return Ok(None);
    };
    let Ok(opened) = secret_box.open(&sealed) else {
        tracing::warn!(
            "a rotated token's sealed successor cannot be decrypted (was the secret key changed?); treated as reuse"
        );
        return Ok(None);
    };
    let opened = SecretString::new(opened);
    let Some((access_token, refresh_token)) = opened.expose().split_once(' ') else {
        return Ok(None);
    };
    let successor = pair_holding(conn, policy, Held::Access, access_token)?
        .filter(|successor| successor.previous_id == Some(id) && successor.revoked_at.is_none());
    Ok(successor.map(|successor| TokenPair {
        access_token: SecretString::new(access_token),
        refresh_token: SecretString::new(refresh_token),
        expires_in: successor.expires_in_secs(now),
        scope: successor.scope,
        subject: successor.subject,
        created_at: successor.created_at / 1000,
    }))
}

/// How long dead codes and tokens are kept: a replayed retired refresh token or consumed code is
/// recognised (and revokes its family) for this long, then it is merely unknown.
pub const RETENTION_MILLIS: i64 = 7 * 24 * 3600 * 1000;

/// What [`purge`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub codes: usize,
    pub tokens: usize,
    /// Sealed successors forgotten after their retry window.
    pub sealed_successors: usize,
}

/// Deletes codes expired, and tokens revoked, rotated away or (access-only) expired, more than
/// [`RETENTION_MILLIS`] before `now`. A live refresh token is never deleted, however old. Forgets
/// the sealed successors whose retry window has passed (no grant does: a grant is one insert and
/// two updates by primary key). Idempotent, so every replica may run it.
pub fn purge(conn: &mut Conn, now: i64) -> QueryResult<Purged> {
    let sealed_successors = drop_expired_successors(conn, now)?;
    let cutoff = now - RETENTION_MILLIS;
    let codes = diesel::delete(oauth_codes::table.filter(oauth_codes::expires_at.lt(cutoff)))
        .execute_on(conn)?;
    let tokens = diesel::delete(
        oauth_tokens::table.filter(
            oauth_tokens::revoked_at
                .lt(cutoff)
                .or(oauth_tokens::rotated_at.lt(cutoff).and(
                    oauth_tokens::retry_until
                        .is_null()
                        .or(oauth_tokens::retry_until.lt(now)),
                ))
                .or(oauth_tokens::refresh_digest
                    .is_null()
                    .and(oauth_tokens::access_expires_at.lt(cutoff))),
        ),
    )
    .execute_on(conn)?;
    Ok(Purged {
        codes,
        tokens,
        sealed_successors,
    })
}

/// Forgets every sealed successor whose retry window has passed. (A rotated pair's
/// `retry_until` is set exactly while it holds one: its index holds those pairs only.)
fn drop_expired_successors(conn: &mut Conn, now: i64) -> QueryResult<usize> {
    diesel::update(
        oauth_tokens::table
            .filter(oauth_tokens::retry_until.le(now))
            .filter(oauth_tokens::successor_sealed.is_not_null()),
    )
    .set((
        oauth_tokens::successor_sealed.eq(None::<String>),
        oauth_tokens::retry_until.eq(None::<i64>),
    ))
    .execute_on(conn)
}

/// The first use of a pair's access token retires the pair it replaced: revoked, its sealed
/// copy of this pair dropped, so the retry window closes. (Its refresh token does the same in
/// [`rotate`].) Nothing to do when the row has no `previous_id`.
fn retire_predecessor(conn: &mut Conn, row: &TokenRow, now: i64) -> QueryResult<()> {
    let Some(previous) = row.previous_id else {
        return Ok(());
    };
    revoke_pair(conn, previous, now)?;
    Fixed::<ForgetPredecessor>::new(vec![Param::BigInt(Some(row.id))]).execute_on(conn)?;
    Ok(())
}

/// Parameter: the id.
struct ForgetPredecessor;

impl FixedSql for ForgetPredecessor {
    const PIECES: &'static [&'static str] =
        &["UPDATE oauth_tokens SET previous_id = NULL WHERE id = ", ""];
}

/// Revokes the pair `id` unless it is revoked already, and forgets any successor sealed on it.
fn revoke_pair(conn: &mut Conn, id: i64, now: i64) -> QueryResult<()> {
    Fixed::<RevokePair>::new(vec![Param::BigInt(Some(now)), Param::BigInt(Some(id))])
        .execute_on(conn)?;
    Ok(())
}

/// Parameters: now, the id.
struct RevokePair;

impl FixedSql for RevokePair {
    const PIECES: &'static [&'static str] = &[
        "UPDATE oauth_tokens SET successor_sealed = NULL, retry_until = NULL, \
         revoked_at = COALESCE(revoked_at, ",
        ") WHERE id = ",
        "",
    ];
}

/// The live, unexpired access token `access_token`, if any. Its first use retires the pair it
/// replaced.
pub fn authenticate_access(
    conn: &mut Conn,
    policy: &Policy,
    access_token: &str,
    now: i64,
) -> QueryResult<Option<TokenRow>> {
    let Some(row) = find_access(conn, policy, access_token, now)? else {
        return Ok(None);
    };
    retire_predecessor(conn, &row, now)?;
    Ok(Some(row))
}

/// A Bearer request's access token, looked up on every request so that a revocation is seen at
/// once by every replica: one short read ([`Db::read`]) finds the live token and, in the same
/// snapshot, what `holder` says it authenticates (the service's user); a write follows only at
/// the token's first use, which retires the pair it replaced.
pub async fn authenticate_bearer<T, E, F>(
    db: &Db,
    policy: &'static Policy,
    access_token: SecretString,
    holder: F,
) -> Result<Option<T>, E>
where
    F: FnOnce(&mut Conn, &TokenRow) -> Result<Option<T>, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + From<diesel::result::Error> + Send + 'static,
{
    let found = db
        .read(move |conn| {
            let Some(row) = find_access(conn, policy, access_token.expose(), now_millis())? else {
                return Ok::<_, E>(None);
            };
            Ok(holder(conn, &row)?.map(|held| (row, held)))
        })
        .await?;
    let Some((row, held)) = found else {
        return Ok(None);
    };
    if row.previous_id.is_some() {
        db.write(move |conn| Ok::<_, E>(retire_predecessor(conn, &row, now_millis())?))
            .await?;
    }
    Ok(Some(held))
}

/// [`authenticate_access`] without its write: the live, unexpired access token, found by its
/// selector in one point query. A caller that reads here must call [`retire_predecessor`] when
/// the row has a `previous_id` (the pair's first use).
fn find_access(
    conn: &mut Conn,
    policy: &Policy,
    access_token: &str,
    now: i64,
) -> QueryResult<Option<TokenRow>> {
    Ok(pair_holding(conn, policy, Held::Access, access_token)?
        .filter(|row| row.revoked_at.is_none() && row.access_expires_at > now))
}

/// Which token of its pair a presented token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Access,
    Refresh,
}

/// The pair holding `token` as its `held` token: found by the selector and checked against the
/// verifier's digest in constant time; or, for a pair issued before tokens had selectors, found
/// by the whole token's digest (in an index of those pairs only).
fn pair_holding(
    conn: &mut Conn,
    policy: &Policy,
    held: Held,
    token: &str,
) -> QueryResult<Option<TokenRow>> {
    let shape = match held {
        Held::Access => policy.access_token,
        Held::Refresh => policy.refresh_token,
    };
    if let Some((id, verifier)) = shape.split(token) {
        let row = oauth_tokens::table
            .find(id)
            .filter(diesel::dsl::not(oauth_tokens::legacy))
            .select(TokenRow::columns())
            .first_on::<TokenRow>(conn)
            .optional()?;
        if let Some(row) = row {
            let stored = match held {
                Held::Access => Some(&row.access_digest),
                Held::Refresh => row.refresh_digest.as_ref(),
            };
            if stored.is_some_and(|stored| constant_time_eq(stored, &digest(verifier))) {
                return Ok(Some(row));
            }
            return Ok(None);
        }
    }
    // `WHERE legacy` literally, so that the partial indexes serve it.
    let legacy = oauth_tokens::table
        .filter(oauth_tokens::legacy)
        .select(TokenRow::columns());
    let token_digest = digest(token);
    match held {
        Held::Access => legacy
            .filter(oauth_tokens::access_digest.eq(token_digest))
            .first_on::<TokenRow>(conn),
        Held::Refresh => legacy
            .filter(oauth_tokens::refresh_digest.eq(token_digest))
            .first_on::<TokenRow>(conn),
    }
    .optional()
}

/// Finds the pair holding `token` as its access or refresh token.
fn find_pair(conn: &mut Conn, policy: &Policy, token: &str) -> QueryResult<Option<TokenRow>> {
    match pair_holding(conn, policy, Held::Access, token)? {
        Some(row) => Ok(Some(row)),
        None => pair_holding(conn, policy, Held::Refresh, token),
    }
}

/// Revokes the pair holding `token` (access or refresh: both stop working) if `client_pk` was
/// issued it.
pub fn revoke(
    conn: &mut Conn,
    policy: &Policy,
    client_pk: i64,
    token: &str,
) -> QueryResult<RevokeOutcome> {
    let Some(row) = find_pair(conn, policy, token)? else {
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
    policy: &Policy,
    client_pk: i64,
    token: &str,
) -> QueryResult<RevokeOutcome> {
    let Some(row) = find_pair(conn, policy, token)? else {
        return Ok(RevokeOutcome::Unknown);
    };
    if row.client_pk != client_pk {
        return Ok(RevokeOutcome::OtherClient);
    }
    revoke_family(conn, &row.family_id)?;
    Ok(RevokeOutcome::Revoked)
}

/// Revokes every token issued from one authorization, and forgets every successor sealed in it.
pub fn revoke_family(conn: &mut Conn, family_id: &str) -> QueryResult<usize> {
    diesel::update(
        oauth_tokens::table
            .filter(oauth_tokens::family_id.eq(family_id))
            .filter(oauth_tokens::successor_sealed.is_not_null()),
    )
    .set((
        oauth_tokens::successor_sealed.eq(None::<String>),
        oauth_tokens::retry_until.eq(None::<i64>),
    ))
    .execute_on(conn)?;
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
pub fn introspect(
    conn: &mut Conn,
    policy: &Policy,
    client_pk: i64,
    token: &str,
    now: i64,
) -> QueryResult<Option<TokenRow>> {
    let row = pair_holding(conn, policy, Held::Access, token)?;
    Ok(row.filter(|r| {
        r.client_pk == client_pk && r.revoked_at.is_none() && r.access_expires_at > now
    }))
}

#[cfg(test)]
mod tests;
