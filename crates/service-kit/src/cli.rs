//! The command line both binaries share: `<binary> [--config FILE] [serve|migrate|ready]`.
//! A configuration error prints one line and exits with code 2, anything else failing with 1.

use std::{future::Future, net::SocketAddr, path::Path, path::PathBuf, process::ExitCode};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::config::{CommonSettings, ConfigError};

/// What a service binary is, for [`main`].
pub trait ServiceBinary: Sized {
    /// The binary's name, as in its log lines and the "listening" line.
    const NAME: &'static str;
    /// One line for `--help`.
    const ABOUT: &'static str;
    type Settings;

    fn load(file: Option<&Path>) -> Result<Self::Settings, ConfigError>;
    fn common(settings: &Self::Settings) -> &CommonSettings;
    /// Connects and applies pending migrations.
    fn migrate(settings: Self::Settings) -> impl Future<Output = anyhow::Result<()>>;
    /// Connects, migrates and binds, ready to serve.
    fn build(settings: Self::Settings) -> impl Future<Output = anyhow::Result<Self>>;
    fn bound_address(&self) -> SocketAddr;
    fn public_url(&self) -> &str;
    /// Serves until SIGINT or SIGTERM, then drains in-flight requests.
    fn serve_until_stopped(self) -> impl Future<Output = std::io::Result<()>>;
}

#[derive(Parser)]
#[command(version)]
struct Cli {
    /// A TOML file of settings (keys as the environment variables without their prefix, in
    /// lower case); the environment wins over it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Clone, Copy)]
enum Command {
    /// Migrate the database and serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Ask the service listening at the configured address whether it is ready (`/readyz`):
    /// exit 0 when it is, 1 otherwise. For container health checks, which have no curl.
    Ready,
}

/// The whole `main` of a service binary.
pub fn main<S: ServiceBinary>() -> ExitCode {
    crate::allocator::configure();
    let matches = Cli::command().name(S::NAME).about(S::ABOUT).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let settings = match S::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if !matches!(command, Command::Ready) {
        crate::telemetry::init(&S::common(&settings).log);
    }
    // Requests run on actix's worker threads, each with a runtime of its own; this one only
    // starts the server and waits for a signal, so one thread is enough.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{}: cannot start a runtime: {e}", S::NAME);
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Migrate => S::migrate(settings).await,
            Command::Serve => serve::<S>(settings).await,
            Command::Ready => ready(S::common(&settings).listen).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match e.downcast_ref::<ConfigError>() {
                Some(config_error) => {
                    eprintln!("{config_error}");
                    return ExitCode::from(2);
                }
                None => eprintln!("{}: {e:#}", S::NAME),
            }
            ExitCode::FAILURE
        }
    }
}

async fn serve<S: ServiceBinary>(settings: S::Settings) -> anyhow::Result<()> {
    let app = S::build(settings).await?;
    // One line on stdout for scripts and process-level tests waiting for readiness.
    println!(
        "{} listening on http://{} (public URL {})",
        S::NAME,
        app.bound_address(),
        app.public_url()
    );
    app.serve_until_stopped().await.map_err(Into::into)
}

/// Where a probe on this machine reaches a server listening on `listen`: an unspecified
/// address (all interfaces) is reached on loopback.
pub fn probe_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

async fn ready(listen: SocketAddr) -> anyhow::Result<()> {
    let url = format!(
        "http://{}{}",
        probe_address(listen),
        crate::operations::READINESS_PATH
    );
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()?
        .get(&url)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{url} does not answer: {e}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    println!("{body}");
    anyhow::ensure!(status.is_success(), "{url} answered {status}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_on_all_interfaces_is_probed_on_loopback() {
        let probe = |listen: &str| probe_address(listen.parse().unwrap()).to_string();
        assert_eq!(probe("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(probe("[::]:8081"), "[::1]:8081");
        assert_eq!(probe("10.1.2.3:9000"), "10.1.2.3:9000");
    }
}
