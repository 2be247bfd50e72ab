//! The integration app's enabled state.

use crate::{domain::apps, error::ApiError, state::AppState};

use super::run;

/// Whether the integration is enabled.
pub async fn is_enabled(state: &AppState) -> Result<bool, ApiError> {
    Ok(state.db.read_query(apps::is_enabled).await?)
}

/// Enables or disables the integration.
pub async fn set_enabled(state: &AppState, enabled: bool) -> Result<(), ApiError> {
    run(state, move |conn| apps::set_enabled(conn, enabled)).await
}
