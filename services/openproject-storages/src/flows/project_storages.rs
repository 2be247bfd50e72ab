//! Project storages (openproject-storages.md §9): listing, finding, enabling and removing a
//! storage in a project, and where `open` sends the caller (asking Nextcloud whether they may
//! read the project folder).

use service_kit::time::now_millis;
use storage_protocol::{
    file_links::nextcloud_file_urls, projects::ProjectStorageWrite, storages::nextcloud_urls,
};

use super::files::user_call;
use crate::{
    auth::Caller,
    domain::{
        connections::UserBound,
        filters::Filter,
        project_storages::{self as domain, Shown},
    },
    error::ApiError,
    peer::Probe,
    state::AppState,
};

pub async fn list(
    state: &AppState,
    caller: &Caller,
    filters: Vec<Filter>,
) -> Result<Vec<Shown>, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| domain::list(conn, &user, &filters))
        .await?)
}

pub async fn find_visible(state: &AppState, caller: &Caller, id: i64) -> Result<Shown, ApiError> {
    let user = caller.user.clone();
    let (shown, _) = state
        .db
        .run(move |conn| domain::find_visible(conn, &user, id))
        .await?;
    Ok(shown)
}

/// Where `open` sends the caller: the project folder when they may read it, else the files app.
pub async fn open(state: &AppState, caller: &Caller, id: i64) -> Result<String, ApiError> {
    let shown = find_visible(state, caller, id).await?;
    let host = shown.storage.host.clone().ok_or_else(ApiError::not_found)?;
    let Some(folder) = shown.project_storage.project_folder_id.as_deref() else {
        return Ok(nextcloud_urls::files_app(&host));
    };
    let nextcloud = &state.nextcloud;
    let outcome = user_call(
        state,
        caller.user.id,
        &shown.storage,
        |host, token| async move { nextcloud.fileinfo(&host, token.expose(), folder).await },
    )
    .await;
    Ok(match outcome {
        UserBound::Answered(Probe::Ok(record)) if record.statuscode() == 200 => {
            nextcloud_file_urls::open_file(&host, folder, false)
        }
        _ => nextcloud_urls::files_app(&host),
    })
}

/// Enables a storage in a project; the new project storage as the caller sees it.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    write: ProjectStorageWrite,
) -> Result<Shown, ApiError> {
    let user = caller.user.clone();
    let (shown, _) = state
        .db
        .run(move |conn| {
            let created = domain::create(conn, &user, &write, now_millis())?;
            domain::find_visible(conn, &user, created.id)
        })
        .await?;
    Ok(shown)
}

/// Removes the storage from the project, with the project's file links to it.
pub async fn delete(state: &AppState, caller: &Caller, id: i64) -> Result<(), ApiError> {
    let user = caller.user.clone();
    state
        .db
        .run(move |conn| domain::delete(conn, &user, id))
        .await?;
    Ok(())
}
