//! The integration app's admin settings (nextcloud-openproject-app.md §1, §3): the twelve keys,
//! the validation of `/setup` and `/admin-config` bodies (§3.1, §3.3), how values are stored
//! (§3.2 step 3, the client secret sealed), and the configuration check (§3.4).

use serde_json::{Map, Value};
use service_kit::{
    crypto::{SecretBox, SecretString},
    db::AnyConnection,
};
use storage_protocol::integration_app::{
    keys, messages, APP_ID, AUTHORIZATION_METHOD_OAUTH2, SSO_PROVIDER_TYPES,
};

use crate::db::app_config;

/// A recognised setting key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    OpenprojectInstanceUrl,
    AuthorizationMethod,
    DefaultEnableNavigation,
    DefaultEnableUnifiedSearch,
    SetupProjectFolder,
    SetupAppPassword,
    TokenExchange,
    OpenprojectClientId,
    OpenprojectClientSecret,
    OidcProvider,
    TargetedAudienceClientId,
    SsoProviderType,
}

/// What `/setup` accepts for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Url,
    AuthorizationMethod,
    Boolean,
    NonEmptyString,
    SsoProviderType,
}

impl Key {
    pub const ALL: [Key; 12] = [
        Key::OpenprojectInstanceUrl,
        Key::AuthorizationMethod,
        Key::DefaultEnableNavigation,
        Key::DefaultEnableUnifiedSearch,
        Key::SetupProjectFolder,
        Key::SetupAppPassword,
        Key::TokenExchange,
        Key::OpenprojectClientId,
        Key::OpenprojectClientSecret,
        Key::OidcProvider,
        Key::TargetedAudienceClientId,
        Key::SsoProviderType,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Key::OpenprojectInstanceUrl => keys::OPENPROJECT_INSTANCE_URL,
            Key::AuthorizationMethod => keys::AUTHORIZATION_METHOD,
            Key::DefaultEnableNavigation => keys::DEFAULT_ENABLE_NAVIGATION,
            Key::DefaultEnableUnifiedSearch => keys::DEFAULT_ENABLE_UNIFIED_SEARCH,
            Key::SetupProjectFolder => keys::SETUP_PROJECT_FOLDER,
            Key::SetupAppPassword => keys::SETUP_APP_PASSWORD,
            Key::TokenExchange => keys::TOKEN_EXCHANGE,
            Key::OpenprojectClientId => keys::OPENPROJECT_CLIENT_ID,
            Key::OpenprojectClientSecret => keys::OPENPROJECT_CLIENT_SECRET,
            Key::OidcProvider => keys::OIDC_PROVIDER,
            Key::TargetedAudienceClientId => keys::TARGETED_AUDIENCE_CLIENT_ID,
            Key::SsoProviderType => keys::SSO_PROVIDER_TYPE,
        }
    }

    pub fn parse(raw: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|key| key.name() == raw)
    }

    /// The two team-folder flags are actions, never stored.
    pub fn is_action(self) -> bool {
        matches!(self, Key::SetupProjectFolder | Key::SetupAppPassword)
    }

    fn rule(self) -> Rule {
        match self {
            Key::OpenprojectInstanceUrl => Rule::Url,
            Key::AuthorizationMethod => Rule::AuthorizationMethod,
            Key::DefaultEnableNavigation
            | Key::DefaultEnableUnifiedSearch
            | Key::SetupProjectFolder
            | Key::SetupAppPassword
            | Key::TokenExchange => Rule::Boolean,
            Key::OpenprojectClientId
            | Key::OpenprojectClientSecret
            | Key::OidcProvider
            | Key::TargetedAudienceClientId => Rule::NonEmptyString,
            Key::SsoProviderType => Rule::SsoProviderType,
        }
    }
}

/// A setting's value as sent (numbers arrive as their decimal text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Text(String),
}

impl Scalar {
    /// The stored form (§3.2 step 3): strings trimmed, `true` → `"1"`, `false` and `null` → `""`.
    pub fn stored(&self) -> String {
        match self {
            Scalar::Null | Scalar::Bool(false) => String::new(),
            Scalar::Bool(true) => "1".into(),
            Scalar::Text(text) => text.trim().to_string(),
        }
    }

    fn from_json(value: Value) -> Option<Scalar> {
        match value {
            Value::Null => Some(Scalar::Null),
            Value::Bool(b) => Some(Scalar::Bool(b)),
            Value::Number(n) => Some(Scalar::Text(n.to_string())),
            Value::String(s) => Some(Scalar::Text(s)),
            Value::Array(_) | Value::Object(_) => None,
        }
    }
}

