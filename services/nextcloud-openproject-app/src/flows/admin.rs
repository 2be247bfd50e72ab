//! What the admin pages and `project-folder-status` read.

use crate::{
    domain::{
        admin_overview::{self, AdminOverview},
        team_folder,
    },
    error::ApiError,
    state::AppState,
};

use super::run;

/// The admin settings page's view of the configuration.
pub async fn overview(state: &AppState) -> Result<AdminOverview, ApiError> {
    let secret_box = state.secret_box.clone();
    run(state, move |conn| admin_overview::load(conn, &secret_box)).await
}

/// Whether the team folder is set up.
pub async fn project_folder_status(state: &AppState) -> Result<bool, ApiError> {
    run(state, team_folder::is_set_up).await
}
