//! Pairing by one code, and the signed messages the paired services send each other (Extension,
//! issue 20; neither real product has it, the manual path of the guide stays as it is).
//!
//! 1. OpenProject issues a **pairing code**: a JWT signed with its Ed25519 key (EdDSA), carrying
//!    its URL (`iss`), the storage id, a single-use nonce (`jti`) and a 10-minute expiry. Its
//!    public keys are at [`JWKS_PATH`].
//! 2. Nextcloud reads the URL from the code ([`PairingCode::claimed_issuer`], unverified), shows
//!    it to the admin, fetches that URL's JWKS once they confirm, and verifies the code
//!    ([`PairingCode::verify`]).
//! 3. Nextcloud posts a [`PairingExchange`] (its URL, its new OAuth client, its public key, the
//!    code) to [`EXCHANGE_PATH`]; OpenProject answers a [`PairingExchangeAnswer`].
//! 4. Afterwards each side sends [`PeerMessage`]s signed with its key, with a unique id and a
//!    timestamp; the receiver checks them with [`PeerMessage::verify`].

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
pub use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{
    jwk::{
        AlgorithmParameters, CommonParameters, EllipticCurve, KeyAlgorithm, OctetKeyPairParameters,
        OctetKeyPairType, PublicKeyUse,
    },
    Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Where a service publishes the public keys of its pairing codes and messages.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// OpenProject's endpoint for Nextcloud's half of the exchange.
pub const EXCHANGE_PATH: &str = "/api/v3/storages/pairing";
/// Where Nextcloud receives OpenProject's [`PeerMessage`]s.
pub const NEXTCLOUD_MESSAGES_PATH: &str = "/index.php/apps/integration_openproject/peer-messages";
/// The media type of a [`PeerMessage`] on the wire: its compact JWS.
pub const MESSAGE_MEDIA_TYPE: &str = "application/jwt";

/// Where OpenProject receives Nextcloud's [`PeerMessage`]s about `storage_id`.
pub fn openproject_messages_path(storage_id: i64) -> String {
    format!("/api/v3/storages/{storage_id}/peer_messages")
}

/// How long a pairing code is valid.
pub const CODE_TTL_SECS: i64 = 600;
/// The audience of a pairing code: nothing else signed with the key reads as one.
pub const CODE_AUDIENCE: &str = "urn:openproject-nextcloud:pairing-code";
/// The audience of a peer message.
pub const MESSAGE_AUDIENCE: &str = "urn:openproject-nextcloud:peer-message";
/// How far a message's timestamp may be from the receiver's clock.
pub const MESSAGE_MAX_SKEW_SECS: i64 = 300;

/// Why a pairing code or a message is refused; the texts are for the admin's screen and logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("This is not a pairing code. Copy the whole code from OpenProject.")]
    Malformed,
    #[error("The pairing code was signed by a key that {0} does not publish.")]
    UnknownKey(String),
    #[error("The pairing code's signature does not verify: it was altered.")]
    BadSignature,
    #[error("The pairing code has expired. Create a new one in OpenProject.")]
    Expired,
    #[error("The pairing code was used already. Create a new one in OpenProject.")]
    Used,
    #[error("The pairing code was issued by {claimed}, not by {expected}.")]
    WrongIssuer { claimed: String, expected: String },
    #[error("The message's timestamp is too far from this server's clock.")]
    StaleTimestamp,
}

impl Refusal {
    /// Why a peer message (rather than a pairing code) is refused, for the sender's status line
    /// and the receiver's log.
    pub fn of_message(&self) -> String {
        match self {
            Self::Malformed => "This is not a signed message.".into(),
            Self::UnknownKey(sender) => {
                format!("The message was signed by a key that {sender} does not use.")
            }
            Self::BadSignature => "The message's signature does not verify.".into(),
            Self::WrongIssuer { claimed, expected } => {
                format!("The message comes from {claimed}, not from {expected}.")
            }
            Self::Expired | Self::Used | Self::StaleTimestamp => self.to_string(),
        }
    }
}

/// What Nextcloud's pairing screen and routes say when they cannot go on.
pub mod messages {
    pub fn not_an_openproject_url(url: &str) -> String {
        format!("The pairing code names {url}, which is not an OpenProject URL.")
    }

    pub fn local_address(url: &str) -> String {
        format!(
            "{url} is on a local network address, which this Nextcloud does not call. \
             An administrator can allow it (NCOA_ALLOW_LOCAL_REMOTE_SERVERS)."
        )
    }

