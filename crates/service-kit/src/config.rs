//! Layered configuration: an optional TOML file, then `<PREFIX>_*` environment variables (the
//! environment wins). Values are read as strings and parsed by the service with [`Source::parse`],
//! so every error names the environment variable the administrator has to fix.

use std::{fmt, net::SocketAddr, path::Path, str::FromStr};

use config::{Config, Environment, File, FileFormat};

/// A configuration problem, printed as one line naming the variable; the binaries exit with 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The merged configuration sources of one service.
/// A service's settings: its variables under [`ServiceSettings::PREFIX`], the common ones
/// among them.
pub trait ServiceSettings: Sized {
    /// The prefix of the service's environment variables (`OPS`, `NCOA`).
    const PREFIX: &'static str;

    fn from_source(source: &Source) -> Result<Self, ConfigError>;

    fn common(&self) -> &CommonSettings;

    /// The settings of a deployment: `file` (when given), then the environment.
    fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::from_source(&Source::load(Self::PREFIX, file)?)
    }
}

pub struct Source {
    prefix: &'static str,
    config: Config,
}

impl Source {
    /// Reads `file` (when given) and the environment variables starting with `<prefix>_`.
    pub fn load(prefix: &'static str, file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut builder = Config::builder();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError {
                    variable: "--config".into(),
                    message: format!("file {} does not exist", path.display()),
                });
            }
            builder = builder.add_source(File::from(path).format(FileFormat::Toml));
        }
        builder = builder.add_source(Environment::with_prefix(prefix).prefix_separator("_"));
        let config = builder.build().map_err(|e| ConfigError {
            variable: file.map_or_else(|| format!("{prefix}_*"), |p| p.display().to_string()),
            message: e.to_string(),
        })?;
        Ok(Self { prefix, config })
    }

    /// A source from explicit key/value pairs, for tests that build their configuration in code.
    pub fn from_pairs<'a>(
        prefix: &'static str,
        pairs: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Self {
        let mut builder = Config::builder();
        for (key, value) in pairs {
            builder = builder
                .set_override(key.to_ascii_lowercase(), value)
                .expect("a string key is always a valid override");
        }
        let config = builder
            .build()
            .expect("string overrides always build a configuration");
        Self { prefix, config }
    }

    /// The environment variable name of `key` (`listen` → `OPS_LISTEN`).
    pub fn variable(&self, key: &str) -> String {
        format!("{}_{}", self.prefix, key.to_ascii_uppercase())
    }

    /// The raw value of `key`, `None` when unset or blank.
    pub fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.config.get_string(&key.to_ascii_lowercase()) {
            Ok(value) if value.trim().is_empty() => Ok(None),
            Ok(value) => Ok(Some(value)),
            Err(config::ConfigError::NotFound(_)) => Ok(None),
            Err(e) => Err(self.error(key, e.to_string())),
        }
    }

    /// Parses `key` with `parse`, naming the variable in the error.
    pub fn parse<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.string(key)? {
            None => Ok(None),
            Some(raw) => parse(raw.trim()).map(Some).map_err(|m| self.error(key, m)),
        }
    }

    pub fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            variable: self.variable(key),
            message: message.into(),
        }
    }
}

/// `true/false/1/0/yes/no/on/off`, case-insensitive.
pub fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true or false, got '{raw}'")),
    }
}

pub fn parse_socket_addr(raw: &str) -> Result<SocketAddr, String> {
    SocketAddr::from_str(raw)
        .map_err(|_| format!("expected an address like 127.0.0.1:8080, got '{raw}'"))
}

pub fn parse_u64(raw: &str) -> Result<u64, String> {
    raw.parse()
        .map_err(|_| format!("expected a non-negative integer, got '{raw}'"))
}

