//! The search page's file results: names in the user's own tree containing the query.

use service_kit::db::AnyConnection;

use super::files::{self, FileError};
use crate::db::file_nodes;

/// At most this many files are listed.
pub const MAX_FILE_RESULTS: usize = 50;

/// Case-insensitive containment, as Nextcloud's file search matches names.
pub fn name_matches(name: &str, query: &str) -> bool {
    name.to_lowercase().contains(&query.to_lowercase())
}

/// A file or folder found by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFile {
    pub id: i64,
    pub name: String,
    pub is_folder: bool,
}

/// The user's own files and folders whose names contain `query` (trimmed; empty finds none).
pub fn matching_files(
    conn: &mut AnyConnection,
    uid: &str,
    query: &str,
) -> Result<Vec<FoundFile>, FileError> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let root = files::user_root(conn, uid)?;
    Ok(file_nodes::subtree(conn, root.id)?
        .into_iter()
        .filter(|node| name_matches(&node.name, query))
        .take(MAX_FILE_RESULTS)
        .map(|node| FoundFile {
            id: node.id,
            name: node.name,
            is_folder: node.is_folder,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_regard_to_case() {
        assert!(name_matches("Annual Report.pdf", "report"));
        assert!(name_matches("ÉTÉ.txt", "été"));
        assert!(!name_matches("budget.txt", "report"));
    }
}