    pub fn unreachable(url: &str, reason: &str) -> String {
        format!("OpenProject at {url} could not be reached: {reason}")
    }

    pub fn not_confirmed(claimed: &str, confirmed: &str) -> String {
        format!("The pairing code is from {claimed}, not from {confirmed}.")
    }

    pub fn refused_by_openproject(message: &str) -> String {
        format!("OpenProject refused the pairing: {message}")
    }

    pub const NOT_PAIRED: &str = "This Nextcloud is not paired with OpenProject.";
    pub const STORAGE_NOT_PAIRED: &str = "This storage is not paired with Nextcloud.";
}

/// The exchange names another Nextcloud than the storage's host.
pub fn other_host_message(storage_host: &str) -> String {
    format!("The pairing code is for the storage at {storage_host}.")
}

/// An Ed25519 key of a service: its seed (kept encrypted at rest by the service), its public
/// half and its key id.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    seed: [u8; 32],
    public: [u8; 32],
}

/// PKCS#8 v1 of an Ed25519 private key is this prefix and the 32-byte seed (RFC 8410 §7).
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

impl SigningKey {
    /// The key of `seed` (32 random bytes from the service's random source).
    pub fn from_seed(kid: &str, seed: &[u8; 32]) -> Self {
        Self {
            kid: kid.to_string(),
            seed: *seed,
            public: ed25519_dalek::SigningKey::from_bytes(seed)
                .verifying_key()
                .to_bytes(),
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, as published in the JWKS.
    pub fn public_jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(self.kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(self.public),
            }),
        }
    }

    fn sign<T: Serialize>(&self, claims: &T) -> Result<String, SigningError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let der = [PKCS8_ED25519_PREFIX.as_slice(), &self.seed].concat();
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_ed_der(&der),
        )?)
    }
}

/// Signing failed: only a broken key or claims that do not serialize get here.
#[derive(Debug, thiserror::Error)]
#[error("signing failed: {0}")]
pub struct SigningError(#[from] jsonwebtoken::errors::Error);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, ***)", self.kid)
    }
}

/// The claims of a pairing code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingClaims {
    /// OpenProject's public URL, without a trailing `/`.
    pub iss: String,
    pub aud: String,
    /// The storage the code pairs.
    pub storage_id: i64,
    /// The single-use nonce.
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// A pairing code as the admin copies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingCode(pub String);

impl PairingCode {
    /// A code for `storage_id` from OpenProject at `issuer`, valid [`CODE_TTL_SECS`] from `now`
    /// (unix seconds).
    pub fn issue(
        key: &SigningKey,
        issuer: &str,
        storage_id: i64,
        nonce: &str,
        now: i64,
    ) -> Result<Self, SigningError> {
        Ok(Self(key.sign(&PairingClaims {
            iss: issuer.to_string(),
            aud: CODE_AUDIENCE.to_string(),
            storage_id,
            jti: nonce.to_string(),
            iat: now,
            exp: now + CODE_TTL_SECS,
        })?))
    }

    /// The URL the code says it comes from, before anything is verified: what Nextcloud shows
    /// the admin, and whose JWKS it fetches once they confirm.
    pub fn claimed_issuer(&self) -> Result<String, Refusal> {
        Ok(self.unverified_claims()?.iss)
    }

    /// What the code says, before anything is verified.
    pub fn unverified_claims(&self) -> Result<PairingClaims, Refusal> {
        unverified_claims(self.0.trim())
    }

    /// The claims, when the code was signed by a key of `jwks`, comes from `expected_issuer`
    /// and is unexpired at `now` (unix seconds). Whether its nonce is unused is the issuer's
    /// to check.
    pub fn verify(
        &self,
        jwks: &JwkSet,
        expected_issuer: &str,
        now: i64,
    ) -> Result<PairingClaims, Refusal> {
        let claims: PairingClaims = verify_signed(self.0.trim(), jwks, CODE_AUDIENCE, || {
            expected_issuer.to_string()
        })?;
        if claims.iss != expected_issuer {
            return Err(Refusal::WrongIssuer {
                claimed: claims.iss,
                expected: expected_issuer.to_string(),
            });
        }
        if claims.exp <= now {
            return Err(Refusal::Expired);
        }
        Ok(claims)
    }
}

