//! One build path for `main` and the tests: settings in, a bound server out.

use std::net::{SocketAddr, TcpListener};

use actix_web::{
    dev::Server,
    middleware::{from_fn, DefaultHeaders},
    web, App, HttpServer,
};
use anyhow::Context;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use service_kit::{
    auth::CredentialCache,
    crypto::CsrfSigner,
    db::{Db, Migrations},
    http_client::Destinations,
    secret_key_file::resolve_secret_key,
    server::{bind, request_span},
};
use storage_protocol::nextcloud::messages;

use crate::{
    config::Settings,
    domain::{
        files::store::ContentStore,
        users::{bootstrap_admin, AdminBootstrap},
    },
    error::{render_errors, ApiError},
    routes,
    state::AppState,
};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Limits of every call to OpenProject (token exchange, refresh, revocation, API).
const OPENPROJECT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
const OPENPROJECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub const MIGRATIONS: Migrations = Migrations {
    sqlite: || SQLITE_MIGRATIONS,
    postgres: || POSTGRES_MIGRATIONS,
};

pub struct Application {
    address: SocketAddr,
    public_url: String,
    db: Db,
    server: Server,
    /// Registered at build time, so a signal right after readiness still stops gracefully.
    shutdown: service_kit::server::ShutdownSignal,
}

impl Application {
    /// Resolves the secret key, connects and migrates the database, bootstraps the admin and
    /// binds the listener (port 0 picks a free one).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let common = &settings.common;
        let secret_key = resolve_secret_key(
            common.secret_key.clone(),
            &common.database_url,
            "NCOA_SECRET_KEY",
        )?;
        let db = migrate(&settings).await?;

        let (username, password) = (common.admin_username.clone(), common.admin_password.clone());
        let bootstrap = db
            .run(move |conn| {
                bootstrap_admin(conn, &username, password.as_ref().map(|p| p.expose()))
            })
            .await
            .context("bootstrapping the admin")?;
        match bootstrap {
            AdminBootstrap::CreatedWithPassword(password) => println!(
                "Nextcloud admin \"{}\" created with generated password: {password}",
                common.admin_username
            ),
            AdminBootstrap::Created => {
                tracing::info!(admin = %common.admin_username, "admin created")
            }
            AdminBootstrap::AlreadyPresent => {}
        }

        let (listener, public_url) = bind(common.listen, common.public_url.as_deref())
            .with_context(|| format!("cannot listen on {}", common.listen))?;
        let address = listener.local_addr()?;
        let files = ContentStore::open(&settings.data_dir).with_context(|| {
            format!(
                "cannot use the data directory {}",
                settings.data_dir.display()
            )
        })?;
        let (store, policy) = (files.clone(), settings.common.throttle);
        tokio::spawn(service_kit::housekeeping::run(
            db.clone(),
            move |conn, now| crate::housekeeping::purge(conn, &store, &policy, now),
        ));
        let state = AppState {
            files,
            openproject_cache: Default::default(),
            db: db.clone(),
            public_url: public_url.clone(),
            secret_box: secret_key.secret_box(),
            csrf: CsrfSigner::new(&secret_key),
            credentials: CredentialCache::default(),
            throttle: settings.common.throttle,
            http: service_kit::http_client::build(
                Destinations::allowing_local(settings.allow_local_remote_servers),
                OPENPROJECT_CONNECT_TIMEOUT,
                OPENPROJECT_TIMEOUT,
            ),
            settings,
        };
        let server = serve(listener, web::Data::new(state))?;
        tracing::info!(%public_url, "listening");
        Ok(Self {
            address,
            public_url,
            db,
            server,
            shutdown: service_kit::server::shutdown_signal(),
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The bound address (the real port when listening on port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Without trailing `/`.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The database pool (tests write fixtures through it).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        service_kit::server::serve_until_signal(self.server, self.shutdown).await
    }
}

impl service_kit::cli::ServiceBinary for Application {
    const NAME: &'static str = "nextcloud-openproject-app";
    const ABOUT: &'static str = "The Nextcloud side of the OpenProject file storages integration";
    type Settings = Settings;

    fn load(file: Option<&std::path::Path>) -> Result<Settings, service_kit::config::ConfigError> {
        Settings::load(file)
    }

    fn common(settings: &Settings) -> &service_kit::config::CommonSettings {
        &settings.common
    }

    async fn migrate(settings: Settings) -> anyhow::Result<()> {
        migrate(&settings).await.map(drop)
    }

    async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build(settings).await
    }

    fn bound_address(&self) -> SocketAddr {
        self.address()
    }

    fn public_url(&self) -> &str {
        &self.public_url
    }

    async fn serve_until_stopped(self) -> std::io::Result<()> {
        self.run_until_stopped().await
    }
}

/// Connects and applies pending migrations (the `migrate` subcommand, and every start).
pub async fn migrate(settings: &Settings) -> anyhow::Result<Db> {
    let url = settings.common.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let db = Db::connect(&url)?;
        let applied = db.migrate(&url, &MIGRATIONS)?;
        if applied > 0 {
            tracing::info!(applied, "migrations applied");
        }
        Ok(db)
    })
    .await
    .context("migration task")?
}

fn serve(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    let probes = service_kit::operations::Probes {
        db: state.db.clone(),
        migrations: MIGRATIONS,
        secret_box: state.secret_box.clone(),
    };
    let server =
        HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::QueryConfig::default().error_handler(|_, _| {
                    ApiError::BadRequest(messages::INVALID_QUERY.into()).into()
                }))
                .wrap(from_fn(routes::apps::hide_when_disabled))
                .wrap(from_fn(crate::security::check_ocs_credentials))
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
