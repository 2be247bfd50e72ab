//! What the OpenProject side brings to the start-up path both services share
//! ([`service_kit::application`]): its admin, its state and its routes.

use std::{net::TcpListener, sync::Arc};

use actix_web::{dev::Server, middleware::from_fn, web, App, HttpServer};
use service_kit::{
    application::{BootstrapAdmin, CoreState, Service},
    http_client::Destinations,
};
use utoipa_actix_web::AppExt;

use crate::{
    config::Settings, db::MIGRATIONS, domain, peer::NextcloudClient, routes, state::AppState,
};
use peer_link::delivery::Courier;

/// The OpenProject side, as a [`Service`].
pub struct OpenProjectStorages;

/// The OpenProject side, migrated and bound, ready to serve.
pub type Application = service_kit::application::Application<OpenProjectStorages>;

impl Service for OpenProjectStorages {
    const NAME: &'static str = "openproject-storages";
    const ABOUT: &'static str =
        "The OpenProject side of the OpenProject ⇄ Nextcloud file storage integration";
    const MIGRATIONS: service_kit::db::Migrations = MIGRATIONS;
    const PRODUCT: &'static str = "OpenProject";
    const BOOTSTRAP_ADMIN: BootstrapAdmin = domain::users::ensure_admin;
    type Settings = Settings;

    async fn start(
        settings: Settings,
        core: CoreState,
        listener: TcpListener,
    ) -> anyhow::Result<Server> {
        let destinations = Destinations::allowing_local(settings.allow_local_remote_servers);
        let courier = Courier::start(
            &core,
            &settings.common,
            domain::pairing::KID_PREFIX,
            destinations,
        );
        let state = Arc::new(AppState {
            core,
            nextcloud: NextcloudClient::new(
                destinations,
                std::time::Duration::from_secs(3),
                settings.nextcloud_read_timeout,
            ),
            courier,
            settings,
        });
        let policy = state.throttle;
        tokio::spawn(service_kit::housekeeping::run(
            state.db.clone(),
            move |conn, now| crate::housekeeping::purge(conn, &policy, now),
        ));
        Ok(run(listener, state)?)
    }
}

fn run(listener: TcpListener, state: Arc<AppState>) -> std::io::Result<Server> {
    let openapi = web::Data::new(routes::openapi_document());
    let probes = service_kit::operations::Probes {
        db: state.db.clone(),
        migrations: MIGRATIONS,
        secret_box: state.secret_box.clone(),
    };
    let trusted_proxies = web::Data::new(state.settings.common.trusted_proxies.clone());
    let state = web::Data::from(state);
    let server = HttpServer::new(move || {
        let max_body = state.settings.common.max_body_bytes;
        App::new()
            .into_utoipa_app()
            .app_data(state.clone())
            .app_data(trusted_proxies.clone())
            .app_data(openapi.clone())
            .app_data(web::FormConfig::default().limit(max_body))
            .service(routes::api_scope())
            .into_app()
            // The token endpoint before the pages: routing tries each route in turn, and the
            // pages' dynamic paths are regular expressions, the token endpoint's a string.
            .configure(routes::oauth_server)
            .configure(routes::pages)
            .configure(|cfg| service_kit::operations::configure(cfg, probes.clone()))
            .default_service(web::to(routes::page_not_found))
            .wrap(from_fn(
                service_kit::input::refuse_nul_in_url::<crate::error::ApiError>,
            ))
            .wrap(from_fn(service_kit::server::request_span))
    })
    .listen(listener)?
    .disable_signals()
    .run();
    Ok(server)
}