/// `POST /api/v3/storages/{id}/pairing_code` (Extension, admins): a new code for the storage,
/// shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingCodeAnswer {
    #[serde(rename = "_type")]
    pub type_: String,
    pub code: String,
    /// ISO 8601.
    pub expires_at: String,
}

impl PairingCodeAnswer {
    pub fn new(code: PairingCode, expires_at: String) -> Self {
        Self {
            type_: "PairingCode".into(),
            code: code.0,
            expires_at,
        }
    }
}

/// `POST {openproject}`[`EXCHANGE_PATH`]: Nextcloud's half of the credential exchange,
/// authenticated by the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PairingExchange {
    pub code: String,
    /// Nextcloud's public URL, without a trailing `/`.
    pub nextcloud_url: String,
    /// Nextcloud's new OAuth client for OpenProject (setup step 3's values).
    pub client_id: String,
    pub client_secret: String,
    /// The key Nextcloud will sign its later messages with.
    pub nextcloud_key: Jwk,
}

/// OpenProject's answer to the exchange: its OAuth application for Nextcloud (setup step 2's
/// values). The code's nonce is used up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingExchangeAnswer {
    pub storage_id: i64,
    pub client_id: String,
    pub client_secret: String,
}

/// `POST APP/pairing/inspect` (Extension, Nextcloud admins): what a pasted code says, before
/// Nextcloud trusts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PairingCodeInspection {
    pub code: String,
}

/// The answer to [`PairingCodeInspection`]: the OpenProject the code names, for the admin to
/// confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingCodeFound {
    pub openproject_url: String,
    pub storage_id: i64,
    /// ISO 8601.
    pub expires_at: String,
}

/// `POST APP/pairing` (Extension, Nextcloud admins): pair with the OpenProject the admin
/// confirmed, which must be the one the code names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PairWithOpenProject {
    pub code: String,
    pub openproject_url: String,
}

/// The answer to [`PairWithOpenProject`]: both sides are configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairedWithOpenProject {
    pub status: bool,
    pub openproject_url: String,
    pub storage_id: i64,
}

/// The last message a service sent its peer, as its admin pages and health report show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastExchange {
    /// The [`PeerEvent`]'s type.
    pub event: String,
    /// `delivered`, `pending`, `stuck` (pending after several failed attempts) or `refused`.
    pub state: String,
    /// ISO 8601: when it was delivered or refused, else when it was last tried (or written).
    pub at: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// `GET APP/pairing` (Extension, Nextcloud admins): with which OpenProject this Nextcloud is
/// paired, and the last message it sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NextcloudPairing {
    pub paired: bool,
    pub openproject_url: Option<String>,
    pub storage_id: Option<i64>,
    /// ISO 8601.
    pub paired_at: Option<String>,
    pub last_exchange: Option<LastExchange>,
}

/// `GET /api/v3/storages/{id}/pairing` (Extension, admins): with which Nextcloud the storage is
/// paired, whether that Nextcloud reset the integration since, and the last message sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoragePairing {
    #[serde(rename = "_type")]
    pub type_: String,
    pub paired: bool,
    pub nextcloud_url: Option<String>,
    /// ISO 8601.
    pub paired_at: Option<String>,
    /// ISO 8601: Nextcloud reset the integration; the storage needs setup again.
    pub reset_at: Option<String>,
    pub last_exchange: Option<LastExchange>,
}

/// What a paired service tells the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PeerEvent {
    /// The sender replaced its OAuth client for the receiver; users re-authorize.
    #[serde(rename = "oauth_values_replaced")]
    OAuthValuesReplaced {
        client_id: String,
        client_secret: String,
    },
    /// OpenProject deleted the storage: Nextcloud resets the integration.
    StorageDeleted,
    /// Nextcloud reset the integration: OpenProject marks the storage as needing setup.
    IntegrationReset,
}

/// A signed message between paired services, sent as a compact JWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerMessage {
    /// The sender's public URL.
    pub iss: String,
    pub aud: String,
    /// Unique per message: the receiver applies each id once.
    pub jti: String,
    /// When it was sent (unix seconds).
    pub iat: i64,
    pub event: PeerEvent,
}

impl PeerEvent {
    /// The `type` tag on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::OAuthValuesReplaced { .. } => "oauth_values_replaced",
            Self::StorageDeleted => "storage_deleted",
            Self::IntegrationReset => "integration_reset",
        }
    }
}

