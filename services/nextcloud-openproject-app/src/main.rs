//! `nextcloud-openproject-app [--config FILE] [serve|migrate]`

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use nextcloud_openproject_app::{
    config::Settings,
    startup::{self, Application},
};
use service_kit::config::ConfigError;

#[global_allocator]
static ALLOCATOR: service_kit::allocator::Allocator = service_kit::allocator::Allocator;

#[derive(Parser)]
#[command(
    version,
    about = "The Nextcloud side of the OpenProject file storages integration"
)]
struct Cli {
    /// A TOML file of settings (keys as the NCOA_* variables without the prefix); the
    /// environment wins over it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Clone, Copy)]
enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

// Requests run on actix's worker threads, each with a runtime of its own; this one only starts
// the server and waits for a signal, so one thread is enough.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
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
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => startup::migrate(&settings).await.map(drop),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<ConfigError>() {
            Some(config) => {
                eprintln!("{config}");
                ExitCode::from(2)
            }
            None => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    // Scripts and the system tests wait for this line.
    println!(
        "nextcloud-openproject-app listening on http://{} (public URL {})",
        app.local_addr(),
        app.public_url()
    );
    app.run_until_stopped().await?;
    Ok(())
}
