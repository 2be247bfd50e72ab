//! The route table: every endpoint of the OpenProject side, in one place. Modules follow URLs.
//! `/api/v3` routes are registered through utoipa so each appears in `/api/v3/openapi.json`.

mod api_root;
mod api_tokens;
mod file_links;
mod memberships;
mod notifications;
mod oauth;
mod oauth_clients;
mod oauth_resources;
mod pages;
mod pairing;
mod priorities;
mod project_storages;
mod projects;
mod roles;
mod screens;
mod statuses;
mod storage_files;
mod storages;
mod types;
mod users;
mod work_packages;

use actix_web::{http::StatusCode, web, HttpResponse};
use serde::Serialize;
use storage_protocol::{
    openproject::{HAL_JSON, SERVICE_DESC_LINK},
    pairing::JWKS_PATH,
};
use utoipa_actix_web::{scope, service_config::ServiceConfig, AppExt};

use crate::error::ApiError;

/// Everything under `/api/v3`.
fn api(cfg: &mut ServiceConfig) {
    cfg.service(api_root::root)
        .service(api_root::root_slash)
        .service(api_root::configuration)
        .service(users::me)
        .service(users::list)
        .service(users::create)
        .service(users::get)
        .service(users::update)
        .service(users::avatar)
        .service(api_tokens::create)
        .service(api_tokens::delete)
        .service(storages::list)
        .service(storages::create)
        .service(storages::get)
        .service(storages::update)
        .service(storages::delete)
        .service(storages::open)
        .service(storages::set_client_credentials)
        .service(storages::replace_application)
        .service(storages::health)
        .service(storages::pairing_code)
        .service(storages::exchange_pairing)
        .service(storages::pairing)
        .service(storages::peer_message)
        .service(storages::disconnect)
        .service(oauth_resources::application)
        .service(oauth_resources::client_credentials)
        .service(projects::list)
        .service(projects::get)
        .service(projects::create)
        .service(projects::get_modules)
        .service(projects::enable_module)
        .service(projects::disable_module)
        .service(roles::list)
        .service(roles::get)
        .service(memberships::list)
        .service(memberships::get)
        .service(memberships::create)
        .service(memberships::delete)
        .service(project_storages::list)
        .service(project_storages::get)
        .service(project_storages::open)
        .service(project_storages::create)
        .service(project_storages::delete)
        .service(storage_files::list)
        .service(storage_files::get)
        .service(storage_files::prepare_upload)
        .service(file_links::list)
        .service(file_links::create)
        .service(file_links::get)
        .service(file_links::delete)
        .service(file_links::open)
        .service(file_links::download)
        .service(work_packages::available_projects)
        .service(work_packages::list)
        .service(work_packages::list_of_project)
        .service(work_packages::get)
        .service(work_packages::create)
        .service(work_packages::create_in_project)
        .service(work_packages::form)
        .service(work_packages::available_assignees)
        .service(work_packages::update)
        .service(statuses::list)
        .service(statuses::get)
        .service(types::list)
        .service(types::get)
        .service(priorities::list)
        .service(priorities::get)
        .service(notifications::read_all)
        .service(notifications::unread_all)
        .service(notifications::list)
        .service(notifications::get)
        .service(notifications::read_one)
        .service(notifications::unread_one);
}

/// Browser pages outside the API.
pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::home))
        .route("/login", web::get().to(pages::login_form))
        .route("/login", web::post().to(pages::login))
        .route("/logout", web::post().to(pages::logout))
        .route(
            "/oauth_clients/{client_id}/ensure_connection",
            web::get().to(oauth_clients::ensure_connection),
        )
        .route(
            "/oauth_clients/{client_id}/callback",
            web::get().to(oauth_clients::callback),
        )
        .route(JWKS_PATH, web::get().to(pairing::jwks))
        .route("/assets/{name}", web::get().to(screens::asset))
        .route("/admin", web::get().to(screens::administration))
        .route("/admin/settings/storages", web::get().to(screens::storages))
        .route(
            "/admin/settings/storages/new",
            web::get().to(screens::new_storage),
        )
        .route(
            "/admin/settings/storages/{id}/edit",
            web::get().to(screens::storage),
        )
        .route("/projects", web::get().to(screens::projects))
        .route("/projects/{project}", web::get().to(screens::project))
        .route(
            "/projects/{project}/settings",
            web::get().to(screens::project_settings),
        )
        .route(
            "/projects/{project}/settings/modules",
            web::get().to(screens::project_modules),
        )
        .route(
            "/projects/{project}/settings/project_storages",
            web::get().to(screens::project_storages),
        )
        .route("/work_packages/{id}", web::get().to(screens::work_package))
        .route(
            "/work_packages/{id}/{tab}",
            web::get().to(screens::work_package),
        )
        .route("/my/account", web::get().to(screens::my_account))
        .route(
            "/my/file_storages",
            web::get().to(screens::my_file_storages),
        );
}

/// The HTML 404 page for paths outside the API that no route takes.
pub use screens::not_found as page_not_found;

/// OpenProject's OAuth authorization server, outside `/api/v3`.
pub fn oauth_server(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth/authorize", web::get().to(oauth::authorize))
        .route("/oauth/authorize", web::post().to(oauth::decide))
        .route("/oauth/authorize", web::delete().to(oauth::deny))
        .route("/oauth/token", web::post().to(oauth::token))
        .route("/oauth/revoke", web::post().to(oauth::revoke))
        .route("/oauth/introspect", web::post().to(oauth::introspect))
        .route("/oauth/token/info", web::get().to(oauth::token_info))
        .route(
            "/.well-known/oauth-authorization-server",
            web::get().to(oauth::metadata),
        );
}

/// The API scope: HAL `Link` header, `openapi.json`, and 404 `NotFound` for unknown paths and
/// methods.
pub fn api_scope() -> utoipa_actix_web::scope::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    scope("/api/v3")
        .wrap(actix_web::middleware::DefaultHeaders::new().add(("Link", SERVICE_DESC_LINK)))
        .route("/openapi.json", web::get().to(api_root::openapi))
        .configure(api)
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::not_found())
        }))
}

/// The OpenAPI document of this service, generated from the registered routes.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .service(api_scope())
        .split_for_parts();
    doc.info.title = "openproject-storages".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.contact = None;
    doc.info.description = Some(
        "The OpenProject side of the OpenProject ⇄ Nextcloud file storage integration.".into(),
    );
    doc
}

/// A HAL+JSON response.
pub fn hal<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(HAL_JSON)
        .json(body)
}
