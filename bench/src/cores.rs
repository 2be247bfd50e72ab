//! Keeps the load generator and the servers on different cores: the bench pins itself to the
//! last core before its runtime starts, and every server process (services, the ceiling, the
//! peer) to the cores before it, so a server never competes with the client for a core and
//! every server gets the same CPU budget as the ceiling.

use std::{process::Command, sync::OnceLock};

/// The cores as `(servers, client)` lists for `taskset -c`, or `None` on a single core (or
/// without `taskset`), where everything shares the one core.
fn layout() -> Option<(String, String)> {
    // Counted once, before this process is pinned: afterwards it would see only its own core.
    static LAYOUT: OnceLock<Option<(String, String)>> = OnceLock::new();
    LAYOUT
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().ok()?.get();
            if cores < 2 {
                return None;
            }
            let servers = if cores == 2 {
                "0".to_string()
            } else {
                format!("0-{}", cores - 2)
            };
            Some((servers, (cores - 1).to_string()))
        })
        .clone()
}

fn taskset(cpus: &str, pid: u32) -> bool {
    Command::new("taskset")
        .args(["--all-tasks", "--cpu-list", "--pid", cpus, &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Pins this process to the client core; call before any thread is started so they all
/// inherit it. Returns how the cores are split, for the report.
pub fn pin_client() -> String {
    match layout() {
        Some((servers, client)) if taskset(&client, std::process::id()) => {
            format!("servers on core(s) {servers}, load generator on core {client}")
        }
        _ => "servers and load generator sharing the cores (no taskset or a single core)".into(),
    }
}

/// Moves a server process, with all its threads, to the server cores. Threads it starts later
/// inherit the affinity of the thread that starts them.
pub fn pin_server(pid: u32) {
    if let Some((servers, _)) = layout() {
        taskset(&servers, pid);
    }
}
