//! File links (openproject-storages.md §10): a work package's links with their live status from
//! Nextcloud, the bulk create, single links and the direct download.

use service_kit::time::now_millis;
use std::collections::HashMap;

use futures_util::future::join_all;
use serde_json::Value;
use storage_protocol::file_links::LinkStatus;

use super::files::user_call;
use crate::{
    auth::Caller,
    domain::{
        connections::UserBound,
        file_links::{self as domain, Shown},
        files::{failure, FileError},
        host::HostError,
    },
    error::ApiError,
    peer::Probe,
    state::AppState,
};

/// One `filesinfo` call per storage with the caller's token; `None` when it failed in any way.
async fn live_statuses(
    state: &AppState,
    user_id: i64,
    links: &[Shown],
) -> HashMap<i64, Option<storage_protocol::files::FilesInfo>> {
    let mut by_storage: Vec<(crate::db::storages::Storage, Vec<String>)> = Vec::new();
    for shown in links {
        match by_storage
            .iter_mut()
            .find(|(s, _)| s.id == shown.storage.id)
        {
            Some((_, ids)) => {
                if !ids.contains(&shown.link.origin_id) {
                    ids.push(shown.link.origin_id.clone());
                }
            }
            None => by_storage.push((shown.storage.clone(), vec![shown.link.origin_id.clone()])),
        }
    }
    let nextcloud = &state.nextcloud;
    let calls = by_storage.iter().map(|(storage, ids)| async move {
        let outcome = user_call(state, user_id, storage, |host, token| async move {
            nextcloud.filesinfo(&host, token.expose(), ids).await
        })
        .await;
        let answer = match outcome {
            UserBound::Answered(Probe::Ok(info)) => Some(info),
            _ => None,
        };
        (storage.id, answer)
    });
    join_all(calls).await.into_iter().collect()
}

/// The work package's visible links (of one storage, with `storage_filter`) and each one's live
/// status, unless `skip_live`; statuses Nextcloud changed are stored.
pub async fn of_work_package(
    state: &AppState,
    caller: &Caller,
    wp_id: i64,
    storage_filter: Option<Vec<i64>>,
    skip_live: bool,
) -> Result<(Vec<Shown>, Vec<Option<LinkStatus>>), ApiError> {
    let user = caller.user.clone();
    let mut links = state
        .db
        .read(move |conn| domain::of_work_package(conn, &user, wp_id, storage_filter))
        .await?;
    if skip_live || links.is_empty() {
        let statuses = vec![None; links.len()];
        return Ok((links, statuses));
    }
    let answers = live_statuses(state, caller.user.id, &links).await;
    let raw: Vec<_> = links.iter().map(|s| s.link.clone()).collect();
    let computed = domain::statuses_from(&raw, &answers);
    let refreshes: Vec<_> = computed.iter().map(|(_, r)| r.clone()).collect();
    if refreshes.iter().any(Option::is_some) {
        let mut shown = links;
        shown = state
            .db
            .run(move |conn| {
                domain::apply_refresh(conn, &mut shown, &refreshes)?;
                Ok::<_, HostError>(shown)
            })
            .await?;
        links = shown;
    }
    Ok((links, computed.into_iter().map(|(s, _)| Some(s)).collect()))
}

/// Creates the body's links on the work package, all or nothing.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    wp_id: i64,
    body: Value,
) -> Result<Vec<Shown>, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| domain::create(conn, &user, wp_id, &body, now_millis()))
        .await?)
}

pub async fn find_visible(state: &AppState, caller: &Caller, id: i64) -> Result<Shown, ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .read(move |conn| domain::find_visible(conn, &user, id))
        .await?)
}

pub async fn delete(state: &AppState, caller: &Caller, id: i64) -> Result<(), ApiError> {
    let user = caller.user.clone();
    Ok(state
        .db
        .run(move |conn| domain::delete(conn, &user, id))
        .await?)
}

/// The token of a direct download Nextcloud issues the caller for the linked file.
pub async fn download_token(
    state: &AppState,
    caller: &Caller,
    shown: &Shown,
) -> Result<String, ApiError> {
    let nextcloud = &state.nextcloud;
    let origin = &shown.link.origin_id;
    let outcome = user_call(
        state,
        caller.user.id,
        &shown.storage,
        |host, token| async move {
            nextcloud
                .direct_download_url(&host, token.expose(), origin)
                .await
        },
    )
    .await;
    let url = match outcome {
        UserBound::Answered(Probe::Ok(url)) => url,
        other => return Err(failure(other).into()),
    };
    let token = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|t| !t.is_empty())
        .ok_or(FileError::Unreachable)?;
    Ok(token.to_string())
}
