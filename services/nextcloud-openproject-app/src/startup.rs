//! What the Nextcloud side brings to the start-up path both services share
//! ([`service_kit::application`]): its admin, its file store, its state and its routes.

use std::net::TcpListener;

use actix_web::{
    dev::Server,
    middleware::{from_fn, DefaultHeaders},
    web, App, HttpServer,
};
use anyhow::Context;
use peer_link::delivery::Courier;
use service_kit::{
    application::{BootstrapAdmin, CoreState, Service},
    db::Migrations,
    http_client::Destinations,
    server::request_span,
};
use storage_protocol::nextcloud::messages;

use crate::{
    config::Settings,
    db::MIGRATIONS,
    domain::{self, files::store::ContentStore, users::bootstrap_admin},
    error::{render_errors, ApiError},
    routes,
    state::AppState,
};

/// Limits of every call to OpenProject (token exchange, refresh, revocation, API).
const OPENPROJECT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
const OPENPROJECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The Nextcloud side, as a [`Service`].
pub struct NextcloudOpenProjectApp;

/// The Nextcloud side, migrated and bound, ready to serve.
pub type Application = service_kit::application::Application<NextcloudOpenProjectApp>;

impl Service for NextcloudOpenProjectApp {
    const NAME: &'static str = "nextcloud-openproject-app";
    const ABOUT: &'static str = "The Nextcloud side of the OpenProject file storages integration";
    const MIGRATIONS: Migrations = MIGRATIONS;
    const PRODUCT: &'static str = "Nextcloud";
    const BOOTSTRAP_ADMIN: BootstrapAdmin = bootstrap_admin;
    type Settings = Settings;

    async fn start(
        settings: Settings,
        core: CoreState,
        listener: TcpListener,
    ) -> anyhow::Result<Server> {
        let files = ContentStore::open(&settings.data_dir).with_context(|| {
            format!(
                "cannot use the data directory {}",
                settings.data_dir.display()
            )
        })?;
        let (store, policy) = (files.clone(), settings.common.throttle);
        tokio::spawn(service_kit::housekeeping::run(
            core.db.clone(),
            move |conn, now| crate::housekeeping::purge(conn, &store, &policy, now),
        ));
        let destinations = Destinations::allowing_local(settings.allow_local_remote_servers);
        let courier = Courier::of_service(
            &core,
            &settings.common,
            domain::pairing::KID_PREFIX,
            destinations,
        );
        tokio::spawn(courier.clone().run());
        let state = AppState {
            core,
            files,
            openproject_cache: Default::default(),
            http: service_kit::http_client::build(
                destinations,
                OPENPROJECT_CONNECT_TIMEOUT,
                OPENPROJECT_TIMEOUT,
            ),
            courier,
            settings,
        };
        Ok(serve(listener, web::Data::new(state))?)
    }
}

fn serve(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    let probes = service_kit::operations::Probes {
        db: state.db.clone(),
        migrations: MIGRATIONS,
        secret_box: state.secret_box.clone(),
    };
    let trusted_proxies = web::Data::new(state.settings.common.trusted_proxies.clone());
    let server =
        HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(trusted_proxies.clone())
                .app_data(web::QueryConfig::default().error_handler(|_, _| {
                    ApiError::BadRequest(messages::INVALID_QUERY.into()).into()
                }))
                .wrap(from_fn(routes::apps::hide_when_disabled))
                .wrap(from_fn(crate::auth::check_ocs_credentials))
                .wrap(from_fn(service_kit::input::refuse_nul_in_url::<ApiError>))
                .wrap(from_fn(render_errors))
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Content-Security-Policy", "frame-ancestors 'none'"))
                        .add(("X-Content-Type-Options", "nosniff")),
                )
                .wrap(from_fn(request_span))
                .configure(routes::configure)
                .configure(|cfg| service_kit::operations::configure(cfg, probes.clone()))
                .default_service(web::to(routes::not_found))
        })
        .disable_signals()
        .listen(listener)?
        .run();
    Ok(server)
}
