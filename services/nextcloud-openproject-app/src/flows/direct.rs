//! Direct downloads (spec §8): making a link, and opening the file a token names.

use crate::{
    domain::files::{direct, FileError, Located, Viewer},
    error::ApiError,
    state::AppState,
};

use super::run;

/// A download token for `file_id`, valid for `lifetime_secs`.
pub async fn create(
    state: &AppState,
    uid: String,
    file_id: i64,
    lifetime_secs: i64,
) -> Result<String, ApiError> {
    run(state, move |conn| {
        let viewer = Viewer::load(conn, &uid)?;
        Ok::<_, ApiError>(direct::create(conn, &viewer, file_id, lifetime_secs)?)
    })
    .await
}

/// The file of a token with the token creator's access, opened for reading.
pub async fn open(
    state: &AppState,
    token: String,
) -> Result<Option<(Located, std::fs::File)>, ApiError> {
    let store = state.files.clone();
    run(state, move |conn| {
        let Some(located) = direct::resolve(conn, &token)? else {
            return Ok(None);
        };
        let Some(key) = located.node.content_key.clone() else {
            return Ok(None);
        };
        let file = store.read(&key)?;
        Ok::<_, FileError>(Some((located, file)))
    })
    .await
}
