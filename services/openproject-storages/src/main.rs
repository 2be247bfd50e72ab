//! `openproject-storages [--config FILE] [serve|migrate]`

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use openproject_storages::{config::Settings, startup};

#[global_allocator]
static ALLOCATOR: service_kit::allocator::Allocator = service_kit::allocator::Allocator;

#[derive(Parser)]
#[command(
    version,
    about = "The OpenProject side of the OpenProject ⇄ Nextcloud file storage integration"
)]
struct Cli {
    /// Optional TOML file; OPS_* environment variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

fn main() -> ExitCode {
    service_kit::allocator::configure();
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    service_kit::telemetry::init(&settings.common.log);
    // Requests run on actix's worker threads, each with a runtime of its own; this one only
    // starts the server and waits for a signal, so one thread is enough.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Migrate => startup::open_database(&settings).map(|_| ()),
            Command::Serve => {
                let app = startup::Application::build(settings).await?;
                // One line on stdout for scripts and process-level tests waiting for readiness.
                println!(
                    "openproject-storages listening on http://{} (public URL {})",
                    app.address(),
                    app.public_url()
                );
                app.run_until_stopped().await.map_err(Into::into)
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match e.downcast_ref::<service_kit::config::ConfigError>() {
                Some(config_error) => {
                    eprintln!("{config_error}");
                    return ExitCode::from(2);
                }
                None => eprintln!("openproject-storages: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}
