//! What every page's shell shows of its user.

use crate::{
    domain::user_view::{self, UserView},
    error::ApiError,
    state::AppState,
};

use super::run;

/// The user's view settings, the integration's state and the OpenProject link.
pub async fn user_view(state: &AppState, uid: String) -> Result<UserView, ApiError> {
    run(state, move |conn| user_view::load(conn, &uid)).await
}
