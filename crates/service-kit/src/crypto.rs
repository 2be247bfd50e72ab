//! Secrets at rest and in flight.
//!
//! - secrets this service issues (client secrets, tokens, app passwords, session ids) are random
//!   and stored only as SHA-256 digests, compared in constant time;
//! - secrets it must use later (the peer's client secret, user tokens) are sealed with an AEAD
//!   (XChaCha20-Poly1305) under a key derived from the service's secret key;
//! - human passwords are hashed with argon2id.

use std::fmt;

use argon2::{
    password_hash::{
        rand_core::OsRng as PhOsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
    },
    Argon2,
};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use chacha20poly1305::{
    aead::{Aead, KeyInit},
    XChaCha20Poly1305, XNonce,
};
use hmac::{Hmac, Mac};
use rand::{distributions::Alphanumeric, rngs::OsRng, thread_rng, Rng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The one type for a secret held in memory (a password, client secret, token, code or PKCE
/// verifier): its `Debug` never shows the content, and reading it takes an explicit `expose()`.
/// Structs that hold secrets keep them in this type, so deriving `Debug` on them is safe.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// The plaintext, for the one place that hands it out (a response body).
    pub fn into_exposed(self) -> String {
        self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> serde::Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

/// The service's 32-byte master key (`OPS_SECRET_KEY` / `NCOA_SECRET_KEY`).
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Standard base64 of exactly 32 bytes (`openssl rand -base64 32`).
    pub fn from_base64(raw: &str) -> Result<Self, String> {
        let bytes = STANDARD.decode(raw.trim()).map_err(|_| {
            "expected 32 random bytes in base64 (openssl rand -base64 32)".to_string()
        })?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "expected exactly 32 bytes once base64-decoded".to_string())?;
        Ok(Self(bytes))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// An independent key for one purpose, so one master key can encrypt, sign and MAC.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"service-kit key derivation\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn secret_box(&self) -> SecretBox {
        SecretBox::new(self.derive("secret-box"))
    }
}

/// Authenticated encryption for secrets that must be read back, and keyed digests (HMAC) of
/// secrets that only need verifying.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    mac_key: [u8; 32],
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

/// What every [`SecretBox::keyed_digest`] starts with.
pub const KEYED_DIGEST_PREFIX: &str = "hmac-sha256:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a sealed value could not be opened (wrong secret key or corrupted data)")]
pub struct OpenError;

impl SecretBox {
    pub fn new(key: [u8; 32]) -> Self {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length");
        mac.update(b"secret-box keyed digest");
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
            mac_key: mac.finalize().into_bytes().into(),
        }
    }

    /// `hmac-sha256:` + lowercase hex HMAC-SHA256 of `value` under a key derived from the
    /// service's secret key: how an issued secret is stored when a stolen database alone must
    /// not allow checking guesses against it.
    pub fn keyed_digest(&self, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key)
            .expect("HMAC takes any key length");
        mac.update(value.as_bytes());
        format!(
            "{KEYED_DIGEST_PREFIX}{}",
            lower_hex(&mac.finalize().into_bytes())
        )
    }

    /// Whether `value` is the secret `stored` (a [`Self::keyed_digest`]) was made of; constant
    /// time.
    pub fn verify_keyed_digest(&self, value: &str, stored: &str) -> bool {
        stored.starts_with(KEYED_DIGEST_PREFIX)
            && constant_time_eq(&self.keyed_digest(value), stored)
    }

    /// `v1.` + base64url(nonce ‖ ciphertext).
    pub fn seal(&self, plaintext: &str) -> String {
        let nonce: [u8; 24] = random_bytes();
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("encryption with a valid key cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        format!("v1.{}", URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<String, OpenError> {
        let raw = sealed.strip_prefix("v1.").ok_or(OpenError)?;
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| OpenError)?;
        if bytes.len() < 24 {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| OpenError)?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }
}

// Random values come from `rand`'s thread-local CSPRNG (ChaCha12, seeded from the OS and
// reseeded from it every 64 KiB of output): the OS source directly was a system call per value,
// four per token grant.

/// `len` characters of `[A-Za-z0-9]`.
pub fn random_alphanumeric(len: usize) -> String {
    thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// `N` random bytes.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    thread_rng().fill_bytes(&mut bytes);
    bytes
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    thread_rng().fill_bytes(&mut buf);
    lower_hex(&buf)
}

