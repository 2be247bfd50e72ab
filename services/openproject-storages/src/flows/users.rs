//! Users (openproject-storages.md §3): who may see whom, the admin's paged list, and creating and
//! changing users with their password hashed off the async threads.

use service_kit::{crypto, time::now_millis};
use storage_protocol::openproject::UserWrite;

use crate::{
    auth::Caller, db::users::User, domain::users as domain, error::ApiError, state::AppState,
};

/// The user `id` as `caller` may see it: themself, anyone for admins, or someone sharing a
/// project with the caller (§3); otherwise 404.
pub async fn visible_user(state: &AppState, caller: &Caller, id: i64) -> Result<User, ApiError> {
    if id == caller.user.id {
        return Ok(caller.user.clone());
    }
    let viewer = caller.user.clone();
    state
        .db
        .run(move |conn| {
            if !viewer.is_active_admin() && !domain::share_a_project(conn, viewer.id, id)? {
                return Ok::<_, ApiError>(None);
            }
            Ok(User::find(conn, id)?)
        })
        .await?
        .ok_or_else(ApiError::not_found)
}

async fn hash_password(password: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(password) = password.map(str::to_string) else {
        return Ok(None);
    };
    let hash = tokio::task::spawn_blocking(move || crypto::hash_password(&password))
        .await
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?;
    Ok(Some(hash))
}

/// One page of every user, with the total.
pub async fn page(state: &AppState, page: i64, size: i64) -> Result<(Vec<User>, i64), ApiError> {
    Ok(state
        .db
        .query(move |conn| User::page(conn, page, size))
        .await?)
}

pub async fn create(state: &AppState, input: UserWrite) -> Result<User, ApiError> {
    // A valid request always carries a hashable password; an invalid one is refused before use.
    let hash = hash_password(domain::password_to_hash(&input))
        .await?
        .unwrap_or_default();
    state
        .db
        .run(move |conn| domain::create(conn, &input, &hash, now_millis()).map_err(ApiError::from))
        .await
}

pub async fn update(state: &AppState, user: User, input: UserWrite) -> Result<User, ApiError> {
    let hash = hash_password(domain::password_to_hash(&input)).await?;
    state
        .db
        .run(move |conn| {
            domain::update(conn, &user, &input, hash.as_deref(), now_millis())
                .map_err(ApiError::from)
        })
        .await
}