/// Validated settings in request order (each key at most once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes(Vec<(Key, Scalar)>);

impl Changes {
    /// Every key `null`: what `DELETE /setup` applies.
    pub fn reset() -> Self {
        Self(Key::ALL.into_iter().map(|k| (k, Scalar::Null)).collect())
    }

    /// Settings a service-side flow (pairing, a peer's message) applies, as given.
    pub fn of(values: impl IntoIterator<Item = (Key, Scalar)>) -> Self {
        Self(values.into_iter().collect())
    }

    pub fn get(&self, key: Key) -> Option<&Scalar> {
        self.0.iter().find_map(|(k, v)| (*k == key).then_some(v))
    }

    pub fn contains(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Key, Scalar)> {
        self.0.iter()
    }

    /// The value of a team-folder flag when it is a JSON boolean.
    pub fn flag(&self, key: Key) -> Option<bool> {
        match self.get(key) {
            Some(Scalar::Bool(b)) => Some(*b),
            _ => None,
        }
    }
}

/// Which `/setup` method a body is validated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupMethod {
    Post,
    Patch,
}

/// A refused body: the `error` message of the 400.
pub type Refusal = String;

/// The `values` object of `{"values": {…}}`; anything else is `Invalid settings.`
fn values_of(body: &[u8], allow_empty: bool) -> Result<Map<String, Value>, Refusal> {
    let invalid = || messages::INVALID_SETTINGS.to_string();
    let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid());
    };
    if body.values().any(service_kit::input::json_has_nul) {
        return Err(invalid());
    }
    match body.remove("values") {
        Some(Value::Object(values)) if allow_empty || !values.is_empty() => Ok(values),
        _ => Err(invalid()),
    }
}

/// The keys of `values` in request order; the first unknown one is refused.
fn known_keys(values: Map<String, Value>) -> Result<Vec<(Key, Value)>, Refusal> {
    values
        .into_iter()
        .map(|(name, value)| match Key::parse(&name) {
            Some(key) => Ok((key, value)),
            None => Err(messages::unknown_setting(&name)),
        })
        .collect()
}

/// Validates a `POST`/`PATCH /setup` body in the contract's order (§3.1); the first failure wins.
pub fn parse_setup(body: &[u8], method: SetupMethod) -> Result<Changes, Refusal> {
    let mut entries = known_keys(values_of(body, false)?)?;
    let value_of = |entries: &[(Key, Value)], key: Key| {
        entries
            .iter()
            .find_map(|(k, v)| (*k == key).then_some(v.clone()))
    };
    if method == SetupMethod::Post {
        if value_of(&entries, Key::AuthorizationMethod).is_none() {
            entries.push((
                Key::AuthorizationMethod,
                Value::String(AUTHORIZATION_METHOD_OAUTH2.into()),
            ));
        }
        if value_of(&entries, Key::OpenprojectInstanceUrl).is_none() {
            return Err(messages::missing_required_field(
                keys::OPENPROJECT_INSTANCE_URL,
            ));
        }
        if value_of(&entries, Key::AuthorizationMethod)
            != Some(Value::String(AUTHORIZATION_METHOD_OAUTH2.into()))
        {
            return Err(messages::INVALID_AUTHORIZATION_METHOD.into());
        }
        if let Some(missing) = keys::REQUIRED_ON_POST
            .iter()
            .find(|name| !entries.iter().any(|(k, _)| k.name() == **name))
        {
            return Err(messages::missing_required_field(missing));
        }
        if let (Some(Value::Bool(folder)), Some(Value::Bool(password))) = (
            value_of(&entries, Key::SetupProjectFolder),
            value_of(&entries, Key::SetupAppPassword),
        ) {
            if folder != password {
                return Err(messages::INVALID_TEAM_FOLDER_SETUP.into());
            }
        }
    }
    entries
        .into_iter()
        .map(|(key, value)| Ok((key, strict_value(key, value)?)))
        .collect::<Result<_, Refusal>>()
        .map(Changes)
}

