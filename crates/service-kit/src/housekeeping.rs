//! Work no request does: deleting what has expired (tokens past their retention, sessions,
//! throttle rows, …). Each service names its jobs; this runs them periodically and logs what
//! they removed. Every replica runs them: the deletes are conditional on time, so running them
//! twice removes nothing more, and they are single statements that never wait on each other.

use std::time::Duration;

use crate::{
    db::{AnyConnection, Db},
    time::now_millis,
};

/// How often each service's jobs run (also once at start).
pub const PERIOD: Duration = Duration::from_secs(15 * 60);

/// What one run removed: (what, how many), logged when not zero.
pub type Removed = Vec<(&'static str, usize)>;

/// Runs `jobs` once at start and then every [`PERIOD`], forever.
pub async fn run<F>(db: Db, jobs: F)
where
    F: Fn(&mut AnyConnection, i64) -> anyhow::Result<Removed> + Clone + Send + 'static,
{
    let mut ticks = tokio::time::interval(PERIOD);
    loop {
        ticks.tick().await;
        let jobs = jobs.clone();
        match db.run(move |conn| jobs(conn, now_millis())).await {
            Ok(removed) => log(&removed),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
        }
    }
}

/// Logs each non-zero count of a run.
pub fn log(removed: &Removed) {
    for (what, count) in removed.iter().filter(|(_, count)| *count > 0) {
        crate::operations::METRICS.observe_purge(what, *count);
        tracing::info!(what, removed = count, "housekeeping");
    }
}
