//! Settings of openproject-storages: an optional TOML file, then `OPS_*` environment variables.
//!
//! | Variable | Meaning | Default |
//! |---|---|---|
//! | `OPS_LISTEN` | address to bind | `127.0.0.1:8080` |
//! | `OPS_PUBLIC_URL` | URL peers and browsers use, without trailing `/` | `http://<bound address>` |
//! | `OPS_DATABASE_URL` | `sqlite://PATH` or `postgres://…` | `sqlite://data/openproject.db` |
//! | `OPS_ADMIN_USERNAME`, `OPS_ADMIN_PASSWORD` | admin created at first start | `admin`, generated |
//! | `OPS_SECRET_KEY` | 32 bytes base64: encryption at rest and signing | kept beside the SQLite file |
//! | `OPS_INSTANCE_NAME` | `instanceName` of the API root | `OpenProject` |
//! | `OPS_LOG`, `OPS_LOG_FORMAT` | env-filter directive; `human` or `json` | `info`, `human` |
//! | `OPS_MAX_BODY_BYTES` | largest JSON/form request body | 1 MiB |
//! | `OPS_TRUSTED_PROXIES` | proxies whose `X-Forwarded-For` names the client (CIDR list, commas or spaces) | empty |
//! | `OPS_ALLOW_LOCAL_REMOTE_SERVERS` | let the calls to Nextcloud (storage host check, health, files, tokens) reach loopback, private, link-local and other non-public addresses (`service_kit::outbound`) | `false` |

use service_kit::config::{parse_bool, CommonSettings, ConfigError, ServiceSettings, Source};

pub const PREFIX: &str = "OPS";

#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    pub instance_name: String,
    /// Read timeout of user-bound calls to Nextcloud (§12: 10 s); tests shorten it.
    pub nextcloud_read_timeout: std::time::Duration,
    /// `OPS_ALLOW_LOCAL_REMOTE_SERVERS`: Nextcloud may be on a non-public address.
    pub allow_local_remote_servers: bool,
}

impl ServiceSettings for Settings {
    const PREFIX: &'static str = PREFIX;

    fn common(&self) -> &CommonSettings {
        &self.common
    }

    fn from_source(source: &Source) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonSettings::from_source(source, "127.0.0.1:8080", "openproject.db")?,
            instance_name: source
                .string("instance_name")?
                .unwrap_or_else(|| storage_protocol::openproject::DEFAULT_INSTANCE_NAME.into()),
            nextcloud_read_timeout: std::time::Duration::from_secs(10),
            allow_local_remote_servers: source
                .parse("allow_local_remote_servers", parse_bool)?
                .unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_remote_servers_are_refused_unless_allowed() {
        let settings = Settings::from_source(&Source::from_pairs(PREFIX, [])).unwrap();
        assert!(!settings.allow_local_remote_servers);
        let allowed = Source::from_pairs(PREFIX, [("allow_local_remote_servers", "true".into())]);
        assert!(
            Settings::from_source(&allowed)
                .unwrap()
                .allow_local_remote_servers
        );
        let bad = Source::from_pairs(PREFIX, [("allow_local_remote_servers", "maybe".into())]);
        assert!(Settings::from_source(&bad)
            .unwrap_err()
            .to_string()
            .starts_with("OPS_ALLOW_LOCAL_REMOTE_SERVERS: "));
    }
}
