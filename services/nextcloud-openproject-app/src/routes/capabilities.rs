use actix_web::HttpResponse;
use storage_protocol::nextcloud::Capabilities;

use crate::error::{ApiError, OcsFormat};

/// GET /ocs/v{1,2}.php/cloud/capabilities — public.
pub async fn get(format: OcsFormat) -> Result<HttpResponse, ApiError> {
    format.ok(Capabilities::default())
}