/// Bytes as lowercase hex.
pub fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(2 * bytes.len());
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)]);
        out.push(DIGITS[usize::from(byte & 0x0f)]);
    }
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// `bytes` random bytes as base64url without padding (32 bytes → 43 characters).
pub fn random_urlsafe(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Lowercase hex SHA-256 of `value`: how issued secrets are stored.
pub fn digest(value: &str) -> String {
    lower_hex(&Sha256::digest(value.as_bytes()))
}

/// Constant-time equality of two strings (length is not hidden).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// argon2id with the crate's default (OWASP) parameters. Costs tens of milliseconds: call it
/// from a blocking thread, and only for human passwords.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut PhOsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any input")
        .to_string()
}

pub fn verify_password(password: &str, phc_hash: &str) -> bool {
    PasswordHash::new(phc_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Signed, expiring CSRF tokens bound to one session (HS256 JWTs), so no replica needs to store
/// them: the token names a digest of the session id and is checked against the caller's session.
#[derive(Clone)]
pub struct CsrfSigner {
    encoding: jsonwebtoken::EncodingKey,
    decoding: jsonwebtoken::DecodingKey,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CsrfClaims {
    sid: String,
    exp: i64,
}

impl CsrfSigner {
    pub fn new(key: &SecretKey) -> Self {
        let secret = key.derive("csrf");
        Self {
            encoding: jsonwebtoken::EncodingKey::from_secret(&secret),
            decoding: jsonwebtoken::DecodingKey::from_secret(&secret),
        }
    }

    /// A token for `session_id`, valid until `expires_at` (unix seconds).
    pub fn issue(&self, session_id: &str, expires_at: i64) -> String {
        let claims = CsrfClaims {
            sid: digest(session_id),
            exp: expires_at,
        };
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    pub fn verify(&self, token: &str, session_id: &str) -> bool {
        let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        jsonwebtoken::decode::<CsrfClaims>(token, &self.decoding, &validation)
            .map(|data| constant_time_eq(&data.claims.sid, &digest(session_id)))
            .unwrap_or(false)
    }
}

impl fmt::Debug for CsrfSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfSigner(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key() {
        let key = SecretKey::generate();
        let sealed = key.secret_box().seal("client-secret");
        assert_ne!(sealed, "client-secret");
        assert_eq!(key.secret_box().open(&sealed).unwrap(), "client-secret");
        assert_eq!(
            SecretKey::generate().secret_box().open(&sealed),
            Err(OpenError)
        );
        assert_eq!(key.secret_box().open("v1.garbage"), Err(OpenError));
    }

    #[test]
    fn secret_key_round_trips_and_rejects_wrong_lengths() {
        let key = SecretKey::generate();
        assert_eq!(SecretKey::from_base64(&key.to_base64()).unwrap().0, key.0);
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
        assert!(SecretKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn digests_are_lowercase_hex_sha256() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(random_hex(16).len(), 32);
    }

    #[test]
    fn random_strings_have_their_alphabets() {
        let s = random_alphanumeric(64);
        assert_eq!(s.len(), 64);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(s, random_alphanumeric(64), "each value is seeded anew");
        assert_eq!(random_urlsafe(32).len(), 43);
        assert_eq!(random_hex(32).len(), 64);
    }

    #[test]
    fn passwords_verify() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_session() {
        let signer = CsrfSigner::new(&SecretKey::generate());
        let token = signer.issue("session-a", chrono::Utc::now().timestamp() + 60);
        assert!(signer.verify(&token, "session-a"));
        assert!(!signer.verify(&token, "session-b"));
        let expired = signer.issue("session-a", chrono::Utc::now().timestamp() - 3600);
        assert!(!signer.verify(&expired, "session-a"));
    }

    #[test]
    fn debug_hides_secrets() {
        assert_eq!(
            format!("{:?}", SecretString::new("pw")),
            "SecretString(***)"
        );
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Form {
            client_secret: Option<SecretString>,
        }
        let form: Form = serde_json::from_str(r#"{"client_secret": "hunter2"}"#).unwrap();
        assert_eq!(form.client_secret.as_ref().unwrap().expose(), "hunter2");
        assert!(!format!("{form:?}").contains("hunter2"));
    }

    #[test]
    fn keyed_digests_depend_on_the_key() {
        let key = SecretKey::generate();
        let stored = key.secret_box().keyed_digest("client-secret");
        assert!(stored.starts_with("hmac-sha256:"));
        assert_eq!(stored.len(), "hmac-sha256:".len() + 64);
        assert!(!stored.contains(&digest("client-secret")));
        assert!(key
            .secret_box()
            .verify_keyed_digest("client-secret", &stored));
        assert!(!key.secret_box().verify_keyed_digest("other", &stored));
        assert!(!SecretKey::generate()
            .secret_box()
            .verify_keyed_digest("client-secret", &stored));
        assert!(!key
            .secret_box()
            .verify_keyed_digest("client-secret", &digest("client-secret")));
    }
}
