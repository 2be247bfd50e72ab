//! Shared pieces of the host-model resources: their error, link parsing, in-memory paging.

use serde_json::Value;
use storage_protocol::hal::{Collection, HalError, Paging};

use super::filters::InvalidQuery;

/// Failures of host-model operations, each with its contract response.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("invalid")]
    Invalid(Vec<HalError>),
    /// A single contract error that wins over attribute errors (404, 403, 409, 422 format …).
    #[error("{0:?}")]
    Hal(Box<HalError>),
    #[error("not found")]
    NotFound,
    #[error("missing permission")]
    Forbidden,
    #[error("invalid query")]
    InvalidQuery,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<InvalidQuery> for HostError {
    fn from(_: InvalidQuery) -> Self {
        Self::InvalidQuery
    }
}

impl From<service_kit::db::DbError> for HostError {
    fn from(e: service_kit::db::DbError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// The id at the end of an API href with this collection prefix
/// (`/api/v3/projects/` → `/api/v3/projects/12` → 12).
pub fn id_from_href(href: &str, prefix: &str) -> Option<i64> {
    let rest = href.strip_prefix(prefix)?;
    rest.parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && rest.bytes().all(|b| b.is_ascii_digit()))
}

/// `_links.<name>.href` as a string, `None` when absent, null or not a string.
pub fn href_of<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get("_links")?.get(name)?.get("href")?.as_str()
}

/// One page of an in-memory list (the host model is small).
pub fn page<T>(paging: &Paging, self_href: &str, all: Vec<T>) -> Collection<T> {
    let total = all.len() as u64;
    let skip = (paging.page.saturating_sub(1)).saturating_mul(paging.page_size) as usize;
    let elements: Vec<T> = all
        .into_iter()
        .skip(skip)
        .take(paging.page_size as usize)
        .collect();
    paging.collection(self_href, total, elements)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs() {
        assert_eq!(
            id_from_href("/api/v3/projects/12", "/api/v3/projects/"),
            Some(12)
        );
        assert_eq!(
            id_from_href("/api/v3/projects/x", "/api/v3/projects/"),
            None
        );
        assert_eq!(id_from_href("/api/v3/users/1", "/api/v3/projects/"), None);
        assert_eq!(
            id_from_href("/api/v3/projects/+1", "/api/v3/projects/"),
            None
        );
    }
}
