use actix_web::{get, http::StatusCode, web, HttpResponse};
use storage_protocol::openproject::{Configuration, Root};

use super::hal;
use crate::{
    auth::{Caller, MaybeCaller},
    error::ApiError,
    state::State,
};

/// Largest attachment the Configuration advertises (256 MiB, OpenProject's default).
const MAXIMUM_ATTACHMENT_FILE_SIZE: u64 = 256 * 1024 * 1024;

fn root_body(state: &State, caller: &Caller) -> HttpResponse {
    let user = &caller.user;
    let body = Root::new(
        &state.settings.instance_name,
        user.id,
        &user.name(),
        user.is_active_admin(),
    );
    hal(StatusCode::OK, &body)
}

/// GET /api/v3: the API root; `coreVersion` only for admins.
#[utoipa::path(responses((status = 200, description = "Root"), (status = 401, description = "Unauthenticated")))]
#[get("")]
pub async fn root(state: State, caller: Caller) -> HttpResponse {
    root_body(&state, &caller)
}

/// GET /api/v3/: the same root.
#[utoipa::path(responses((status = 200, description = "Root"), (status = 401, description = "Unauthenticated")))]
#[get("/")]
pub async fn root_slash(state: State, caller: Caller) -> HttpResponse {
    root_body(&state, &caller)
}

/// GET /api/v3/configuration: open to anonymous callers.
#[utoipa::path(responses((status = 200, description = "Configuration")))]
#[get("/configuration")]
pub async fn configuration(state: State, _caller: MaybeCaller) -> HttpResponse {
    hal(
        StatusCode::OK,
        &Configuration::new(state.host_name(), MAXIMUM_ATTACHMENT_FILE_SIZE),
    )
}

/// GET /api/v3/openapi.json: this document (Extension content).
pub async fn openapi(doc: web::Data<utoipa::openapi::OpenApi>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(doc.get_ref()))
}
