//! Logging: one subscriber, human or JSON, filtered by an env-filter directive.

use tracing_subscriber::{fmt, EnvFilter};

#[derive(Debug, Clone)]
pub struct LogSettings {
    /// An env-filter directive such as `info` or `openproject_storages=debug,info`.
    pub filter: String,
    pub json: bool,
}

/// Installs the global subscriber once; later calls (tests starting several apps) are no-ops.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if settings.json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