/// An absolute http(s) URL, returned without trailing `/` (README §5.3 of the contract).
pub fn parse_public_url(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("not a valid URL ({e}): '{raw}'"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "expected an absolute http or https URL, got '{raw}'"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("must not carry a query or fragment: '{raw}'"));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// Common settings every service has, read from `<PREFIX>_*`.
#[derive(Clone)]
pub struct CommonSettings {
    pub listen: SocketAddr,
    /// Without trailing `/`; `None` means "derive from the bound address".
    pub public_url: Option<String>,
    pub database_url: crate::db::DatabaseUrl,
    pub admin_username: String,
    pub admin_password: Option<crate::crypto::SecretString>,
    pub secret_key: Option<crate::crypto::SecretKey>,
    pub log: crate::telemetry::LogSettings,
    /// Largest JSON or form request body.
    pub max_body_bytes: usize,
    /// Failed-login throttling; not configurable from the environment, tests tighten it.
    pub throttle: crate::auth::ThrottlePolicy,
    /// Peers whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`); empty by default.
    pub trusted_proxies: crate::client_address::TrustedProxies,
    /// The longest wait between two attempts to deliver a message to the paired service
    /// (`PEER_RETRY_MAX_SECS`, default 300); the waits double up to it.
    pub peer_retry_max: std::time::Duration,
}

impl fmt::Debug for CommonSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommonSettings")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("database_url", &self.database_url)
            .field("admin_username", &self.admin_username)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

/// The contract refuses JSON and form bodies above 1 MiB with 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

impl CommonSettings {
    /// Reads `LISTEN`, `PUBLIC_URL`, `DATABASE_URL`, `ADMIN_USERNAME`, `ADMIN_PASSWORD`,
    /// `SECRET_KEY`, `LOG`, `LOG_FORMAT`, `MAX_BODY_BYTES`, `TRUSTED_PROXIES` (networks in
    /// CIDR notation or single addresses, separated by commas or spaces, whose
    /// `X-Forwarded-For` is believed; default none) and `PEER_RETRY_MAX_SECS` under the source's
    /// prefix.
    pub fn from_source(
        source: &Source,
        default_listen: &str,
        default_sqlite_file: &str,
    ) -> Result<Self, ConfigError> {
        let listen = source
            .parse("listen", parse_socket_addr)?
            .unwrap_or_else(|| default_listen.parse().expect("default address is valid"));
        let database_url = source
            .parse("database_url", crate::db::DatabaseUrl::parse)?
            .unwrap_or_else(|| {
                crate::db::DatabaseUrl::Sqlite(Path::new("data").join(default_sqlite_file))
            });
        Ok(Self {
            listen,
            public_url: source.parse("public_url", parse_public_url)?,
            database_url,
            admin_username: source
                .string("admin_username")?
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|| "admin".into()),
            admin_password: source
                .string("admin_password")?
                .map(crate::crypto::SecretString::new),
            secret_key: source.parse("secret_key", crate::crypto::SecretKey::from_base64)?,
            log: crate::telemetry::LogSettings {
                filter: source.string("log")?.unwrap_or_else(|| "info".into()),
                json: source
                    .parse("log_format", |raw| match raw {
                        "json" => Ok(true),
                        "human" | "text" => Ok(false),
                        _ => Err(format!("expected 'human' or 'json', got '{raw}'")),
                    })?
                    .unwrap_or(false),
            },
            max_body_bytes: source
                .parse("max_body_bytes", parse_u64)?
                .map(|n| n as usize)
                .unwrap_or(DEFAULT_MAX_BODY_BYTES),
            throttle: crate::auth::ThrottlePolicy::default(),
            trusted_proxies: source
                .parse(
                    "trusted_proxies",
                    crate::client_address::TrustedProxies::parse,
                )?
                .unwrap_or_default(),
            peer_retry_max: std::time::Duration::from_secs(
                source
                    .parse("peer_retry_max_secs", parse_u64)?
                    .filter(|secs| *secs > 0)
                    .unwrap_or(DEFAULT_PEER_RETRY_MAX_SECS),
            ),
        })
    }
}

/// Five minutes between attempts at most: a peer back from an outage hears within that.
pub const DEFAULT_PEER_RETRY_MAX_SECS: u64 = 300;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_variable() {
        let source = Source::from_pairs("OPS", [("listen", "nope".to_string())]);
        let err = CommonSettings::from_source(&source, "127.0.0.1:8080", "x.db").unwrap_err();
        assert_eq!(err.variable, "OPS_LISTEN");
        assert!(err
            .to_string()
            .starts_with("OPS_LISTEN: expected an address"));
    }

    #[test]
    fn public_url_loses_its_trailing_slash() {
        assert_eq!(
            parse_public_url("http://op.example/").unwrap(),
            "http://op.example"
        );
        assert!(parse_public_url("ftp://op.example").is_err());
        assert!(parse_public_url("op.example").is_err());
    }

    #[test]
    fn defaults_apply() {
        let source = Source::from_pairs("NCOA", []);
        let s = CommonSettings::from_source(&source, "127.0.0.1:8081", "nc.db").unwrap();
        assert_eq!(s.listen.port(), 8081);
        assert_eq!(s.admin_username, "admin");
        assert_eq!(s.max_body_bytes, 1024 * 1024);
        assert_eq!(s.trusted_proxies, Default::default());
    }

    #[test]
    fn trusted_proxies_are_read_and_checked() {
        let source = Source::from_pairs("OPS", [("trusted_proxies", "10.0.0.0/8, ::1".into())]);
        let s = CommonSettings::from_source(&source, "127.0.0.1:8080", "x.db").unwrap();
        assert!(s.trusted_proxies.contains("10.2.3.4".parse().unwrap()));
        assert!(s.trusted_proxies.contains("::1".parse().unwrap()));
        let source = Source::from_pairs("OPS", [("trusted_proxies", "10.0.0.0/40".into())]);
        let err = CommonSettings::from_source(&source, "127.0.0.1:8080", "x.db").unwrap_err();
        assert_eq!(err.variable, "OPS_TRUSTED_PROXIES");
    }
}
