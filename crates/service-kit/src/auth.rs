//! Authentication plumbing shared by both services: parsing `Authorization` headers, the cache of
//! recently verified passwords, session cookies, request field limits and the throttle policy.

use std::time::{Duration, Instant};

use base64::{engine::general_purpose::STANDARD, Engine};
use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

use crate::crypto::{constant_time_eq, SecretString};

/// What an `Authorization` header carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic {
        username: String,
        password: SecretString,
    },
    Bearer(SecretString),
}

/// Why a present `Authorization` header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedAuthorization;

/// Parses `Basic <base64(user:password)>` or `Bearer <token>`; `Ok(None)` for other schemes.
pub fn parse_authorization(header: &str) -> Result<Option<Credentials>, MalformedAuthorization> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest).map_err(|_| MalformedAuthorization)?;
        let decoded = String::from_utf8(decoded).map_err(|_| MalformedAuthorization)?;
        let (username, password) = decoded.split_once(':').ok_or(MalformedAuthorization)?;
        // No account or password holds a NUL, and no database may be asked for one.
        if decoded.contains('\0') {
            return Err(MalformedAuthorization);
        }
        return Ok(Some(Credentials::Basic {
            username: username.to_string(),
            password: SecretString::new(password),
        }));
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        if rest.is_empty() {
            return Err(MalformedAuthorization);
        }
        return Ok(Some(Credentials::Bearer(SecretString::new(rest))));
    }
    Ok(None)
}

/// Remembers, for a short while, that a login/password pair matched a given password hash, so
/// HTTP Basic requests do not pay an argon2 verification each time.
///
/// Keys are SHA-256 digests of the pair (the cache never holds a password). An entry is only
/// honoured while the user's stored hash is still the one it was verified against, so a password
/// change (on any replica) invalidates it at once.
pub struct CredentialCache {
    entries: Cache<[u8; 32], (String, Instant)>,
    ttl: Duration,
}

impl CredentialCache {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            entries: Cache::new(capacity),
            ttl,
        }
    }

    fn key(username: &str, password: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(username.as_bytes());
        hasher.update([0]);
        hasher.update(password.as_bytes());
        hasher.finalize().into()
    }

    /// True when this pair was verified against `current_hash` less than `ttl` ago.
    pub fn is_verified(&self, username: &str, password: &str, current_hash: &str) -> bool {
        let key = Self::key(username, password);
        match self.entries.get(&key) {
            Some((hash, at)) if at.elapsed() < self.ttl => constant_time_eq(&hash, current_hash),
            Some(_) => {
                self.entries.remove(&key);
                false
            }
            None => false,
        }
    }

    pub fn remember(&self, username: &str, password: &str, verified_hash: &str) {
        self.entries.insert(
            Self::key(username, password),
            (verified_hash.to_string(), Instant::now()),
        );
    }
}

impl Default for CredentialCache {
    fn default() -> Self {
        Self::new(10_000, Duration::from_secs(60))
    }
}

/// Longest request fields the logins and OAuth endpoints look at. Anything longer is refused
/// before it reaches the database (or the throttle); real values are far shorter.
pub mod limits {
    /// A login name (OpenProject's rule: at most 255 characters).
    pub const MAX_LOGIN_CHARS: usize = 255;
    /// An OAuth client id (both sides issue 43 or 64 characters; storages accept up to 255).
    pub const MAX_CLIENT_ID_CHARS: usize = 255;
    /// Any other OAuth parameter: secrets, codes, tokens, verifiers, redirect URIs, scopes.
    pub const MAX_OAUTH_FIELD_BYTES: usize = 2048;

    /// Whether `value` has at most `max` characters (counted cheaply: bytes first).
    pub fn fits_chars(value: &str, max: usize) -> bool {
        value.len() <= max || value.chars().count() <= max
    }

    /// Whether an OAuth request's client id and other fields are all within the limits.
    pub fn oauth_fields_fit<'a>(
        client_id: Option<&str>,
        others: impl IntoIterator<Item = Option<&'a str>>,
    ) -> bool {
        client_id.is_none_or(|id| fits_chars(id, MAX_CLIENT_ID_CHARS))
            && others
                .into_iter()
                .flatten()
                .all(|value| value.len() <= MAX_OAUTH_FIELD_BYTES)
    }
}

/// How failures are throttled (see [`crate::throttle`] for what is counted under which key):
/// the first few are free, then each costs a growing delay, and past the limit the attempt is
/// refused (429) until the window passes.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub free_failures: i64,
    pub max_failures: i64,
    pub window_millis: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            free_failures: 5,
            max_failures: 30,
            window_millis: 10 * 60 * 1000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleDecision {
    Allow,
    Delay(Duration),
    Refuse,
}

impl ThrottlePolicy {
    /// What to do with an attempt under a key that failed `failures` times within the window.
    pub fn decide(&self, failures: i64) -> ThrottleDecision {
        if failures >= self.max_failures {
            ThrottleDecision::Refuse
        } else if failures > self.free_failures {
            let steps = (failures - self.free_failures).min(10) as u32;
            ThrottleDecision::Delay(
                Duration::from_millis(100 * u64::from(steps).pow(2)).min(Duration::from_secs(5)),
            )
        } else {
            ThrottleDecision::Allow
        }
    }
}

