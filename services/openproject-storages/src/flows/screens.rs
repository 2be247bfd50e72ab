//! What the web UI's screens need beyond their shell: whether the caller sees what a screen is
//! about, and where a page may post uploads.

use crate::{
    auth::Caller,
    domain::{host::HostError, projects, storages, uploads, work_packages},
    error::ApiError,
    state::AppState,
};

/// What a screen shows one of; a screen about something the caller cannot see is the 404 page,
/// as the API answers 404 for it.
pub enum About {
    Nothing,
    Project(String),
    WorkPackage(i64),
    Storage(i64),
}

/// Whether the caller sees what the screen is about.
pub async fn visible(state: &AppState, caller: &Caller, about: About) -> Result<bool, ApiError> {
    let user = caller.user.clone();
    let found = |outcome: Result<(), HostError>| match outcome {
        Ok(()) => Ok(true),
        Err(HostError::NotFound) => Ok(false),
        Err(e) => Err(ApiError::from(e)),
    };
    match about {
        About::Nothing => Ok(true),
        About::Project(key) => {
            state
                .db
                .run(move |conn| found(projects::find_visible(conn, &user, &key).map(drop)))
                .await
        }
        About::WorkPackage(id) => {
            state
                .db
                .run(move |conn| found(work_packages::find_visible(conn, &user, id).map(drop)))
                .await
        }
        About::Storage(id) => Ok(state
            .db
            .query(move |conn| storages::find_visible(conn, &user, id))
            .await?
            .is_some()),
    }
}

/// The Nextcloud hosts the caller may upload to from the work package `number`'s page: the
/// storages of its project; none when the work package is not theirs to see.
pub async fn upload_hosts(
    state: &AppState,
    caller: &Caller,
    number: i64,
) -> Result<Vec<String>, ApiError> {
    let user = caller.user.clone();
    state
        .db
        .run(
            move |conn| match work_packages::find_visible(conn, &user, number) {
                Ok((wp, _)) => Ok(uploads::upload_hosts(conn, &user, wp.project_id)?),
                Err(HostError::NotFound | HostError::Forbidden) => Ok(Vec::new()),
                Err(e) => Err(ApiError::from(e)),
            },
        )
        .await
}
