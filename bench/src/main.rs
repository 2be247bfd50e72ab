//! `make bench`: the two services (release builds, SQLite) under load. Each scenario reports
//! requests per second and p50/p99 latency, the median of several runs; the report is printed
//! and written to `target/bench/report.md`, with a chart in `target/bench/report.svg`.
//! A 1 GiB WebDAV upload and download close the report (`transfer.rs`).

mod chart;
mod cores;
mod load;
mod oauth;
mod peer;
mod reads;
mod reference;
mod resources;
mod setup;
mod transfer;
mod wal;

use std::{fmt::Write as _, path::PathBuf};

use integration_tests::spawn_pair;

use load::Figures;

/// How many times each scenario runs; the median run is reported.
const RUNS: usize = 3;

/// `BENCH_ONLY=<text>` runs only the load scenarios whose name contains `<text>` (for profiling
/// one of them); start-up, memory and setup are measured either way. A selected scenario is
/// announced on stderr before it runs, so a profiler can attach at the right moment.
fn selected(name: &str) -> bool {
    let selected = std::env::var("BENCH_ONLY").map_or(true, |only| name.contains(&only));
    if selected {
        eprintln!("bench: measuring {name}");
    }
    selected
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some(reference::SERVER_ARGUMENT) {
        reference::serve().expect("the ceiling's server runs");
        return;
    }
    // Start-up and idle memory, each service alone on an empty database, before the cores are
    // split, so each starts as it would in production.
    let mut services = Vec::new();
    for binary in ["openproject-storages", "nextcloud-openproject-app"] {
        let (service, ready_after) = resources::cold_start(binary);
        std::thread::sleep(std::time::Duration::from_millis(500));
        services.push((binary, ready_after, service.rss_kib()));
    }
    let cores = cores::pin_client();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the load generator's runtime")
        .block_on(load_scenarios(services, cores));
}

/// A pair of services, moved to the server cores.
fn pinned_pair() -> integration_tests::Pair {
    let pair = spawn_pair();
    cores::pin_server(pair.openproject.pid());
    cores::pin_server(pair.nextcloud.pid());
    pair
}

