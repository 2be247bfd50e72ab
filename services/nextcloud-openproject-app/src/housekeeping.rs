//! Work no request does: removing chunked uploads abandoned for a day, with their chunks. Every
//! replica runs it; the deletes are idempotent and serialized with file writes, so replicas on
//! one database do not get in each other's way.

use std::time::Duration;

use service_kit::db::{serialized_transaction, Db};

use crate::domain::files::{now_secs, store::ContentStore, uploads, FILES_LOCK};

/// How often abandoned uploads are looked for.
const PERIOD: Duration = Duration::from_secs(15 * 60);

/// Runs forever: once at start, then every [`PERIOD`].
pub async fn run(db: Db, files: ContentStore) {
    let mut ticks = tokio::time::interval(PERIOD);
    loop {
        ticks.tick().await;
        let purged = db
            .run(|conn| {
                serialized_transaction(conn, FILES_LOCK, |conn| {
                    uploads::purge_expired(conn, now_secs())
                })
                .map_err(anyhow::Error::from)
            })
            .await;
        match purged {
            Ok(keys) if keys.is_empty() => {}
            Ok(keys) => {
                files.remove(&keys);
                tracing::info!(chunks = keys.len(), "abandoned uploads removed");
            }
            Err(e) => tracing::warn!(error = %e, "abandoned uploads could not be removed"),
        }
    }
}
