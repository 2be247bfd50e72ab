//! One build path for `main` and the tests: [`Application::build`] migrates, bootstraps the
//! admin, binds (port 0 picks a free port) and returns a server ready to run.

use std::{net::TcpListener, sync::Arc};

use actix_web::{dev::Server, middleware::from_fn, web, App, HttpServer};
use service_kit::{
    auth::CredentialCache, crypto::CsrfSigner, db::Db, http_client::Destinations,
    secret_key_file::resolve_secret_key,
};
use utoipa_actix_web::AppExt;

use crate::{
    config::Settings, db::MIGRATIONS, domain, nextcloud::NextcloudClient, routes, state::AppState,
};

pub struct Application {
    address: std::net::SocketAddr,
    db: Db,
    public_url: String,
    server: Server,
    /// Registered at build time, so a signal right after readiness still stops gracefully.
    shutdown: service_kit::server::ShutdownSignal,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let common = &settings.common;
        let secret_key = resolve_secret_key(
            common.secret_key.clone(),
            &common.database_url,
            "OPS_SECRET_KEY",
        )?;
        let db = open_database(&settings)?;
        let admin = common.admin_username.clone();
        let admin_password = common
            .admin_password
            .as_ref()
            .map(|p| p.expose().to_string());
        let generated = db
            .run(move |conn| domain::users::ensure_admin(conn, &admin, admin_password.as_deref()))
            .await?;
        if let Some(password) = generated {
            // Printed once, on stdout, so the operator can sign in; never logged.
            println!(
                "OpenProject admin \"{}\" created with generated password: {password}",
                common.admin_username
            );
        }
        let (listener, public_url) =
            service_kit::server::bind(common.listen, common.public_url.as_deref())?;
        let address = listener.local_addr()?;
        let state = Arc::new(AppState {
            db: db.clone(),
            public_url: public_url.clone(),
            secret_box: secret_key.secret_box(),
            csrf: CsrfSigner::new(&secret_key),
            credential_cache: CredentialCache::default(),
            throttle: settings.common.throttle,
            nextcloud: NextcloudClient::new(
                Destinations::allowing_local(settings.allow_local_remote_servers),
                std::time::Duration::from_secs(3),
                settings.nextcloud_read_timeout,
            ),
            settings,
        });
        let policy = state.throttle;
        tokio::spawn(service_kit::housekeeping::run(
            db.clone(),
            move |conn, now| crate::housekeeping::purge(conn, &policy, now),
        ));
        let server = run(listener, state)?;
        tracing::info!(%public_url, "openproject-storages listening");
        Ok(Self {
            address,
            db,
            public_url,
            server,
            shutdown: service_kit::server::shutdown_signal(),
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The bound address (the real port when listening on port 0).
    pub fn address(&self) -> std::net::SocketAddr {
        self.address
    }

    /// The database, for tests that inspect what was stored.
    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Serves until Ctrl-C or SIGTERM, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        service_kit::server::serve_until_signal(self.server, self.shutdown).await
    }
}

impl service_kit::cli::ServiceBinary for Application {
    const NAME: &'static str = "openproject-storages";
    const ABOUT: &'static str =
        "The OpenProject side of the OpenProject ⇄ Nextcloud file storage integration";
    type Settings = Settings;

    fn load(file: Option<&std::path::Path>) -> Result<Settings, service_kit::config::ConfigError> {
        Settings::load(file)
    }

    fn common(settings: &Settings) -> &service_kit::config::CommonSettings {
        &settings.common
    }

    async fn migrate(settings: Settings) -> anyhow::Result<()> {
        open_database(&settings).map(drop)
    }

    async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build(settings).await
    }

    fn bound_address(&self) -> std::net::SocketAddr {
        self.address()
    }

    fn public_url(&self) -> &str {
        &self.public_url
    }

    async fn serve_until_stopped(self) -> std::io::Result<()> {
        self.run_until_stopped().await
    }
}

/// Connects and applies pending migrations (also the `migrate` subcommand).
pub fn open_database(settings: &Settings) -> anyhow::Result<Db> {
    let url = &settings.common.database_url;
    let db = Db::connect(url)?;
    let applied = db.migrate(url, &MIGRATIONS)?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    Ok(db)
}

fn run(listener: TcpListener, state: Arc<AppState>) -> std::io::Result<Server> {
    let openapi = web::Data::new(routes::openapi_document());
    let probes = service_kit::operations::Probes {
        db: state.db.clone(),
        migrations: MIGRATIONS,
        secret_box: state.secret_box.clone(),
    };
    let state = web::Data::from(state);
    let server = HttpServer::new(move || {
        let max_body = state.settings.common.max_body_bytes;
        App::new()
            .into_utoipa_app()
            .app_data(state.clone())
            .app_data(openapi.clone())
            .app_data(web::FormConfig::default().limit(max_body))
            .service(routes::api_scope())
            .into_app()
            .configure(routes::pages)
            .configure(routes::oauth_server)
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
