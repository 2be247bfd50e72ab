//! File storages (openproject-storages.md §6–§8): reading write bodies, the validation table of
//! §6.5 in its order, and the create, update, delete and replace operations with their side
//! effects on the OAuth application and client credentials. The checks with Nextcloud (rules 8
//! and 10) are made by the use cases in [`crate::flows::storages`].

use std::net::IpAddr;

use service_kit::{
    crypto::{self, SecretBox, SecretString},
    db::serialized_transaction,
};
use storage_protocol::{
    hal::{ErrorId, HalError},
    lenient::{Lenient, Object},
    storages::{
        messages as msg, nextcloud_urls, normalize_host, oauth_application_name, LinkWrite,
        OAuthClientCredentialsWrite, StorageWrite, StorageWriteLinks, API_V3_SCOPE,
        AUTH_TWO_WAY_OAUTH2, PROVIDER_NEXTCLOUD,
    },
};

use super::permissions::{Access, Permission};
use crate::db::{
    file_links::ProjectStorage,
    oauth_applications::{NewOAuthApplication, OAuthApplication},
    oauth_client_credentials::{NewOAuthClientCredentials, OAuthClientCredentials},
    storages::{NewStorage, Storage, StorageRecord},
    users::User,
    Conn,
};

pub const MAX_LENGTH: usize = 255;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid storage")]
    Invalid(Vec<HalError>),
    #[error("storage not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<service_kit::db::DbError> for StorageError {
    fn from(e: service_kit::db::DbError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// `applicationPassword` of a write body.
#[derive(Debug, Clone, PartialEq)]
pub enum PasswordChange {
    /// Non-empty: automatic management on.
    Set(String),
    /// `""` or `null`: automatic management off.
    Clear,
    Invalid,
}

/// The writable properties of a storage body (§6.4); absent keys are `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StorageInput {
    pub provider_type: Lenient<Option<String>>,
    pub name: Lenient<String>,
    pub host: Lenient<Option<String>>,
    pub authentication_method: Lenient<Option<String>>,
    pub application_password: Option<PasswordChange>,
    pub storage_audience: Lenient<Option<String>>,
    pub token_exchange_scope: Lenient<Option<String>>,
    pub forbidden_file_name_characters: Lenient<Option<String>>,
}

impl StorageInput {
    /// What a storage body asks for, as the rules read it.
    pub fn from_write(write: &StorageWrite) -> Self {
        let links = match &write.links {
            Lenient::Value(Object(links)) => Some(links),
            // `_links` that is not an object names no link.
            Lenient::Absent | Lenient::Invalid => None,
        };
        let link = |pick: fn(&StorageWriteLinks) -> &Lenient<Option<Object<LinkWrite>>>| {
            links.map_or(Lenient::Absent, |links| link_href(pick(links)))
        };
        Self {
            provider_type: link(|l| &l.type_),
            name: write.name.clone(),
            host: link(|l| &l.origin),
            authentication_method: link(|l| &l.authentication_method),
            application_password: match &write.application_password {
                Lenient::Absent => None,
                Lenient::Value(Some(password)) if !password.is_empty() => {
                    Some(PasswordChange::Set(password.clone()))
                }
                Lenient::Value(_) => Some(PasswordChange::Clear),
                Lenient::Invalid => Some(PasswordChange::Invalid),
            },
            storage_audience: write.storage_audience.clone(),
            token_exchange_scope: write.token_exchange_scope.clone(),
            forbidden_file_name_characters: write.forbidden_file_name_characters.clone(),
        }
    }

    #[cfg(test)]
    fn from_body(body: &serde_json::Value) -> Self {
        Self::from_write(&storage_protocol::lenient::read_write_body(body))
    }
}

/// A link's href: absent when the link is absent; `null` (the link or its href) reads as
/// `Value(None)`.
fn link_href(link: &Lenient<Option<Object<LinkWrite>>>) -> Lenient<Option<String>> {
    match link {
        Lenient::Absent => Lenient::Absent,
        Lenient::Invalid => Lenient::Invalid,
        Lenient::Value(None) => Lenient::Value(None),
        Lenient::Value(Some(Object(link))) => match &link.href {
            Lenient::Absent | Lenient::Value(None) => Lenient::Value(None),
            Lenient::Value(Some(href)) => Lenient::Value(Some(href.clone())),
            Lenient::Invalid => Lenient::Invalid,
        },
    }
}