/// One value of a `/setup` body against the table of §3.1 (`null` and `""` never pass).
fn strict_value(key: Key, value: Value) -> Result<Scalar, Refusal> {
    let invalid = || messages::invalid_value(key.name());
    match (key.rule(), value) {
        (Rule::Url, Value::String(url)) if !url.trim().is_empty() => {
            if is_valid_openproject_url(url.trim()) {
                Ok(Scalar::Text(url))
            } else {
                Err(messages::INVALID_OPENPROJECT_URL.into())
            }
        }
        (Rule::Url, _) => Err(invalid()),
        (Rule::AuthorizationMethod, Value::String(method))
            if method == AUTHORIZATION_METHOD_OAUTH2 =>
        {
            Ok(Scalar::Text(method))
        }
        (Rule::AuthorizationMethod, _) => Err(messages::INVALID_AUTHORIZATION_METHOD.into()),
        (Rule::Boolean, Value::Bool(b)) => Ok(Scalar::Bool(b)),
        (Rule::NonEmptyString, Value::String(text)) if !text.trim().is_empty() => {
            Ok(Scalar::Text(text))
        }
        (Rule::SsoProviderType, Value::String(kind)) if SSO_PROVIDER_TYPES.contains(&&*kind) => {
            Ok(Scalar::Text(kind))
        }
        _ => Err(invalid()),
    }
}

/// Validates a `PUT /admin-config` body (§3.3): known keys, any scalar value.
pub fn parse_admin_config(body: &[u8]) -> Result<Changes, Refusal> {
    known_keys(values_of(body, true)?)?
        .into_iter()
        .map(|(key, value)| {
            Scalar::from_json(value)
                .map(|scalar| (key, scalar))
                .ok_or_else(|| messages::invalid_value(key.name()))
        })
        .collect::<Result<_, Refusal>>()
        .map(Changes)
}

/// An absolute `http`/`https` URL with a host, written as such: `scheme://host…` (the URL
/// standard would also repair `https:///host` or `http:\\host`, which PHP's validation, and so
/// the real app, refuses).
pub fn is_valid_openproject_url(raw: &str) -> bool {
    let lower = raw.to_ascii_lowercase();
    let written_with_authority = ["http://", "https://"].iter().any(|prefix| {
        lower
            .strip_prefix(prefix)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c != '/' && c != '\\')
    });
    written_with_authority
        && url::Url::parse(raw).is_ok_and(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|h| !h.is_empty())
        })
}

/// The stored admin settings this service acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSettings {
    /// Trimmed; `""` when unset.
    pub openproject_instance_url: String,
    pub authorization_method: String,
    pub openproject_client_id: String,
    /// `""` when unset, or when the stored value cannot be opened with this key.
    pub openproject_client_secret: SecretString,
    /// The internal id of the Nextcloud OAuth client for OpenProject.
    pub nc_oauth_client_id: Option<i64>,
    /// True on a new install and after a reset.
    pub fresh_project_folder_setup: bool,
}

impl AdminSettings {
    pub fn load(conn: &mut AnyConnection, secret_box: &SecretBox) -> diesel::QueryResult<Self> {
        let stored = app_config::all(conn, APP_ID)?;
        let get = |key: &str| {
            stored
                .iter()
                .find_map(|(k, v)| (k == key).then(|| v.clone()))
        };
        let secret = match get(keys::OPENPROJECT_CLIENT_SECRET).filter(|s| !s.is_empty()) {
            None => String::new(),
            Some(sealed) => secret_box.open(&sealed).unwrap_or_else(|_| {
                // Treated as unset: the check reports the setup incomplete, and the next value
                // an admin enters replaces it.
                tracing::warn!(
                    "the stored OpenProject client secret cannot be decrypted (was NCOA_SECRET_KEY changed?)"
                );
                String::new()
            }),
        };
        Ok(Self {
            openproject_instance_url: get(keys::OPENPROJECT_INSTANCE_URL).unwrap_or_default(),
            authorization_method: get(keys::AUTHORIZATION_METHOD).unwrap_or_default(),
            openproject_client_id: get(keys::OPENPROJECT_CLIENT_ID).unwrap_or_default(),
            openproject_client_secret: SecretString::new(secret),
            nc_oauth_client_id: get(keys::NC_OAUTH_CLIENT_ID).and_then(|id| id.parse().ok()),
            // Absent counts as fresh: the migration seeds "1", a reset writes it again.
            fresh_project_folder_setup: get(keys::FRESH_PROJECT_FOLDER_SETUP)
                .is_none_or(|v| v == "1"),
        })
    }

