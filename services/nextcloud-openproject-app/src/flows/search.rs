//! The search page's own part: the user's files by name.

use crate::{
    domain::search::{self, FoundFile},
    error::ApiError,
    state::AppState,
};

use super::run;

/// The user's own files and folders whose names contain `query`.
pub async fn matching_files(
    state: &AppState,
    uid: String,
    query: String,
) -> Result<Vec<FoundFile>, ApiError> {
    run(state, move |conn| {
        search::matching_files(conn, &uid, &query)
    })
    .await
}
