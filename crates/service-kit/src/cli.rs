//! The command line both binaries share: `<binary> [--config FILE] [serve|migrate|ready]`.
//! A configuration error prints one line and exits with code 2, anything else failing with 1.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::{
    application::{migrate, Application, Service},
    config::{ConfigError, ServiceSettings},
};

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
pub fn main<S: Service>() -> ExitCode {
    crate::allocator::configure();
    crate::db::configure_sqlite();
    let matches = Cli::command().name(S::NAME).about(S::ABOUT).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let settings = match S::Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if !matches!(command, Command::Ready) {
        crate::telemetry::init(&settings.common().log);
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
            Command::Migrate => migrate::<S>(&settings).await.map(drop),
            Command::Serve => serve::<S>(settings).await,
            Command::Ready => ready(settings.common().listen).await,
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

async fn serve<S: Service>(settings: S::Settings) -> anyhow::Result<()> {
    let app = Application::<S>::build(settings).await?;
    // One line on stdout for scripts and process-level tests waiting for readiness.
    println!(
        "{} listening on http://{} (public URL {})",
        S::NAME,
        app.address(),
        app.public_url()
    );
    app.run_until_stopped().await.map_err(Into::into)
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
