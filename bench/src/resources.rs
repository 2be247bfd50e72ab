//! Start-up time on an empty database and resident memory, idle and after load.

use std::time::{Duration, Instant};

use integration_tests::{base_env, start, Service, NCOA_ADMIN_PASSWORD, OPS_ADMIN_PASSWORD};
use service_kit::testing::TestDatabase;

/// A service started on a fresh database, with the time from spawning it to its readiness line
/// (migrations and the admin bootstrap included).
pub fn cold_start(binary: &str) -> (Service, Duration) {
    let (prefix, password, label) = if binary == "openproject-storages" {
        ("OPS", OPS_ADMIN_PASSWORD, "ops_bench")
    } else {
        ("NCOA", NCOA_ADMIN_PASSWORD, "ncoa_bench")
    };
    let db = TestDatabase::create(label);
    let env = base_env(prefix, &db, password);
    let started = Instant::now();
    let service = start(binary, env, db);
    (service, started.elapsed())
}

pub fn mebibytes(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}
