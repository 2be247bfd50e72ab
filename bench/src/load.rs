//! A closed-loop load generator: `CONCURRENCY` workers, each sending its next request as soon as
//! the previous answer arrived, until `REQUESTS` requests were sent in all.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

pub const CONCURRENCY: usize = 8;
/// Long enough for the CPU figure (counted in 10 ms ticks) to be read to about 1%.
pub const REQUESTS: usize = 5_000;
pub const WARM_UP_REQUESTS: usize = 500;

#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub requests: usize,
    pub requests_per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// CPU time (user and system) the server processes spent per request, when measured. Unlike
    /// the rate, it hardly depends on what else the machine is doing.
    pub cpu_per_request: Option<Duration>,
}

/// The CPU time (user and system, all threads, living and ended) the processes `pids` have used
/// so far, from `/proc/<pid>/stat`; `None` where that cannot be read.
pub fn cpu_time(pids: &[u32]) -> Option<Duration> {
    // /proc counts in USER_HZ, fixed at 100 in Linux's interface to user space.
    const TICKS_PER_SECOND: u64 = 100;
    let mut ticks = 0;
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces): state is the first, utime the
        // 12th and stime the 13th.
        let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
        let user: u64 = fields.next()?.parse().ok()?;
        let system: u64 = fields.next()?.parse().ok()?;
        ticks += user + system;
    }
    (!pids.is_empty()).then(|| Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// Runs one worker per state in `states`; `step` sends one request with the worker's state and
/// returns the next state (e.g. the rotated refresh token). Returns the figures and the states
/// the workers ended with.
pub async fn closed_loop<S, F, Fut>(states: Vec<S>, total: usize, step: Arc<F>) -> (Figures, Vec<S>)
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = S> + Send,
{
    let sent = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = states
        .into_iter()
        .map(|mut state| {
            let (step, sent) = (step.clone(), sent.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while sent.fetch_add(1, Ordering::Relaxed) < total {
                    let begun = Instant::now();
                    state = step(state).await;
                    latencies.push(begun.elapsed());
                }
                (latencies, state)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    let mut states = Vec::new();
    for worker in workers {
        let (worker_latencies, state) = worker.await.expect("worker finished");
        latencies.extend(worker_latencies);
        states.push(state);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let figures = Figures {
        requests: latencies.len(),
        requests_per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        cpu_per_request: None,
    };
    (figures, states)
}

/// A shorter warm-up run that is not counted (connection pools, caches, a JIT), then `runs`
/// counted runs of [`REQUESTS`] requests; the median run, with the CPU time the server processes
/// `servers` spent on it, and the states the workers ended with.
pub async fn measured<S, F, Fut>(
    runs: usize,
    servers: &[u32],
    states: Vec<S>,
    step: Arc<F>,
) -> (Figures, Vec<S>)
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = S> + Send,
{
    let (_, mut states) = closed_loop(states, WARM_UP_REQUESTS, step.clone()).await;
    let mut figures = Vec::with_capacity(runs);
    for _ in 0..runs {
        let cpu_before = cpu_time(servers);
        let (mut run, next) = closed_loop(states, REQUESTS, step.clone()).await;
        run.cpu_per_request = cpu_before
            .zip(cpu_time(servers))
            .map(|(before, after)| (after - before) / run.requests as u32);
        figures.push(run);
        states = next;
    }
    (median(figures), states)
}

/// The run with the median rate among `runs`.
pub fn median(mut runs: Vec<Figures>) -> Figures {
    runs.sort_by(|a, b| a.requests_per_second.total_cmp(&b.requests_per_second));
    runs[runs.len() / 2]
}

/// Sends `total` requests at a fixed `rate` per second, whatever the answers' latency (an open
/// loop: a slow answer does not slow the arrivals), and reports the latencies.
pub async fn open_loop<F, Fut>(rate: u32, total: usize, step: Arc<F>) -> Figures
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut requests = Vec::with_capacity(total);
    for _ in 0..total {
        ticks.tick().await;
        let step = step.clone();
        requests.push(tokio::spawn(async move {
            let begun = Instant::now();
            step().await;
            begun.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    for request in requests {
        latencies.push(request.await.expect("request finished"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Figures {
        requests: latencies.len(),
        requests_per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        cpu_per_request: None,
    }
}
