//! THE route table. Modules follow the URLs; handlers extract, authorize, call a flow
//! (`crate::flows`) and map the result; none reaches the database or OpenProject itself. Unknown paths and unsupported methods fall through to [`not_found`].

use actix_web::web;

use crate::error::ApiError;

pub mod admin;
pub mod apps;
pub mod capabilities;
pub mod cloud_users;
pub mod dashboard;
pub mod direct;
pub mod direct_upload;
pub mod fileinfo;
pub mod home;
pub mod integration;
pub mod is_valid_op_instance;
pub mod login;
pub mod oauth2;
pub mod openproject_api;
pub mod openproject_connection;
pub mod pages;
pub mod pairing;
pub mod search;
pub mod setup;
pub mod status;
pub mod webdav;

/// App routes are reachable under both prefixes (contract README §4.1).
pub const APP_PREFIXES: [&str; 2] = [
    storage_protocol::nextcloud::APP_PATH,
    "/apps/integration_openproject",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/status.php", web::get().to(status::get))
        // One scope for the OCS API: its dynamic prefix is matched once, and its routes are then
        // mostly plain strings. As separate routes each was a regular expression tried in turn
        // (a tenth of a `filesinfo`'s CPU, and of every request routed after them).
        .service(web::scope(OCS_PREFIX).configure(ocs_routes));
    // Nextcloud serves its pages with and without the front controller in the path.
    for front in ["/index.php", ""] {
        cfg.route(&format!("{front}/apps/files"), web::get().to(home::files))
            .route(&format!("{front}/apps/files/"), web::get().to(home::files))
            .route(
                &format!("{front}/f/{{file_id}}"),
                web::get().to(home::file_link),
            )
            .route(
                &format!("{front}/apps/dashboard/"),
                web::get().to(dashboard::get),
            )
            .route(
                &format!("{front}/apps/dashboard"),
                web::get().to(dashboard::get),
            )
            .route(&format!("{front}/login"), web::get().to(login::form))
            .route(&format!("{front}/login"), web::post().to(login::submit))
            .route(&format!("{front}/logout"), web::get().to(login::logout))
            .route(
                &format!("{front}/apps/oauth2/authorize"),
                web::get().to(oauth2::authorize),
            )
            .route(
                &format!("{front}/apps/oauth2/api/v1/token"),
                web::post().to(oauth2::token),
            )
            .route(
                &format!("{front}/login/flow"),
                web::get().to(oauth2::consent),
            )
            .route(
                &format!("{front}/login/flow/grant"),
                web::post().to(oauth2::grant),
            )
            .route(
                &format!("{front}/settings/user/openproject"),
                web::get().to(openproject_connection::personal_settings),
            )
            .route(
                &format!("{front}/settings/admin/openproject"),
                web::get().to(admin::settings_page),
            )
            .route(&format!("{front}/settings/apps"), web::get().to(apps::page))
            .route(&format!("{front}/search"), web::get().to(search::get));
    }
    for prefix in APP_PREFIXES {
        let app = |path: &str| format!("{prefix}/{path}");
        cfg.route(
            &app("check-config"),
            web::get().to(integration::check_config),
        )
        .route(&app("setup"), web::post().to(setup::post))
        .route(&app("setup"), web::patch().to(setup::patch))
        .route(&app("setup"), web::delete().to(setup::delete))
        .route(&app("admin-config"), web::put().to(admin::put_admin_config))
        .route(&app("nc-oauth"), web::post().to(admin::post_nc_oauth))
        .route(&app("pairing"), web::get().to(pairing::status))
        .route(&app("pairing"), web::post().to(pairing::pair))
        .route(&app("pairing/inspect"), web::post().to(pairing::inspect))
        .route(&app("peer-messages"), web::post().to(pairing::receive))
        .route(
            &app("check-admin-config"),
            web::get().to(admin::check_admin_config),
        )
        .route(
            &app("project-folder-status"),
            web::get().to(admin::project_folder_status),
        )
        .route(
            &app("sign-term-of-service"),
            web::post().to(admin::sign_term_of_service),
        )
        .route(
            &app("is-valid-op-instance"),
            web::post().to(is_valid_op_instance::post),
        )
        .route(
            &app("op-oauth-url"),
            web::get().to(openproject_connection::op_oauth_url),
        )
        .route(
            &app("oauth-redirect"),
            web::get().to(openproject_connection::oauth_redirect),
        )
        .route(
            &app("config"),
            web::put().to(openproject_connection::put_config),
        )
        .route(
            &app("direct/{token}/{file_name}"),
            web::get().to(direct::by_token_and_name),
        )
        .route(
            &app("direct-upload-token"),
            web::post().to(direct_upload::create_token),
        )
        .route(
            &app("direct-upload/{token}"),
            web::post().to(direct_upload::upload),
        )
        .route(
            &app("direct-upload/{token}"),
            web::method(actix_web::http::Method::OPTIONS).to(direct_upload::preflight),
        );
    }
    // The routes with dynamic paths last: the pages, the token endpoint and the app's routes
    // above are mostly plain strings, compared before any regular expression here is tried.
    cfg.route("/assets/{name}", web::get().to(pages::asset))
        .route(
            "/remote.php/direct/{token}",
            web::get().to(direct::by_token),
        )
        .route("/remote.php/dav", web::route().to(webdav::dav_root))
        .route("/remote.php/dav/", web::route().to(webdav::dav_root))
        .route(
            "/remote.php/dav/files/{tail:.*}",
            web::route().to(webdav::handle),
        )
        .route(
            "/remote.php/dav/uploads/{tail:.*}",
            web::route().to(webdav::uploads),
        )
        .route("/remote.php/webdav", web::route().to(webdav::handle))
        .route(
            "/remote.php/webdav/{tail:.*}",
            web::route().to(webdav::handle),
        )
        .route("/", web::get().to(home::root))
        .route("/index.php", web::get().to(home::root))
        .route("/index.php/", web::get().to(home::root));
}