type ColdStart = (&'static str, std::time::Duration, Option<u64>);

async fn load_scenarios(services: Vec<ColdStart>, cores: String) {
    // The setup, timed on a pair of its own.
    let mut setup_times = Vec::new();
    for _ in 0..RUNS {
        let fresh = pinned_pair();
        setup_times.push(setup::wall_time(&fresh).await);
    }
    setup_times.sort();
    let setup_time = setup_times[setup_times.len() / 2];

    let pair = pinned_pair();
    let servers = [pair.openproject.pid(), pair.nextcloud.pid()];
    let integration = pair.set_up_integration().await;
    let logs = wal::LogWatch::start(&[
        (&pair.openproject, "OPS_DATABASE_URL"),
        (&pair.nextcloud, "NCOA_DATABASE_URL"),
    ]);
    let mut rows: Vec<(String, Figures)> = Vec::new();
    let ceiling = reference::ceiling(RUNS).await;
    rows.push((
        "Ceiling: bare actix-web handler (form in, JSON out)".into(),
        ceiling,
    ));

    const OP_REFRESH: &str =
        "OpenProject POST /oauth/token (refresh_token grant, rotation persisted)";
    if selected(OP_REFRESH) {
        let chains =
            oauth::openproject_refresh_chains(&pair, &integration, load::CONCURRENCY).await;
        let figures = oauth::refresh_load(
            &pair.openproject.url,
            "/oauth/token",
            &servers,
            chains,
            RUNS,
        )
        .await;
        rows.push((OP_REFRESH.into(), figures));
    }
    const NC_REFRESH: &str = "Nextcloud POST /index.php/apps/oauth2/api/v1/token (refresh_token grant, both tokens rotated)";
    if selected(NC_REFRESH) {
        let chains = oauth::nextcloud_refresh_chains(&pair, &integration, load::CONCURRENCY).await;
        let figures = oauth::refresh_load(
            &pair.nextcloud.url,
            "/index.php/apps/oauth2/api/v1/token",
            &servers,
            chains,
            RUNS,
        )
        .await;
        rows.push((NC_REFRESH.into(), figures));
    }

    // The peer right after the token endpoints, so that the ratios compare neighbouring runs.
    const PEER: &str = "Peer: node oidc-provider POST /token (client_credentials, in-memory store)";
    if selected(PEER) {
        match peer::token_load(RUNS).await {
            Ok(figures) => rows.push((PEER.into(), figures)),
            Err(reason) => eprintln!("peer reference skipped: {reason}"),
        }
    }
    const DURABLE_PEER: &str =
        "Peer: node oidc-provider POST /token (refresh_token grant, rotation, SQLite store)";
    if selected(DURABLE_PEER) {
        match peer::refresh_load(RUNS).await {
            Ok(figures) => rows.push((DURABLE_PEER.into(), figures)),
            Err(reason) => eprintln!("durable peer reference skipped: {reason}"),
        }
    }

    for read in reads::prepare(&pair, &integration).await {
        if !selected(&read.name) {
            continue;
        }
        let (closed, steady) = reads::measure(&read, &servers, RUNS).await;
        rows.push((read.name.clone(), closed));
        rows.push((
            format!("{} at a steady {} req/s", read.name, reads::STEADY_RATE),
            steady,
        ));
    }

    let loaded = [pair.openproject.rss_kib(), pair.nextcloud.rss_kib()];
    let log_peaks = logs.peaks();
    // Large files last, on a service of their own: they need the disk, not the load generator.
    const TRANSFER: &str = "WebDAV 1 GiB upload and download";
    let transfers = if selected(TRANSFER) {
        Some(transfer::measure().await)
    } else {
        None
    };
    let mut report = render(&rows, &ceiling);
    if let Some(transfers) = &transfers {
        report.push_str(&transfer::render(transfers));
    }
    report.push_str("\n| Service | start to ready (empty database) | idle RSS | RSS after the load above | peak SQLite log in the load above |\n|---|---:|---:|---:|---:|\n");
    for (((binary, ready_after, idle), loaded), log_peak) in
        services.iter().zip(loaded).zip(log_peaks)
    {
        let _ = writeln!(
            report,
            "| {binary} | {:.0} ms | {} | {} | {:.1} MiB |",
            ready_after.as_secs_f64() * 1000.0,
            resources::mebibytes(*idle),
            resources::mebibytes(loaded),
            log_peak as f64 / (1024.0 * 1024.0)
        );
    }
    let _ = writeln!(report, "\nCores: {cores}.");
    let _ = writeln!(
        report,
        "\nSetup steps 1–5 through both APIs (median of {RUNS} fresh pairs): {:.0} ms",
        setup_time.as_secs_f64() * 1000.0
    );
    println!("{report}");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    std::fs::write(dir.join("report.md"), &report).expect("report written");
    std::fs::write(dir.join("report.svg"), chart::svg(&rows, &ceiling)).expect("chart written");
}

fn render(rows: &[(String, Figures)], ceiling: &Figures) -> String {
    let mut out = String::from(
        "| Scenario | req/s | of ceiling | p50 ms | p99 ms | requests | server CPU µs/request |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (name, figures) in rows {
        let _ = writeln!(
            out,
            "| {name} | {:.0} | {:.0}% | {:.2} | {:.2} | {} | {} |",
            figures.requests_per_second,
            100.0 * figures.requests_per_second / ceiling.requests_per_second,
            figures.p50.as_secs_f64() * 1000.0,
            figures.p99.as_secs_f64() * 1000.0,
            figures.requests,
            figures.cpu_per_request.map_or_else(
                || "–".into(),
                |cpu| format!("{:.0}", cpu.as_secs_f64() * 1e6)
            )
        );
    }
    out
}
