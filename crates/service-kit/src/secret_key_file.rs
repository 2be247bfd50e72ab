//! The secret key's file: generated at first start beside a SQLite database.

use std::{
    fs::{self, OpenOptions},
    io::Write,
    path::Path,
};

use crate::{
    config::ConfigError,
    crypto::SecretKey,
    db::{beside, DatabaseUrl},
};

/// The secret key: the configured one, or with SQLite one generated at first start and kept
/// beside the database file (`<db>.key`, mode 0600). PostgreSQL deployments must configure it,
/// since replicas share it.
pub fn resolve_secret_key(
    configured: Option<SecretKey>,
    url: &DatabaseUrl,
    variable: &str,
) -> Result<SecretKey, ConfigError> {
    if let Some(key) = configured {
        return Ok(key);
    }
    let error = |message: String| ConfigError {
        variable: variable.to_string(),
        message,
    };
    match url {
        DatabaseUrl::Postgres(_) => Err(error(
            "required with PostgreSQL (every replica needs the same key): set it to `openssl rand -base64 32`"
                .into(),
        )),
        DatabaseUrl::Sqlite(path) => {
            let key_path = beside(path, ".key");
            if let Ok(existing) = fs::read_to_string(&key_path) {
                return SecretKey::from_base64(&existing)
                    .map_err(|m| error(format!("{}: {m}", key_path.display())));
            }
            if let Some(parent) = key_path.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent).map_err(|e| error(format!("{}: {e}", parent.display())))?;
            }
            let key = SecretKey::generate();
            write_private(&key_path, &key.to_base64())
                .map_err(|e| error(format!("cannot write {}: {e}", key_path.display())))?;
            Ok(key)
        }
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_is_generated_once_beside_the_sqlite_file() {
        let dir = std::env::temp_dir().join(format!("kit-key-{}", uuid::Uuid::new_v4()));
        let url = DatabaseUrl::Sqlite(dir.join("x.db"));
        let first = resolve_secret_key(None, &url, "OPS_SECRET_KEY").unwrap();
        let second = resolve_secret_key(None, &url, "OPS_SECRET_KEY").unwrap();
        assert_eq!(first.to_base64(), second.to_base64());
        let pg = DatabaseUrl::parse("postgres://h/db").unwrap();
        let err = resolve_secret_key(None, &pg, "OPS_SECRET_KEY").unwrap_err();
        assert_eq!(err.variable, "OPS_SECRET_KEY");
        fs::remove_dir_all(dir).unwrap();
    }
}
