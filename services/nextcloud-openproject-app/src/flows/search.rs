//! The search page: the user's files by name, and the work packages OpenProject finds.

use serde_json::Value;
use storage_protocol::openproject_api::filters;

use crate::{
    domain::{
        openproject_api::elements,
        search::{self, FoundFile},
    },
    error::ApiError,
    state::AppState,
};

use super::{
    openproject_api::{search_work_packages, session, Outcome},
    run,
};

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

/// Every work package the user may see whose text matches `query`, not only those files can be
/// linked to, with the OpenProject URL their links start with; `None` when the answer holds no
/// list.
pub async fn work_packages(
    state: &AppState,
    uid: &str,
    query: &str,
) -> Outcome<(String, Option<Vec<Value>>)> {
    let session = match session(state, uid).await? {
        Ok(session) => session,
        Err(e) => return Ok(Err(e)),
    };
    let filters = filters::search(None, Some(query), true, &state.public_url);
    Ok(search_work_packages(&session, filters)
        .await
        .map(|answer| (session.base.clone(), elements(&answer.body).cloned())))
}
