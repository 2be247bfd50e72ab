use actix_web::{web, HttpResponse};
use storage_protocol::nextcloud::Capabilities;

use crate::{
    error::{ApiError, OcsFormat},
    routes::apps::integration_enabled,
    state::AppState,
};

/// GET /ocs/v{1,2}.php/cloud/capabilities — public. A disabled integration is not listed, as
/// Nextcloud lists only enabled apps' capabilities.
pub async fn get(format: OcsFormat, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let capabilities = Capabilities::of_server(&format!("{}/assets/favicon.svg", state.public_url));
    if integration_enabled(&state).await? {
        return format.ok(capabilities);
    }
    let mut capabilities = serde_json::to_value(capabilities)
        .map_err(|e| ApiError::Unexpected(anyhow::Error::new(e).context("capabilities")))?;
    if let Some(map) = capabilities["capabilities"].as_object_mut() {
        map.remove("integration_openproject");
    }
    format.ok(capabilities)
}