/// The record a request would produce, before it is stored.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    name: String,
    /// Normalised; `None` when empty or absent.
    host: Option<String>,
    /// The host property had a wrong JSON type.
    host_invalid_type: bool,
    /// `Some(sealed)` when automatic management is on.
    application_password_sealed: Option<String>,
    /// A new password to verify with Nextcloud (rule 10).
    password_to_check: Option<String>,
    password_invalid_type: bool,
    storage_audience: Option<String>,
    token_exchange_scope: Option<String>,
    forbidden_file_name_characters: Option<String>,
}

/// Validation failures keyed by their rule number, so outbound and database checks made at
/// different moments still report in the table's order.
#[derive(Debug, Default)]
struct Violations(Vec<(u8, HalError)>);

impl Violations {
    fn add(&mut self, rule: u8, attribute: &str, message: &str) {
        self.0.push((rule, HalError::violation(attribute, message)));
    }

    fn has(&self, rules: &[u8]) -> bool {
        self.0.iter().any(|(rule, _)| rules.contains(rule))
    }

    fn into_errors(mut self) -> Vec<HalError> {
        self.0.sort_by_key(|(rule, _)| *rule);
        self.0.into_iter().map(|(_, e)| e).collect()
    }
}

fn optional_text(field: &Lenient<Option<String>>, current: Option<&str>) -> Option<String> {
    match field {
        Lenient::Absent | Lenient::Invalid => current.map(str::to_string),
        Lenient::Value(value) => value.clone(),
    }
}

/// Rules 1–7 and 9 of §6.5, which need neither Nextcloud nor the database.
fn local_rules(
    input: &StorageInput,
    candidate: &Candidate,
    creating: bool,
    violations: &mut Violations,
) {
    // Rule 1: on POST the provider type must be Nextcloud; on PATCH it may only be repeated.
    match (&input.provider_type, creating) {
        (Lenient::Value(Some(urn)), _) if urn == PROVIDER_NEXTCLOUD => {}
        (Lenient::Absent, false) => {}
        (_, true) => violations.add(1, "providerType", msg::PROVIDER_TYPE_INVALID),
        (_, false) => violations.0.push((
            1,
            HalError::new(ErrorId::PropertyIsReadOnly, msg::PROVIDER_TYPE_READ_ONLY)
                .with_attribute("providerType"),
        )),
    }
    let name = candidate.name.trim();
    if name.is_empty() {
        violations.add(2, "name", msg::NAME_BLANK);
    } else if name.chars().count() > MAX_LENGTH {
        violations.add(3, "name", msg::NAME_TOO_LONG);
    }
    check_host_syntax(candidate, violations);
    let method_ok = match &input.authentication_method {
        Lenient::Absent | Lenient::Value(None) => true,
        Lenient::Value(Some(urn)) => urn == AUTH_TWO_WAY_OAUTH2,
        Lenient::Invalid => false,
    };
    if !method_ok {
        violations.add(
            9,
            "authenticationMethod",
            msg::AUTHENTICATION_METHOD_INVALID,
        );
    }
    if candidate.password_invalid_type {
        violations.add(10, "password", msg::APPLICATION_PASSWORD_INVALID);
    }
}

/// Rules 4–7: URI syntax, scheme, length, secure context.
fn check_host_syntax(candidate: &Candidate, violations: &mut Violations) {
    if candidate.host_invalid_type {
        violations.add(4, "host", msg::HOST_INVALID_URL);
        return;
    }
    let Some(host) = candidate.host.as_deref() else {
        violations.add(5, "host", msg::HOST_UNSUPPORTED_PROTOCOL);
        return;
    };
    if !is_uri(host) {
        violations.add(4, "host", msg::HOST_INVALID_URL);
    } else if !has_http_scheme(host) {
        violations.add(5, "host", msg::HOST_UNSUPPORTED_PROTOCOL);
    }
    if host.chars().count() > MAX_LENGTH {
        violations.add(6, "host", msg::HOST_TOO_LONG);
    }
    if violations.has(&[4, 5, 6]) {
        return;
    }
    match url::Url::parse(host) {
        Ok(url) if url.host().is_some() => {
            if !is_secure_context(&url) {
                violations.add(7, "host", msg::HOST_NOT_SECURE);
            }
        }
        // A URI without a host (`https://`) fails here, as OpenProject reports it.
        _ => violations.add(7, "host", msg::HOST_INVALID_URL),
    }
}

