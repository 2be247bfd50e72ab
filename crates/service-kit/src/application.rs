//! The one start-up path of both services, for their binaries and their tests: settings in, a
//! migrated database and a bound server out. A service says what is its own through [`Service`];
//! [`Application::build`] does the rest in the same order for both.

use std::{future::Future, marker::PhantomData, net::SocketAddr, net::TcpListener};

use actix_web::dev::Server;
use anyhow::Context;

use crate::{
    auth::{CredentialCache, ThrottlePolicy},
    config::ServiceSettings,
    crypto::{self, CsrfSigner, SecretBox, SecretKey},
    db::{AnyConnection, Db, Migrations},
    secret_key_file::resolve_secret_key,
    server::{bind, serve_until_signal, shutdown_signal, ShutdownSignal},
};

/// What one service is: its name, settings, migrations and how it serves.
pub trait Service: Sized + 'static {
    /// The binary's name, as in its log lines and the "listening" line.
    const NAME: &'static str;
    /// One line for `--help`.
    const ABOUT: &'static str;
    const MIGRATIONS: Migrations;
    /// The product whose admin this is, as the start-up line names it ("OpenProject").
    const PRODUCT: &'static str;
    type Settings: ServiceSettings + Send + 'static;

    /// Creates the configured admin unless a user of that name exists.
    const BOOTSTRAP_ADMIN: BootstrapAdmin;

    /// Bootstraps what the service needs before serving (its admin, background work) and returns
    /// its server on `listener`, whose handlers reach `core`.
    fn start(
        settings: Self::Settings,
        core: CoreState,
        listener: TcpListener,
    ) -> impl Future<Output = anyhow::Result<Server>>;
}

/// Creates the admin `username` unless a user of that name exists, with `password` (argon2: it
/// runs on a blocking thread). With no configured password it gets a generated one, which
/// [`AdminPassword::created`] reports so that the start-up line prints it once.
pub type BootstrapAdmin =
    fn(&mut AnyConnection, &str, AdminPassword) -> anyhow::Result<AdminBootstrap>;

/// The password a bootstrapped admin gets: the configured one, else a generated one.
pub struct AdminPassword {
    password: String,
    generated: bool,
}

impl AdminPassword {
    pub fn new(configured: Option<&str>) -> Self {
        match configured {
            Some(password) => Self {
                password: password.to_string(),
                generated: false,
            },
            None => Self {
                password: crypto::random_alphanumeric(24),
                generated: true,
            },
        }
    }

    pub fn expose(&self) -> &str {
        &self.password
    }

    /// What [`Service::BOOTSTRAP_ADMIN`] reports once it created the admin with this password.
    pub fn created(self) -> AdminBootstrap {
        match self.generated {
            true => AdminBootstrap::CreatedWithPassword(self.password),
            false => AdminBootstrap::Created,
        }
    }
}

/// What start-up found or did about the configured admin.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// Present already (or created by another replica at the same moment).
    AlreadyPresent,
    /// Created with the configured password.
    Created,
    /// Created with this generated password, which only the start-up line shows.
    CreatedWithPassword(String),
}

/// The state both services' handlers share; each service's `AppState` derefs to it.
pub struct CoreState {
    pub db: Db,
    /// Without trailing `/`.
    pub public_url: String,
    /// Encryption at rest of the secrets this service must read back.
    pub secret_box: SecretBox,
    pub csrf: CsrfSigner,
    pub credentials: CredentialCache,
    pub throttle: ThrottlePolicy,
}

impl CoreState {
    fn new(db: Db, public_url: String, secret_key: &SecretKey, throttle: ThrottlePolicy) -> Self {
        Self {
            db,
            public_url,
            secret_box: secret_key.secret_box(),
            csrf: CsrfSigner::new(secret_key),
            credentials: CredentialCache::default(),
            throttle,
        }
    }

    /// Cookies carry `Secure` when browsers reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// A service, migrated and bound, ready to serve.
pub struct Application<S> {
    address: SocketAddr,
    public_url: String,
    db: Db,
    server: Server,
    /// Registered at build time, so a signal right after readiness still stops gracefully.
    shutdown: ShutdownSignal,
    // A marker only: the application holds no `S`, so it is `Send` whatever `S` is.
    service: PhantomData<fn() -> S>,
}

impl<S: Service> Application<S> {
    /// Resolves the secret key, connects and migrates the database, binds the listener (port 0
    /// picks a free one) and lets the service start.
    pub async fn build(settings: S::Settings) -> anyhow::Result<Self> {
        let common = settings.common();
        let secret_key = resolve_secret_key(
            common.secret_key.clone(),
            &common.database_url,
            &format!("{}_SECRET_KEY", S::Settings::PREFIX),
        )?;
        let db = migrate::<S>(&settings).await?;
        let (listener, public_url) = bind(common.listen, common.public_url.as_deref())
            .with_context(|| format!("cannot listen on {}", common.listen))?;
        let address = listener.local_addr()?;
        bootstrap_admin::<S>(&db, &settings).await?;
        let core = CoreState::new(db.clone(), public_url.clone(), &secret_key, common.throttle);
        let server = S::start(settings, core, listener).await?;
        tracing::info!(%public_url, "{} listening", S::NAME);
        Ok(Self {
            address,
            public_url,
            db,
            server,
            shutdown: shutdown_signal(),
            service: PhantomData,
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

    /// The database, for tests that write fixtures or inspect what was stored.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until SIGINT or SIGTERM, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        serve_until_signal(self.server, self.shutdown).await
    }
}

/// Connects and applies pending migrations (every start, and the `migrate` subcommand).
pub async fn migrate<S: Service>(settings: &S::Settings) -> anyhow::Result<Db> {
    let url = settings.common().database_url.clone();
    tokio::task::spawn_blocking(move || {
        let db = Db::connect(&url)?;
        let applied = db.migrate(&url, &S::MIGRATIONS)?;
        if applied > 0 {
            tracing::info!(applied, "database migrated");
        }
        Ok(db)
    })
    .await
    .context("migration task")?
}

/// Creates the configured admin on first start; a generated password is printed once, on stdout,
/// so the operator can sign in, and never logged.
async fn bootstrap_admin<S: Service>(db: &Db, settings: &S::Settings) -> anyhow::Result<()> {
    let common = settings.common();
    let username = common.admin_username.clone();
    let password = AdminPassword::new(common.admin_password.as_ref().map(|p| p.expose()));
    let bootstrap = {
        let username = username.clone();
        db.run(move |conn| (S::BOOTSTRAP_ADMIN)(conn, &username, password))
            .await
            .context("bootstrapping the admin")?
    };
    match bootstrap {
        AdminBootstrap::CreatedWithPassword(password) => println!(
            "{} admin \"{username}\" created with generated password: {password}",
            S::PRODUCT
        ),
        AdminBootstrap::Created => tracing::info!(admin = %username, "admin created"),
        AdminBootstrap::AlreadyPresent => {}
    }
    Ok(())
}
