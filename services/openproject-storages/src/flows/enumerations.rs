//! The work-package enumerations (types, statuses, priorities) and the roles
//! (openproject-storages.md §4, §5): read-only lists.

use crate::{
    db::{projects::Role, work_packages::Enumerations},
    error::ApiError,
    state::AppState,
};

/// Every type, status and priority.
pub async fn load(state: &AppState) -> Result<Enumerations, ApiError> {
    Ok(state.db.query(Enumerations::load).await?)
}

pub async fn roles(state: &AppState) -> Result<Vec<Role>, ApiError> {
    Ok(state.db.query(Role::all).await?)
}

/// The role `id`, else 404.
pub async fn role(state: &AppState, id: i64) -> Result<Role, ApiError> {
    state
        .db
        .query(move |conn| Role::find(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)
}