/// RFC 3986 characters only (Ruby's `URI.parse` refuses anything else).
fn is_uri(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c))
}

fn has_http_scheme(value: &str) -> bool {
    let Some((scheme, _)) = value.split_once(':') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
}

/// Rule 7: https, or a loopback host (`localhost`, `*.localhost`, 127.0.0.0/8, `::1`).
pub fn is_secure_context(url: &url::Url) -> bool {
    if url.scheme() == "https" {
        return true;
    }
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.strip_suffix('.').unwrap_or(domain);
            domain.eq_ignore_ascii_case("localhost")
                || domain.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Rules 11 and 12, inside the writing transaction.
fn uniqueness_rules(
    conn: &mut Conn,
    candidate: &Candidate,
    except: Option<i64>,
    violations: &mut Violations,
) -> diesel::QueryResult<()> {
    if let Some(host) = candidate.host.as_deref() {
        if Storage::host_taken(conn, host, except)? {
            violations.add(11, "host", msg::HOST_TAKEN);
        }
    }
    let name = candidate.name.trim();
    if !name.is_empty() && Storage::name_taken(conn, name, except)? {
        violations.add(12, "name", msg::NAME_TAKEN);
    }
    Ok(())
}

/// A newly made OpenProject OAuth application and its secret, shown once; `Debug` shows no
/// secret.
#[derive(Debug)]
pub struct IssuedApplication {
    pub application: OAuthApplication,
    pub client_secret: SecretString,
}

fn issue_application(
    conn: &mut Conn,
    storage: &Storage,
    owner_id: Option<i64>,
    now: i64,
) -> diesel::QueryResult<IssuedApplication> {
    let client_id = crypto::random_urlsafe(32);
    let client_secret = SecretString::new(crypto::random_urlsafe(32));
    let application = OAuthApplication::insert(
        conn,
        &NewOAuthApplication {
            name: &oauth_application_name(&storage.name),
            client_id: &client_id,
            secret_digest: &crypto::digest(client_secret.expose()),
            redirect_uri: &nextcloud_urls::oauth_redirect_uri(
                storage.host.as_deref().unwrap_or_default(),
            ),
            scopes: API_V3_SCOPE,
            confidential: true,
            owner_id,
            storage_id: storage.id,
            created_at: now,
            updated_at: now,
        },
    )?;
    Ok(IssuedApplication {
        application,
        client_secret,
    })
}

/// Storage writes read before they write (uniqueness, the current record): they run one at a
/// time across replicas.
const STORAGES_LOCK: i64 = 0x5354_4f52; // "STOR"

fn sealed_password(
    secret_box: &SecretBox,
    change: &Option<PasswordChange>,
    current: Option<&str>,
) -> Option<String> {
    match change {
        None | Some(PasswordChange::Invalid) => current.map(str::to_string),
        Some(PasswordChange::Clear) => None,
        Some(PasswordChange::Set(password)) => Some(secret_box.seal(password)),
    }
}

/// A write's resulting record with the rules that need neither Nextcloud nor the database
/// applied; the use case adds Nextcloud's verdicts (rules 8 and 10) before storing it.
pub struct Checked {
    candidate: Candidate,
    violations: Violations,
    host_changed: bool,
}

impl Checked {
    fn new(input: &StorageInput, candidate: Candidate, creating: bool, host_changed: bool) -> Self {
        let mut violations = Violations::default();
        local_rules(input, &candidate, creating, &mut violations);
        Self {
            candidate,
            violations,
            host_changed,
        }
    }

    /// The host to ask Nextcloud about, when the local host rules passed.
    pub fn usable_host(&self) -> Option<&str> {
        let host_usable = !self.violations.has(&[4, 5, 6, 7]);
        self.candidate.host.as_deref().filter(|_| host_usable)
    }

    /// Rule 8 applies only to a new or changed host.
    pub fn host_changed(&self) -> bool {
        self.host_changed
    }

    /// A new application password to verify with Nextcloud (rule 10).
    pub fn password_to_check(&self) -> Option<&str> {
        self.candidate.password_to_check.as_deref()
    }

    /// Rule 8: Nextcloud is not reachable at the host, or is not a usable Nextcloud.
    pub fn host_refused(&mut self, message: &str) {
        self.violations.add(8, "host", message);
    }

    /// Rule 10: Nextcloud refused the application password.
    pub fn password_refused(&mut self, message: &str) {
        self.violations.add(10, "password", message);
    }

    /// Rules 11 and 12, then the verdict: every violation in the table's order, or none.
    fn complete(
        mut self,
        conn: &mut Conn,
        storage_id: Option<i64>,
    ) -> Result<Candidate, StorageError> {
        uniqueness_rules(conn, &self.candidate, storage_id, &mut self.violations)?;
        if self.violations.0.is_empty() {
            Ok(self.candidate)
        } else {
            Err(StorageError::Invalid(self.violations.into_errors()))
        }
    }
}

/// `POST /api/v3/storages`, before Nextcloud is asked: the record and the local rules (§6.5).
pub fn check_new(secret_box: &SecretBox, input: &StorageInput) -> Checked {
    let candidate = Candidate {
        name: input
            .name
            .value()
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        host: match &input.host {
            Lenient::Value(Some(raw)) => normalize_host(raw),
            _ => None,
        },
        host_invalid_type: matches!(input.host, Lenient::Invalid),
        application_password_sealed: sealed_password(secret_box, &input.application_password, None),
        password_to_check: match &input.application_password {
            Some(PasswordChange::Set(p)) => Some(p.clone()),
            _ => None,
        },
        password_invalid_type: matches!(input.application_password, Some(PasswordChange::Invalid)),
        storage_audience: optional_text(&input.storage_audience, None),
        token_exchange_scope: optional_text(&input.token_exchange_scope, None),
        forbidden_file_name_characters: optional_text(&input.forbidden_file_name_characters, None),
    };
    Checked::new(input, candidate, true, true)
}

/// Stores a new storage and creates its OAuth application in one transaction (§6.7), once the
/// rest of the table passes.
pub fn store_new(
    conn: &mut Conn,
    checked: Checked,
    creator_id: i64,
    now: i64,
) -> Result<(Storage, IssuedApplication), StorageError> {
    serialized_transaction(conn, STORAGES_LOCK, |conn| {
        let candidate = checked.complete(conn, None)?;
        let storage = Storage::insert(
            conn,
            &NewStorage {
                name: &candidate.name,
                provider_type: PROVIDER_NEXTCLOUD,
                host: candidate.host.as_deref(),
                authentication_method: AUTH_TWO_WAY_OAUTH2,
                application_password_sealed: candidate.application_password_sealed.as_deref(),
                storage_audience: candidate.storage_audience.as_deref(),
                token_exchange_scope: candidate.token_exchange_scope.as_deref(),
                forbidden_file_name_characters: candidate.forbidden_file_name_characters.as_deref(),
                creator_id: Some(creator_id),
                created_at: now,
                updated_at: now,
            },
        )?;
        let issued = issue_application(conn, &storage, Some(creator_id), now)?;
        Ok((storage, issued))
    })
}

/// `PATCH /api/v3/storages/{id}`, before Nextcloud is asked: the whole table again on the
/// resulting record; the host check only when the host changed, the password check only when
/// the password changed.
pub fn check_update(secret_box: &SecretBox, storage: &Storage, input: &StorageInput) -> Checked {
    let candidate = updated_candidate(secret_box, storage, input);
    let host_changed = candidate.host != storage.host;
    Checked::new(input, candidate, false, host_changed)
}

/// Stores the changes once the rest of the table passes; the OAuth application follows the
/// name and host.
pub fn store_update(
    conn: &mut Conn,
    storage_id: i64,
    checked: Checked,
    now: i64,
) -> Result<Storage, StorageError> {
    serialized_transaction(conn, STORAGES_LOCK, |conn| {
        let candidate = checked.complete(conn, Some(storage_id))?;
        store_changes(conn, storage_id, &candidate, now)
    })
}

/// The record a `PATCH` would leave: the stored values where the body leaves them out. The
/// password is to be checked only when it changed; an unchanged one keeps its sealed form.
fn updated_candidate(secret_box: &SecretBox, storage: &Storage, input: &StorageInput) -> Candidate {
    let stored_password = StoredSecret::open(
        secret_box,
        storage.application_password_sealed.as_deref(),
        "application password",
        storage.id,
    )
    .readable();
    let host = match &input.host {
        Lenient::Absent => storage.host.clone(),
        Lenient::Value(Some(raw)) => normalize_host(raw),
        Lenient::Value(None) | Lenient::Invalid => None,
    };
    let password_to_check = match &input.application_password {
        Some(PasswordChange::Set(p))
            if !stored_password
                .as_ref()
                .is_some_and(|stored| crypto::constant_time_eq(stored.expose(), p)) =>
        {
            Some(p.clone())
        }
        _ => None,
    };
    let application_password_sealed = match (&input.application_password, &password_to_check) {
        // An unchanged password keeps its sealed form.
        (Some(PasswordChange::Set(_)), None) => storage.application_password_sealed.clone(),
        (change, _) => sealed_password(
            secret_box,
            change,
            storage.application_password_sealed.as_deref(),
        ),
    };
    Candidate {
        name: match &input.name {
            Lenient::Absent => storage.name.clone(),
            field => field
                .value()
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
        },
        host,
        host_invalid_type: matches!(input.host, Lenient::Invalid),
        application_password_sealed,
        password_to_check,
        password_invalid_type: matches!(input.application_password, Some(PasswordChange::Invalid)),
        storage_audience: optional_text(
            &input.storage_audience,
            storage.storage_audience.as_deref(),
        ),
        token_exchange_scope: optional_text(
            &input.token_exchange_scope,
            storage.token_exchange_scope.as_deref(),
        ),
        forbidden_file_name_characters: optional_text(
            &input.forbidden_file_name_characters,
            storage.forbidden_file_name_characters.as_deref(),
        ),
    }
}

/// Writes the candidate over the storage; its OAuth application follows the name and host.
fn store_changes(
    conn: &mut Conn,
    storage_id: i64,
    candidate: &Candidate,
    now: i64,
) -> Result<Storage, StorageError> {
    let updated = Storage::update(
        conn,
        storage_id,
        &StorageRecord {
            name: &candidate.name,
            host: candidate.host.as_deref(),
            application_password_sealed: candidate.application_password_sealed.as_deref(),
            storage_audience: candidate.storage_audience.as_deref(),
            token_exchange_scope: candidate.token_exchange_scope.as_deref(),
            forbidden_file_name_characters: candidate.forbidden_file_name_characters.as_deref(),
            updated_at: now,
        },
    )?;
    OAuthApplication::follow_storage(
        conn,
        updated.id,
        &oauth_application_name(&updated.name),
        &nextcloud_urls::oauth_redirect_uri(updated.host.as_deref().unwrap_or_default()),
        now,
    )?;
    Ok(updated)
}

/// `DELETE /api/v3/storages/{id}` (§6.7), in one transaction: the client credentials with every
/// user's Nextcloud tokens, the OAuth application with its grants and tokens, then the storage;
/// project storages and file links reference the storage and go with its row.
pub fn delete(conn: &mut Conn, storage_id: i64) -> Result<(), StorageError> {
    serialized_transaction(conn, STORAGES_LOCK, |conn| {
        OAuthClientCredentials::delete_for_storage(conn, storage_id)?;
        OAuthApplication::delete_for_storage(conn, storage_id)?;
        if Storage::delete(conn, storage_id)? == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    })
}

/// `POST /api/v3/storages/{id}/oauth_application` (§8, Extension): the old application and
/// every grant and token issued to it are deleted; a new one with new credentials replaces it.
pub fn replace_application(
    conn: &mut Conn,
    storage: &Storage,
    owner_id: Option<i64>,
    now: i64,
) -> Result<IssuedApplication, StorageError> {
    serialized_transaction(conn, STORAGES_LOCK, |conn| {
        OAuthApplication::delete_for_storage(conn, storage.id)?;
        Ok(issue_application(conn, storage, owner_id, now)?)
    })
}

/// `POST /api/v3/storages/{id}/oauth_client_credentials` (§7): validates, then replaces the
/// storage's credentials; every user's Nextcloud tokens for the old ones go with them.
pub fn set_client_credentials(
    conn: &mut Conn,
    secret_box: &SecretBox,
    storage_id: i64,
    body: &OAuthClientCredentialsWrite,
    now: i64,
) -> Result<OAuthClientCredentials, StorageError> {
    // Missing or of another type: blank, as OpenProject reads them.
    let client_id = body.client_id.value().map_or("", String::as_str);
    let client_secret = body.client_secret.value().map_or("", String::as_str);
    let mut errors = Vec::new();
    if client_id.trim().is_empty() {
        errors.push(HalError::violation("clientId", msg::CLIENT_ID_BLANK));
    } else if client_id.chars().count() > MAX_LENGTH {
        errors.push(HalError::violation("clientId", msg::CLIENT_ID_TOO_LONG));
    }
    if client_secret.trim().is_empty() {
        errors.push(HalError::violation(
            "clientSecret",
            msg::CLIENT_SECRET_BLANK,
        ));
    } else if client_secret.chars().count() > MAX_LENGTH {
        errors.push(HalError::violation(
            "clientSecret",
            msg::CLIENT_SECRET_TOO_LONG,
        ));
    }
    if !errors.is_empty() {
        return Err(StorageError::Invalid(errors));
    }
    let sealed = secret_box.seal(client_secret);
    serialized_transaction(conn, STORAGES_LOCK, |conn| {
        OAuthClientCredentials::delete_for_storage(conn, storage_id)?;
        Ok(OAuthClientCredentials::insert(
            conn,
            &NewOAuthClientCredentials {
                storage_id,
                client_id: client_id.trim(),
                client_secret_sealed: Some(&sealed),
                created_at: now,
                updated_at: now,
            },
        )?)
    })
}

/// A storage with what its representation shows: its OAuth application (and the
/// application's owner), its client credentials.
#[derive(Debug, Clone)]
pub struct StorageDetails {
    pub storage: Storage,
    pub application: Option<OAuthApplication>,
    pub application_owner: Option<User>,
    pub credentials: Option<OAuthClientCredentials>,
}

/// A sealed secret as read back: absent, readable, or present but unreadable.
#[derive(Debug)]
pub enum StoredSecret {
    Absent,
    Readable(SecretString),
    /// It cannot be decrypted: the secret key changed since it was sealed, or it is corrupt.
    /// Logged where it is found, never taken for "absent" without a trace.
    Unreadable,
}

impl StoredSecret {
    /// Opens `sealed`; `what` names the secret in the log (never its value).
    pub fn open(secret_box: &SecretBox, sealed: Option<&str>, what: &str, storage_id: i64) -> Self {
        match sealed.map(|sealed| secret_box.open(sealed)) {
            None => Self::Absent,
            Some(Ok(value)) => Self::Readable(SecretString::new(value)),
            Some(Err(_)) => {
                tracing::error!(
                    storage_id,
                    secret = what,
                    "a stored secret cannot be decrypted: OPS_SECRET_KEY changed since it was stored, or the value is corrupt"
                );
                Self::Unreadable
            }
        }
    }

    pub fn readable(self) -> Option<SecretString> {
        match self {
            Self::Readable(value) => Some(value),
            Self::Absent | Self::Unreadable => None,
        }
    }
}

impl StorageDetails {
    /// The application password, and whether any secret stored for the storage (the
    /// application password, Nextcloud's client secret) cannot be decrypted.
    pub fn stored_secrets(&self, secret_box: &SecretBox) -> (Option<SecretString>, bool) {
        let id = self.storage.id;
        let password = StoredSecret::open(
            secret_box,
            self.storage.application_password_sealed.as_deref(),
            "application password",
            id,
        );
        let client_secret = StoredSecret::open(
            secret_box,
            self.credentials
                .as_ref()
                .and_then(|c| c.client_secret_sealed.as_deref()),
            "Nextcloud OAuth client secret",
            id,
        );
        let unreadable = matches!(password, StoredSecret::Unreadable)
            || matches!(client_secret, StoredSecret::Unreadable);
        (password.readable(), unreadable)
    }

    /// `configured` (§6.2): name and host set, both OAuth sides present.
    pub fn configured(&self) -> bool {
        !self.storage.name.is_empty()
            && self.storage.host.is_some()
            && self.application.is_some()
            && self.credentials.is_some()
    }
}

/// Loads the details of `storages` in three queries, keeping their order.
pub fn details(
    conn: &mut Conn,
    storages: Vec<Storage>,
) -> diesel::QueryResult<Vec<StorageDetails>> {
    let ids: Vec<i64> = storages.iter().map(|s| s.id).collect();
    let applications = OAuthApplication::for_storages(conn, &ids)?;
    let credentials = OAuthClientCredentials::for_storages(conn, &ids)?;
    let owner_ids: Vec<i64> = applications.iter().filter_map(|a| a.owner_id).collect();
    let owners = User::find_many(conn, &owner_ids)?;
    Ok(storages
        .into_iter()
        .map(|storage| {
            let application = applications
                .iter()
                .find(|a| a.storage_id == storage.id)
                .cloned();
            let application_owner = application
                .as_ref()
                .and_then(|a| a.owner_id)
                .and_then(|id| owners.iter().find(|u| u.id == id).cloned());
            StorageDetails {
                credentials: credentials
                    .iter()
                    .find(|c| c.storage_id == storage.id)
                    .cloned(),
                application,
                application_owner,
                storage,
            }
        })
        .collect())
}

/// Which storages a user sees (§6.1): admins and holders of `manage_files_in_project` anywhere
/// see all; others the storages enabled in projects where they hold `view_file_links`.
pub fn visible_storages(conn: &mut Conn, user: &User) -> diesel::QueryResult<Vec<Storage>> {
    if user.is_active_admin() {
        return Storage::all(conn);
    }
    let access = Access::load(conn, user)?;
    if access.anywhere(Permission::ManageFilesInProject) {
        return Storage::all(conn);
    }
    let projects = access.projects_with(Permission::ViewFileLinks);
    let enabled: Vec<i64> = ProjectStorage::all(conn)?
        .into_iter()
        .filter(|ps| projects.contains(&ps.project_id))
        .map(|ps| ps.storage_id)
        .collect();
    Ok(Storage::all(conn)?
        .into_iter()
        .filter(|s| enabled.contains(&s.id))
        .collect())
}

pub fn find_visible(conn: &mut Conn, user: &User, id: i64) -> diesel::QueryResult<Option<Storage>> {
    Ok(visible_storages(conn, user)?
        .into_iter()
        .find(|s| s.id == id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn links_read_as_absent_null_href_or_invalid() {
        let input = StorageInput::from_body(&json!({"_links": {
            "origin": {"href": "https://x"}, "type": null, "authenticationMethod": {"href": 3}
        }}));
        assert_eq!(input.host, Lenient::Value(Some("https://x".into())));
        assert_eq!(input.provider_type, Lenient::Value(None));
        assert_eq!(input.authentication_method, Lenient::Invalid);
        assert_eq!(StorageInput::from_body(&json!({})).host, Lenient::Absent);
        // `_links` that is not an object names nothing; a link that is not an object is invalid,
        // also when serde could read it by position.
        assert_eq!(
            StorageInput::from_body(&json!({"_links": ["x"]})).host,
            Lenient::Absent
        );
        assert_eq!(
            StorageInput::from_body(&json!({"_links": {"origin": ["https://x"]}})).host,
            Lenient::Invalid
        );
        assert_eq!(
            StorageInput::from_body(&json!({"_links": {"origin": {}}})).host,
            Lenient::Value(None)
        );
    }

    fn candidate(host: Option<&str>) -> Candidate {
        Candidate {
            name: "Nextcloud".into(),
            host: host.and_then(normalize_host),
            host_invalid_type: false,
            application_password_sealed: None,
            password_to_check: None,
            password_invalid_type: false,
            storage_audience: None,
            token_exchange_scope: None,
            forbidden_file_name_characters: None,
        }
    }

    fn messages_for(body: Value, creating: bool) -> Vec<String> {
        let input = StorageInput::from_body(&body);
        let mut candidate = candidate(None);
        candidate.name = input.name.value().cloned().unwrap_or_default();
        candidate.host = match &input.host {
            Lenient::Value(Some(raw)) => normalize_host(raw),
            _ => None,
        };
        candidate.host_invalid_type = matches!(input.host, Lenient::Invalid);
        let mut violations = Violations::default();
        local_rules(&input, &candidate, creating, &mut violations);
        violations
            .into_errors()
            .into_iter()
            .map(|e| e.message.to_string())
            .collect()
    }

    #[test]
    fn host_rules_in_order() {
        let host = |h: &str| {
            messages_for(
                json!({"name": "n", "_links": {"type": {"href": PROVIDER_NEXTCLOUD}, "origin": {"href": h}}}),
                true,
            )
        };
        assert_eq!(host("https://nc.example.com"), Vec::<String>::new());
        assert_eq!(host("http://localhost:8081"), Vec::<String>::new());
        assert_eq!(host("http://127.0.0.2"), Vec::<String>::new());
        assert_eq!(host("http://[::1]:80"), Vec::<String>::new());
        assert_eq!(host("http://cloud.localhost."), Vec::<String>::new());
        assert_eq!(host("not a url"), vec![msg::HOST_INVALID_URL]);
        assert_eq!(host("nc.example.com"), vec![msg::HOST_UNSUPPORTED_PROTOCOL]);
        assert_eq!(
            host("ftp://nc.example.com"),
            vec![msg::HOST_UNSUPPORTED_PROTOCOL]
        );
        assert_eq!(host(""), vec![msg::HOST_UNSUPPORTED_PROTOCOL]);
        assert_eq!(host("https://"), vec![msg::HOST_INVALID_URL]);
        assert_eq!(host("http://nc.example.com"), vec![msg::HOST_NOT_SECURE]);
        assert_eq!(host("http://10.0.0.1"), vec![msg::HOST_NOT_SECURE]);
        let long = format!("https://{}.com", "a".repeat(250));
        assert_eq!(host(&long), vec![msg::HOST_TOO_LONG]);
    }

    #[test]
    fn every_local_rule_collects() {
        let messages = messages_for(
            json!({"name": "", "_links": {"type": {"href": "urn:openproject-org:api:v3:storages:OneDrive"},
                   "origin": {"href": "ftp://x"},
                   "authenticationMethod": {"href": "urn:openproject-org:api:v3:storages:authenticationMethod:OAuth2SSO"}}}),
            true,
        );
        assert_eq!(
            messages,
            vec![
                msg::PROVIDER_TYPE_INVALID,
                msg::NAME_BLANK,
                msg::HOST_UNSUPPORTED_PROTOCOL,
                msg::AUTHENTICATION_METHOD_INVALID
            ]
        );
        let too_long = messages_for(
            json!({"name": "x".repeat(256), "_links": {"type": {"href": PROVIDER_NEXTCLOUD}, "origin": {"href": "https://a"}}}),
            true,
        );
        assert_eq!(too_long, vec![msg::NAME_TOO_LONG]);
    }

    #[test]
    fn provider_type_is_read_only_on_update() {
        assert!(messages_for(
            json!({"name": "n", "_links": {"origin": {"href": "https://a"}}}),
            false
        )
        .is_empty());
        assert_eq!(
            messages_for(
                json!({"name": "n", "_links": {"origin": {"href": "https://a"}, "type": {"href": "urn:x"}}}),
                false
            ),
            vec![msg::PROVIDER_TYPE_READ_ONLY]
        );
    }

    #[test]
    fn password_changes() {
        let read = |v: Value| {
            StorageInput::from_body(&json!({"applicationPassword": v})).application_password
        };
        assert_eq!(
            read(json!("secret")),
            Some(PasswordChange::Set("secret".into()))
        );
        assert_eq!(read(json!("")), Some(PasswordChange::Clear));
        assert_eq!(read(Value::Null), Some(PasswordChange::Clear));
        assert_eq!(read(json!(5)), Some(PasswordChange::Invalid));
        assert_eq!(
            StorageInput::from_body(&json!({})).application_password,
            None
        );
    }
}
