//! THE route table. Modules follow the URLs; handlers extract, authorize, call the domain and
//! map the result. Unknown paths and unsupported methods fall through to [`not_found`].

use actix_web::web;

use crate::error::ApiError;

pub mod capabilities;
pub mod cloud_users;
pub mod home;
pub mod integration;
pub mod login;
pub mod status;

/// App routes are reachable under both prefixes (contract README §4.1).
pub const APP_PREFIXES: [&str; 2] = [
    storage_protocol::nextcloud::APP_PATH,
    "/apps/integration_openproject",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/status.php", web::get().to(status::get))
        .route(
            "/ocs/{version:v[12]}.php/cloud/capabilities",
            web::get().to(capabilities::get),
        )
        .route(
            "/ocs/{version:v[12]}.php/cloud/user",
            web::get().to(cloud_users::current),
        )
        .route(
            "/ocs/{version:v[12]}.php/cloud/users",
            web::post().to(cloud_users::create),
        )
        .route(
            "/ocs/{version:v[12]}.php/cloud/users/{userid}",
            web::get().to(cloud_users::get),
        )
        .route("/", web::get().to(home::root))
        .route("/index.php", web::get().to(home::root))
        .route("/index.php/", web::get().to(home::root));
    // Nextcloud serves its pages with and without the front controller in the path.
    for front in ["/index.php", ""] {
        cfg.route(&format!("{front}/apps/files"), web::get().to(home::files))
            .route(&format!("{front}/apps/files/"), web::get().to(home::files))
            .route(&format!("{front}/login"), web::get().to(login::form))
            .route(&format!("{front}/login"), web::post().to(login::submit))
            .route(&format!("{front}/logout"), web::get().to(login::logout));
    }
    for prefix in APP_PREFIXES {
        cfg.route(
            &format!("{prefix}/check-config"),
            web::get().to(integration::check_config),
        );
    }
}

/// Any path or method not in the table.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