impl PeerMessage {
    pub fn new(sender: &str, id: &str, now: i64, event: PeerEvent) -> Self {
        Self {
            iss: sender.to_string(),
            aud: MESSAGE_AUDIENCE.to_string(),
            jti: id.to_string(),
            iat: now,
            event,
        }
    }

    pub fn sign(&self, key: &SigningKey) -> Result<String, SigningError> {
        key.sign(self)
    }

    /// The message in `signed`, when a key of `sender_keys` signed it, it comes from `sender`,
    /// and its timestamp is within [`MESSAGE_MAX_SKEW_SECS`] of `now`. Whether its id was seen
    /// before is the receiver's to check.
    pub fn verify(
        signed: &str,
        sender_keys: &JwkSet,
        sender: &str,
        now: i64,
    ) -> Result<PeerMessage, Refusal> {
        let message: PeerMessage =
            verify_signed(signed, sender_keys, MESSAGE_AUDIENCE, || sender.to_string())?;
        if message.iss != sender {
            return Err(Refusal::WrongIssuer {
                claimed: message.iss,
                expected: sender.to_string(),
            });
        }
        if (message.iat - now).abs() > MESSAGE_MAX_SKEW_SECS {
            return Err(Refusal::StaleTimestamp);
        }
        Ok(message)
    }
}

/// The claims of a compact JWS without checking anything.
fn unverified_claims<T: DeserializeOwned>(token: &str) -> Result<T, Refusal> {
    let payload = token.split('.').nth(1).ok_or(Refusal::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Refusal::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| Refusal::Malformed)
}

