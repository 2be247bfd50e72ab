//! Which database a service talks to: a SQLite file or a PostgreSQL server, named by URL.

use std::{
    fmt,
    path::{Path, PathBuf},
};

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            // The URL may carry a password.
            Self::Postgres(_) => f.write_str("postgres://***"),
        }
    }
}

impl DatabaseUrl {
    /// `sqlite://PATH` (relative, or absolute as `sqlite:///var/lib/op.db`), `sqlite:PATH`, or
    /// `postgres://…` / `postgresql://…`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if rest.is_empty() {
                return Err("sqlite URL without a file path".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(rest)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        Err("expected sqlite://PATH or postgres://… "
            .trim_end()
            .to_string())
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// `path` with `suffix` appended to its file name: the files kept beside a SQLite database.
pub(crate) fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/op.db").unwrap(),
            DatabaseUrl::Sqlite("data/op.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/op.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/op.db".into())
        );
        assert!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap() != DatabaseUrl::Sqlite("x".into())
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn debug_hides_postgres_credentials() {
        let url = DatabaseUrl::parse("postgres://user:pw@host/db").unwrap();
        assert_eq!(format!("{url:?}"), "postgres://***");
    }
}