/// A browser session about to be stored: the cookie carries 32 random bytes (43 url-safe
/// characters), the database keeps only their digest.
pub struct NewSession {
    pub cookie_value: String,
    pub id_digest: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl NewSession {
    pub fn starting(now: i64, lifetime_millis: i64) -> Self {
        let cookie_value = crate::crypto::random_urlsafe(32);
        Self {
            id_digest: crate::crypto::digest(&cookie_value),
            cookie_value,
            created_at: now,
            expires_at: now + lifetime_millis,
        }
    }
}

/// A session cookie: HttpOnly, SameSite=Lax, Secure when the public URL is https.
pub fn session_cookie(
    name: &str,
    value: String,
    secure: bool,
) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::build(name.to_string(), value)
        .path("/")
        .http_only(true)
        .same_site(actix_web::cookie::SameSite::Lax)
        .secure(secure)
        .finish()
}

/// The cookie that removes `name`.
pub fn removal_cookie(name: &str, secure: bool) -> actix_web::cookie::Cookie<'static> {
    let mut cookie = session_cookie(name, String::new(), secure);
    cookie.make_removal();
    cookie
}

/// True when `target` is a same-origin path (`/…` but not `//…` or `/\…`), the only redirect
/// targets login pages accept.
pub fn is_local_path(target: &str) -> bool {
    target.starts_with('/')
        && !target.starts_with("//")
        && !target.starts_with("/\\")
        && !target.chars().any(|c| c.is_control())
}

/// Reduces a same-origin absolute URL or a local path to the local path, or `None`.
pub fn same_origin_path(target: &str, public_url: &str) -> Option<String> {
    if is_local_path(target) {
        return Some(target.to_string());
    }
    let target_url = url::Url::parse(target).ok()?;
    let base = url::Url::parse(public_url).ok()?;
    if target_url.origin() != base.origin() {
        return None;
    }
    let mut path = target_url.path().to_string();
    if let Some(query) = target_url.query() {
        path.push('?');
        path.push_str(query);
    }
    is_local_path(&path).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_and_bearer() {
        let header = format!("Basic {}", STANDARD.encode("admin:pa:ss"));
        assert_eq!(
            parse_authorization(&header).unwrap(),
            Some(Credentials::Basic {
                username: "admin".into(),
                password: SecretString::new("pa:ss")
            })
        );
        assert_eq!(
            parse_authorization("Bearer abc").unwrap(),
            Some(Credentials::Bearer(SecretString::new("abc")))
        );
        assert_eq!(parse_authorization("Digest x").unwrap(), None);
        assert!(parse_authorization("Basic !!!").is_err());
        assert!(parse_authorization(&format!("Basic {}", STANDARD.encode("ad\0min:pw"))).is_err());
        assert!(parse_authorization(&format!("Basic {}", STANDARD.encode("nocolon"))).is_err());
        assert!(parse_authorization("Bearer").is_err());
    }

    #[test]
    fn cache_honours_only_the_current_hash() {
        let cache = CredentialCache::default();
        assert!(!cache.is_verified("u", "p", "hash1"));
        cache.remember("u", "p", "hash1");
        assert!(cache.is_verified("u", "p", "hash1"));
        assert!(!cache.is_verified("u", "p", "hash2"), "password changed");
        assert!(!cache.is_verified("u", "other", "hash1"));
        let short = CredentialCache::new(10, Duration::ZERO);
        short.remember("u", "p", "h");
        assert!(!short.is_verified("u", "p", "h"), "expired");
    }

    #[test]
    fn throttle_grows_then_refuses() {
        let policy = ThrottlePolicy::default();
        assert_eq!(policy.decide(0), ThrottleDecision::Allow);
        assert_eq!(policy.decide(5), ThrottleDecision::Allow);
        assert!(matches!(policy.decide(6), ThrottleDecision::Delay(_)));
        assert_eq!(policy.decide(30), ThrottleDecision::Refuse);
    }

    #[test]
    fn field_limits() {
        assert!(limits::fits_chars(&"é".repeat(255), 255));
        assert!(!limits::fits_chars(&"a".repeat(256), 255));
        assert!(limits::oauth_fields_fit(Some("id"), [None, Some("x")]));
        assert!(!limits::oauth_fields_fit(Some(&"i".repeat(256)), []));
        assert!(!limits::oauth_fields_fit(
            None,
            [Some("x".repeat(2049).as_str())]
        ));
    }

    #[test]
    fn only_same_origin_redirects() {
        assert_eq!(
            same_origin_path("/a?b=1", "http://h:1").as_deref(),
            Some("/a?b=1")
        );
        assert_eq!(
            same_origin_path("http://h:1/x?y", "http://h:1").as_deref(),
            Some("/x?y")
        );
        assert_eq!(same_origin_path("http://evil/x", "http://h:1"), None);
        assert_eq!(same_origin_path("//evil/x", "http://h:1"), None);
        assert_eq!(same_origin_path("/\\evil", "http://h:1"), None);
    }
}