/// The claims of `token` when its `kid` names an Ed25519 key of `keys` that signed it, for
/// `audience`. Time is checked by the callers, against the clock they are given.
fn verify_signed<T: DeserializeOwned>(
    token: &str,
    keys: &JwkSet,
    audience: &str,
    issuer: impl Fn() -> String,
) -> Result<T, Refusal> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
    if header.alg != Algorithm::EdDSA {
        return Err(Refusal::BadSignature);
    }
    let jwk = header
        .kid
        .as_deref()
        .and_then(|kid| keys.find(kid))
        .ok_or_else(|| Refusal::UnknownKey(issuer()))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| Refusal::UnknownKey(issuer()))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[audience]);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<T>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => Refusal::BadSignature,
            _ => Refusal::Malformed,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OP: &str = "https://openproject.example.com";
    const NOW: i64 = 1_780_000_000;

    fn key(kid: &str, byte: u8) -> SigningKey {
        SigningKey::from_seed(kid, &[byte; 32])
    }

    fn jwks(keys: &[&SigningKey]) -> JwkSet {
        JwkSet {
            keys: keys.iter().map(|k| k.public_jwk()).collect(),
        }
    }

    #[test]
    fn a_code_verifies_against_its_issuers_keys_until_it_expires() {
        let signer = key("op-1", 7);
        let code = PairingCode::issue(&signer, OP, 3, "nonce-1", NOW).unwrap();
        assert_eq!(code.claimed_issuer().unwrap(), OP);
        let claims = code.verify(&jwks(&[&signer]), OP, NOW + 599).unwrap();
        assert_eq!((claims.storage_id, claims.jti.as_str()), (3, "nonce-1"));
        assert_eq!(
            code.verify(&jwks(&[&signer]), OP, NOW + 600),
            Err(Refusal::Expired)
        );
        // Surrounding whitespace from a copy and paste does not matter.
        let padded = PairingCode(format!("  {}\n", code.0));
        assert!(padded.verify(&jwks(&[&signer]), OP, NOW).is_ok());
    }

    #[test]
    fn altered_foreign_and_misdirected_codes_are_refused() {
        let signer = key("op-1", 7);
        let code = PairingCode::issue(&signer, OP, 3, "nonce-1", NOW).unwrap();
        // Another storage id in the payload, the signature kept.
        let parts: Vec<&str> = code.0.split('.').collect();
        let mut claims: PairingClaims = unverified_claims(&code.0).unwrap();
        claims.storage_id = 4;
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        let altered = PairingCode(format!("{}.{payload}.{}", parts[0], parts[2]));
        assert_eq!(
            altered.verify(&jwks(&[&signer]), OP, NOW),
            Err(Refusal::BadSignature)
        );
        // Signed by a key the URL does not publish (someone else's code).
        let other = key("op-1", 8);
        assert_eq!(
            PairingCode::issue(&other, OP, 3, "n", NOW)
                .unwrap()
                .verify(&jwks(&[&signer]), OP, NOW),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            PairingCode::issue(&key("x", 8), OP, 3, "n", NOW)
                .unwrap()
                .verify(&jwks(&[&signer]), OP, NOW),
            Err(Refusal::UnknownKey(OP.into()))
        );
        // Verified against another URL's keys than the one it names.
        assert_eq!(
            code.verify(&jwks(&[&signer]), "https://elsewhere.example.com", NOW),
            Err(Refusal::WrongIssuer {
                claimed: OP.into(),
                expected: "https://elsewhere.example.com".into()
            })
        );
        assert_eq!(
            PairingCode("not a code".into()).claimed_issuer(),
            Err(Refusal::Malformed)
        );
    }

    #[test]
    fn a_peer_message_is_not_a_pairing_code() {
        let signer = key("op-1", 7);
        let message = PeerMessage::new(OP, "m-1", NOW, PeerEvent::StorageDeleted)
            .sign(&signer)
            .unwrap();
        assert_eq!(
            PairingCode(message).verify(&jwks(&[&signer]), OP, NOW),
            Err(Refusal::Malformed)
        );
    }

    #[test]
    fn peer_messages_verify_within_the_clock_skew() {
        let signer = key("nc-1", 9);
        let event = PeerEvent::OAuthValuesReplaced {
            client_id: "id".into(),
            client_secret: "secret".into(),
        };
        let sent = PeerMessage::new("https://cloud.example.com", "m-1", NOW, event);
        let signed = sent.sign(&signer).unwrap();
        let keys = jwks(&[&signer]);
        let sender = "https://cloud.example.com";
        assert_eq!(
            PeerMessage::verify(&signed, &keys, sender, NOW + 300),
            Ok(sent)
        );
        assert_eq!(
            PeerMessage::verify(&signed, &keys, sender, NOW + 301),
            Err(Refusal::StaleTimestamp)
        );
        assert!(matches!(
            PeerMessage::verify(&signed, &keys, OP, NOW),
            Err(Refusal::WrongIssuer { .. })
        ));
    }

    #[test]
    fn fixtures_round_trip() {
        use crate::fixtures::assert_round_trip;
        assert_round_trip::<PairingClaims>("pairing_code_claims");
        assert_round_trip::<PairingCodeAnswer>("op_pairing_code");
        assert_round_trip::<PairingExchange>("pairing_exchange");
        assert_round_trip::<PairingExchangeAnswer>("pairing_exchange_answer");
        assert_round_trip::<PeerMessage>("peer_message_oauth_values_replaced");
        assert_round_trip::<PeerMessage>("peer_message_storage_deleted");
        assert_round_trip::<JwkSet>("jwks");
        assert_round_trip::<PeerMessage>("peer_message_integration_reset");
        assert_round_trip::<PairingCodeInspection>("nc_pairing_inspect_request");
        assert_round_trip::<PairingCodeFound>("nc_pairing_inspect_response");
        assert_round_trip::<PairWithOpenProject>("nc_pairing_request");
        assert_round_trip::<PairedWithOpenProject>("nc_pairing_response");
        assert_round_trip::<NextcloudPairing>("nc_pairing_state");
        assert_round_trip::<StoragePairing>("op_storage_pairing");
    }

    #[test]
    fn event_type_names_are_the_wire_tags() {
        for event in [
            PeerEvent::OAuthValuesReplaced {
                client_id: "i".into(),
                client_secret: "s".into(),
            },
            PeerEvent::StorageDeleted,
            PeerEvent::IntegrationReset,
        ] {
            assert_eq!(
                serde_json::to_value(&event).unwrap()["type"],
                event.type_name()
            );
        }
    }

    #[test]
    fn the_published_keys_are_the_fixtures() {
        let published = JwkSet {
            keys: vec![key("op-1", 7).public_jwk()],
        };
        assert_eq!(
            serde_json::to_value(published).unwrap(),
            crate::fixtures::load("jwks")
        );
        let exchange: PairingExchange =
            serde_json::from_value(crate::fixtures::load("pairing_exchange")).unwrap();
        assert_eq!(exchange.nextcloud_key, key("nc-1", 9).public_jwk());
        // The fixture's code is the one OpenProject's key issues for it.
        assert_eq!(
            exchange.code,
            PairingCode::issue(&key("op-1", 7), OP, 3, "nonce-1", NOW)
                .unwrap()
                .0
        );
    }
}
