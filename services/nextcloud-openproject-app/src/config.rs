//! Settings of the Nextcloud side, read from an optional TOML file and `NCOA_*` variables
//! (the environment wins).
//!
//! Besides the common variables of [`CommonSettings::from_source`] (`NCOA_LISTEN` default
//! `127.0.0.1:8081`, `NCOA_PUBLIC_URL`, `NCOA_DATABASE_URL` default `sqlite://data/nextcloud.db`,
//! `NCOA_ADMIN_USERNAME`, `NCOA_ADMIN_PASSWORD`, `NCOA_SECRET_KEY`, `NCOA_LOG`, `NCOA_LOG_FORMAT`,
//! `NCOA_MAX_BODY_BYTES`, and `NCOA_TRUSTED_PROXIES`: reverse proxies whose `X-Forwarded-For`
//! names the client for throttling, a list of CIDR networks or addresses separated by commas or
//! spaces, default empty):
//!
//! - `NCOA_ALLOW_LOCAL_REMOTE_SERVERS` (bool, default `false`): let `is-valid-op-instance` and
//!   every call to OpenProject (tokens, API) reach loopback, private, link-local and other
//!   non-public addresses (`service_kit::outbound`);
//! - `NCOA_MAX_UPLOAD_BYTES` (default 512 MiB): the largest WebDAV `PUT` or upload;
//! - `NCOA_DATA_DIR`: where file contents live (metadata is in the database). Default: the
//!   folder `nextcloud-files` beside the SQLite file, or `./data/nextcloud-files` with
//!   PostgreSQL. Replicas on one database must share it.

use std::path::{Path, PathBuf};

use service_kit::{
    config::{parse_bool, parse_u64, CommonSettings, ConfigError, ServiceSettings, Source},
    db::DatabaseUrl,
};

pub const PREFIX: &str = "NCOA";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8081";
pub const DEFAULT_SQLITE_FILE: &str = "nextcloud.db";
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 512 * 1024 * 1024;
pub const DEFAULT_DATA_DIR_NAME: &str = "nextcloud-files";

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    pub allow_local_remote_servers: bool,
    pub max_upload_bytes: u64,
    /// File contents, named by random keys (never by user paths).
    pub data_dir: PathBuf,
}

impl ServiceSettings for Settings {
    const PREFIX: &'static str = PREFIX;

    fn common(&self) -> &CommonSettings {
        &self.common
    }

    fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let common = CommonSettings::from_source(source, DEFAULT_LISTEN, DEFAULT_SQLITE_FILE)?;
        let data_dir = match source.string("data_dir")? {
            Some(dir) => PathBuf::from(dir.trim()),
            None => default_data_dir(&common.database_url),
        };
        Ok(Self {
            common,
            data_dir,
            allow_local_remote_servers: source
                .parse("allow_local_remote_servers", parse_bool)?
                .unwrap_or(false),
            max_upload_bytes: source
                .parse("max_upload_bytes", parse_u64)?
                .unwrap_or(DEFAULT_MAX_UPLOAD_BYTES),
        })
    }
}

/// Beside the SQLite file, else `./data/nextcloud-files`.
fn default_data_dir(database: &DatabaseUrl) -> PathBuf {
    match database {
        DatabaseUrl::Sqlite(file) => file
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(DEFAULT_DATA_DIR_NAME),
        DatabaseUrl::Postgres(_) => Path::new("data").join(DEFAULT_DATA_DIR_NAME),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let settings = Settings::from_source(&Source::from_pairs(PREFIX, [])).unwrap();
        assert_eq!(settings.common.listen.port(), 8081);
        assert!(!settings.allow_local_remote_servers);
        assert_eq!(settings.max_upload_bytes, 512 * 1024 * 1024);
        assert_eq!(settings.data_dir, Path::new("data/nextcloud-files"));
        let postgres = Source::from_pairs(PREFIX, [("database_url", "postgres://db/x".into())]);
        let settings = Settings::from_source(&postgres).unwrap();
        assert_eq!(settings.data_dir, Path::new("data/nextcloud-files"));
        let explicit = Source::from_pairs(PREFIX, [("data_dir", "/srv/files".into())]);
        let settings = Settings::from_source(&explicit).unwrap();
        assert_eq!(settings.data_dir, Path::new("/srv/files"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let source = Source::from_pairs(PREFIX, [("allow_local_remote_servers", "maybe".into())]);
        let err = Settings::from_source(&source).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("NCOA_ALLOW_LOCAL_REMOTE_SERVERS: "));
        let source = Source::from_pairs(PREFIX, [("max_upload_bytes", "-1".into())]);
        assert_eq!(
            Settings::from_source(&source).unwrap_err().variable,
            "NCOA_MAX_UPLOAD_BYTES"
        );
    }
}