    /// `config_status_without_project_folder` (§3.4), given whether the client exists.
    pub fn is_complete(&self, nextcloud_client_exists: bool) -> bool {
        is_valid_openproject_url(&self.openproject_instance_url)
            && !self.fresh_project_folder_setup
            && matches!(
                self.authorization_method.as_str(),
                "" | AUTHORIZATION_METHOD_OAUTH2
            )
            && !self.openproject_client_id.is_empty()
            && !self.openproject_client_secret.expose().is_empty()
            && nextcloud_client_exists
    }
}

/// Stores one setting in its stored form; the client secret sealed.
pub fn store(
    conn: &mut AnyConnection,
    secret_box: &SecretBox,
    key: Key,
    value: &Scalar,
) -> diesel::QueryResult<()> {
    let mut stored = value.stored();
    if key == Key::OpenprojectClientSecret && !stored.is_empty() {
        stored = secret_box.seal(&stored);
    }
    app_config::set(conn, APP_ID, key.name(), &stored)
}

pub fn set_fresh_project_folder_setup(
    conn: &mut AnyConnection,
    fresh: bool,
) -> diesel::QueryResult<()> {
    let value = if fresh { "1" } else { "0" };
    app_config::set(conn, APP_ID, keys::FRESH_PROJECT_FOLDER_SETUP, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use service_kit::crypto::SecretKey;

    fn body(values: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({ "values": values })).unwrap()
    }

    fn complete() -> Value {
        json!({
            "openproject_instance_url": "https://op.example",
            "openproject_client_id": "id",
            "openproject_client_secret": "secret",
            "default_enable_navigation": false,
            "default_enable_unified_search": true,
            "setup_project_folder": false,
            "setup_app_password": false
        })
    }

    fn post(values: Value) -> Result<Changes, Refusal> {
        parse_setup(&body(values), SetupMethod::Post)
    }

    fn patch(values: Value) -> Result<Changes, Refusal> {
        parse_setup(&body(values), SetupMethod::Patch)
    }

    #[test]
    fn bodies_that_are_not_values_objects_are_invalid_settings() {
        for raw in [
            &b"{oops"[..],
            b"",
            b"[]",
            b"\"values\"",
            b"{}",
            b"{\"values\": null}",
            b"{\"values\": []}",
            b"{\"values\": \"x\"}",
            b"{\"values\": {}}",
        ] {
            assert_eq!(
                parse_setup(raw, SetupMethod::Patch).unwrap_err(),
                "Invalid settings."
            );
        }
        assert_eq!(
            parse_admin_config(b"{\"values\": {}}").unwrap(),
            Changes(vec![])
        );
        assert_eq!(parse_admin_config(b"{}").unwrap_err(), "Invalid settings.");
    }

    #[test]
    fn post_adds_the_authorization_method_and_keeps_request_order() {
        let changes = post(complete()).unwrap();
        let order: Vec<_> = changes.iter().map(|(k, _)| k.name()).collect();
        assert_eq!(order.first(), Some(&"openproject_instance_url"));
        assert_eq!(order.last(), Some(&"authorization_method"));
        assert_eq!(
            changes.get(Key::AuthorizationMethod),
            Some(&Scalar::Text("oauth2".into()))
        );
        // PATCH adds nothing.
        let changes = patch(json!({"token_exchange": true})).unwrap();
        assert_eq!(
            changes,
            Changes(vec![(Key::TokenExchange, Scalar::Bool(true))])
        );
    }

    #[test]
    fn precedence_of_the_checks() {
        // Unknown keys before anything else, the first in request order.
        let mut values = complete();
        values["zzz"] = json!(1);
        values["aaa"] = json!(1);
        values["openproject_instance_url"] = json!(null);
        assert_eq!(post(values).unwrap_err(), "Unknown setting: zzz");
        // The URL's absence before an invalid authorization method.
        assert_eq!(
            post(json!({"authorization_method": "oidc"})).unwrap_err(),
            "Missing required field: openproject_instance_url"
        );
        assert_eq!(
            post(json!({"openproject_instance_url": null, "authorization_method": null}))
                .unwrap_err(),
            "Invalid authorization method."
        );
        // Missing fields in the contract's order, whatever the request order; null is present.
        assert_eq!(
            post(json!({"openproject_client_secret": "s", "openproject_instance_url": 5}))
                .unwrap_err(),
            "Missing required field: default_enable_navigation"
        );
        let mut values = complete();
        values
            .as_object_mut()
            .unwrap()
            .remove("openproject_client_id");
        values["default_enable_navigation"] = json!(null);
        assert_eq!(
            post(values).unwrap_err(),
            "Missing required field: openproject_client_id"
        );
        // Team-folder consistency before the per-key checks.
        let mut values = complete();
        values["openproject_instance_url"] = json!("nope");
        values["setup_app_password"] = json!(true);
        assert_eq!(
            post(values).unwrap_err(),
            "Invalid team folder setup configuration: Both \"setup_project_folder\" and \"setup_app_password\" must be either true or false."
        );
        // Then each key in request order.
        let mut values = complete();
        values["openproject_instance_url"] = json!("ftp://op.example");
        values["default_enable_navigation"] = json!("yes");
        assert_eq!(post(values).unwrap_err(), "Invalid OpenProject URL.");
        assert_eq!(
            patch(json!({"default_enable_navigation": "yes", "openproject_instance_url": "x"}))
                .unwrap_err(),
            "Invalid value for setting: default_enable_navigation"
        );
        // PATCH has no team-folder consistency rule.
        assert!(patch(json!({"setup_project_folder": true, "setup_app_password": false})).is_ok());
    }

    #[test]
    fn null_and_empty_strings_are_refused_for_every_key() {
        for key in Key::ALL {
            let expected = match key {
                Key::AuthorizationMethod => "Invalid authorization method.".to_string(),
                _ => format!("Invalid value for setting: {}", key.name()),
            };
            for value in [json!(null), json!(""), json!({}), json!([])] {
                let mut values = serde_json::Map::new();
                values.insert(key.name().into(), value.clone());
                assert_eq!(
                    patch(Value::Object(values)).unwrap_err(),
                    expected,
                    "{key:?} = {value}"
                );
            }
        }
    }

    #[test]
    fn valid_values() {
        assert!(patch(json!({"openproject_instance_url": " http://h:8080/op/ "})).is_ok());
        assert!(patch(json!({"sso_provider_type": "external"})).is_ok());
        assert_eq!(
            patch(json!({"sso_provider_type": "internal"})).unwrap_err(),
            "Invalid value for setting: sso_provider_type"
        );
        assert_eq!(
            patch(json!({"openproject_client_id": "   "})).unwrap_err(),
            "Invalid value for setting: openproject_client_id"
        );
        for url in [
            "https:///x",
            "http:\\\\x",
            "mailto:a@b",
            "op.example",
            "//op.example",
            "http://",
            " http://x",
        ] {
            assert!(!is_valid_openproject_url(url), "{url}");
        }
    }

    #[test]
    fn admin_config_takes_any_scalar() {
        let changes = parse_admin_config(&body(json!({
            "openproject_instance_url": null, "authorization_method": "",
            "default_enable_navigation": 1, "token_exchange": true
        })))
        .unwrap();
        let stored: Vec<_> = changes.iter().map(|(_, v)| v.stored()).collect();
        assert_eq!(stored, ["", "", "1", "1"]);
        assert_eq!(
            parse_admin_config(&body(json!({"nope": {}, "token_exchange": []}))).unwrap_err(),
            "Unknown setting: nope"
        );
        assert_eq!(
            parse_admin_config(&body(json!({"token_exchange": []}))).unwrap_err(),
            "Invalid value for setting: token_exchange"
        );
    }

    #[test]
    fn the_secret_is_sealed_and_settings_load_back() {
        let (_database, db) = crate::db::test_db();
        let conn = &mut db.get().unwrap();
        let key = SecretKey::generate();
        let fresh = AdminSettings::load(conn, &key.secret_box()).unwrap();
        assert!(fresh.fresh_project_folder_setup);
        assert_eq!(fresh.openproject_client_secret.expose(), "");

        let secret = Scalar::Text(" s3cret ".into());
        store(
            conn,
            &key.secret_box(),
            Key::OpenprojectClientSecret,
            &secret,
        )
        .unwrap();
        let raw = app_config::get(conn, APP_ID, "openproject_client_secret")
            .unwrap()
            .unwrap();
        assert!(raw.starts_with("v1.") && !raw.contains("s3cret"));
        let loaded = AdminSettings::load(conn, &key.secret_box()).unwrap();
        assert_eq!(loaded.openproject_client_secret.expose(), "s3cret");
        // Another key cannot open it: the secret reads as unset.
        let other = AdminSettings::load(conn, &SecretKey::generate().secret_box()).unwrap();
        assert_eq!(other.openproject_client_secret.expose(), "");
    }
}
