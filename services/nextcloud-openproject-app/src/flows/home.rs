//! What the files pages show: a folder's entries, or the file a link names.

use crate::{
    domain::files::{self, info::Lookup, Located, Memo, Viewer},
    error::ApiError,
    state::AppState,
};

use super::run;

/// The folder at `segments` with its children, as `uid` sees them; `None` when there is no
/// such folder. The user's roots are created on first sight.
pub async fn folder_listing(
    state: &AppState,
    uid: String,
    segments: Vec<String>,
) -> Result<Option<(Vec<String>, Vec<Located>)>, ApiError> {
    run(state, move |conn| {
        let viewer = Viewer::load(conn, &uid)?;
        files::ensure_roots(conn, &viewer)?;
        let Some(folder) = files::resolve(conn, &viewer, &segments)?.filter(|f| f.node.is_folder)
        else {
            return Ok::<_, ApiError>(None);
        };
        Ok(Some((
            folder.path.clone(),
            files::children(conn, &viewer, &folder)?,
        )))
    })
    .await
}

/// The file or folder with `id`, when `uid` can see it.
pub async fn visible_node(
    state: &AppState,
    uid: String,
    id: i64,
) -> Result<Option<Located>, ApiError> {
    run(state, move |conn| {
        let viewer = Viewer::load(conn, &uid)?;
        Ok::<_, ApiError>(
            match files::info::lookup(conn, &viewer, id, &mut Memo::default())? {
                Lookup::Visible(located) => Some(*located),
                _ => None,
            },
        )
    })
    .await
}