/// The OCS API's prefix: `/ocs/v1.php` (XML by default) and `/ocs/v2.php` (contract README §4).
const OCS_PREFIX: &str = "/ocs/{version:v[12]}.php";

/// The routes under [`OCS_PREFIX`].
fn ocs_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cloud/capabilities", web::get().to(capabilities::get))
        .route("/cloud/user", web::get().to(cloud_users::current))
        .route("/cloud/users", web::post().to(cloud_users::create))
        .route("/cloud/users/{userid}", web::get().to(cloud_users::get))
        .route("/cloud/users/{userid}", web::put().to(cloud_users::edit))
        .route("/cloud/apps", web::get().to(apps::list))
        .route("/cloud/apps/{app}", web::post().to(apps::enable))
        .route("/cloud/apps/{app}", web::delete().to(apps::disable))
        .route(
            "/apps/integration_openproject/fileinfo/{file_id}",
            web::get().to(fileinfo::fileinfo),
        )
        .route(
            "/apps/integration_openproject/filesinfo",
            web::post().to(fileinfo::filesinfo),
        )
        .configure(openproject_api_routes)
        .route("/apps/dav/api/v1/direct", web::post().to(direct::create));
}

/// `OCSAPP/api/v1/…` (spec §6).
fn openproject_api_routes(cfg: &mut web::ServiceConfig) {
    use openproject_api as api;
    let path = |tail: &str| format!("/apps/integration_openproject/api/v1/{tail}");
    cfg.route(&path("notifications"), web::get().to(api::notifications))
        .route(
            &path("work-packages/{id}/notifications"),
            web::delete().to(api::mark_notifications_read),
        )
        .route(
            &path("work-packages"),
            web::get().to(api::search_work_packages),
        )
        .route(&path("work-packages"), web::post().to(api::link_files))
        .route(
            &path("work-packages/{id}/file-links"),
            web::get().to(api::file_links),
        )
        .route(
            &path("file-links/{id}"),
            web::delete().to(api::delete_file_link),
        )
        .route(&path("url"), web::get().to(api::url))
        .route(&path("configuration"), web::get().to(api::configuration))
        .route(&path("projects"), web::get().to(api::projects))
        .route(&path("statuses/{id}"), web::get().to(api::status))
        .route(&path("types/{id}"), web::get().to(api::work_package_type))
        .route(&path("avatar"), web::get().to(api::avatar))
        .route(
            &path("projects/{project_id}/work-packages/form"),
            web::post().to(api::work_package_form),
        )
        .route(
            &path("projects/{project_id}/available-assignees"),
            web::get().to(api::available_assignees),
        )
        .route(
            &path("create/work-packages"),
            web::post().to(api::create_work_package),
        );
}

/// Any path or method not in the table.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
