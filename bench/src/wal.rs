//! The peak size of the services' SQLite write-ahead logs while the load scenarios run, sampled
//! from the files' sizes (`<database>-wal`).

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use integration_tests::Service;

/// Samples the logs of some services until [`LogWatch::peaks`].
pub struct LogWatch {
    stop: Arc<AtomicBool>,
    sampler: JoinHandle<Vec<u64>>,
}

/// The log file of `service`'s SQLite database, if it runs on one.
fn log_of(service: &Service, variable: &str) -> Option<PathBuf> {
    let url = service.env_var(variable)?;
    let path = url.strip_prefix("sqlite://")?;
    Some(PathBuf::from(format!("{path}-wal")))
}

impl LogWatch {
    /// Starts sampling the logs of `services` (each with the variable naming its database).
    pub fn start(services: &[(&Service, &str)]) -> Self {
        let logs: Vec<Option<PathBuf>> = services
            .iter()
            .map(|(service, variable)| log_of(service, variable))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let sampler = std::thread::spawn(move || {
            let mut peaks = vec![0; logs.len()];
            while !stopped.load(Ordering::Relaxed) {
                for (peak, log) in peaks.iter_mut().zip(&logs) {
                    let size = log
                        .as_ref()
                        .and_then(|log| std::fs::metadata(log).ok())
                        .map_or(0, |meta| meta.len());
                    *peak = (*peak).max(size);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            peaks
        });
        Self { stop, sampler }
    }

    /// The largest size each log reached, in bytes, in the order given to [`LogWatch::start`].
    pub fn peaks(self) -> Vec<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().expect("the sampler ends")
    }
}
