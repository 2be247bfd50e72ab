//! A 1 GiB file through the Nextcloud side's WebDAV over loopback: up in one `PUT`, up as a
//! chunked upload v2 (when the service offers it), and down with `GET`. Each rate is read
//! against a plain copy of the same file on the same disk (`std::fs::copy`, timed in the same
//! run), and the service's peak resident memory is sampled during each transfer. The targets:
//! at least half the copy's rate, and under 64 MiB resident.

use std::{
    fmt::Write as _,
    io::{BufRead, BufReader, Read, Write},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use integration_tests::{
    clients::{pseudo_random, TempDir},
    dav::{DavClient, DavServer},
};

const SIZE: u64 = 1024 * 1024 * 1024;
const CHUNK: u64 = 16 * 1024 * 1024;
/// The targets of the issue: a share of the plain copy's rate, and resident memory.
const TARGET_SHARE: f64 = 0.5;
const TARGET_RSS_KIB: u64 = 64 * 1024;

/// One transfer: how long it took, or why it could not be measured.
pub struct Transfer {
    pub name: String,
    pub outcome: Result<Duration, String>,
    pub peak_rss_kib: Option<u64>,
}

pub struct Figures {
    pub copy: Duration,
    pub transfers: Vec<Transfer>,
}

/// The source file, written in 64 MiB pieces so the bench never holds it whole.
fn write_source(path: &Path) {
    let mut file = std::fs::File::create(path).expect("source file");
    let piece = 64 * 1024 * 1024;
    for i in 0..SIZE / piece {
        file.write_all(&pseudo_random(piece as usize, i + 1))
            .expect("source written");
    }
    file.sync_all().expect("source on disk");
}

/// Polls the process's `VmRSS` every 5 ms until stopped; the highest value seen.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Option<u64>>,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

impl RssSampler {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = None;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak.max(rss_kib(pid))
        });
        Self { stop, thread }
    }

    fn finish(self) -> Option<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().ok().flatten()
    }
}

/// One PUT of the whole file on a plain connection; the kernel copies the file to the socket,
/// so the client costs next to nothing.
fn put_whole(dav: &DavClient, path: &Path, name: &str) -> Result<(), String> {
    let url = url::Url::parse(&dav.file_url(name)).map_err(|e| e.to_string())?;
    let address = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(80)
    );
    let mut stream = std::net::TcpStream::connect(&address).map_err(|e| e.to_string())?;
    let credentials = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", dav.user, dav.password))
    };
    write!(
        stream,
        "PUT {} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic {credentials}\r\nContent-Length: {SIZE}\r\nConnection: close\r\n\r\n",
        url.path()
    )
    .map_err(|e| e.to_string())?;
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    std::io::copy(&mut file, &mut stream).map_err(|e| e.to_string())?;
    let mut status = String::new();
    BufReader::new(stream)
        .read_line(&mut status)
        .map_err(|e| e.to_string())?;
    match status.split_whitespace().nth(1) {
        Some("201") | Some("204") => Ok(()),
        _ => Err(format!("PUT answered {}", status.trim())),
    }
}

/// MKCOL, 16 MiB chunks, MOVE: Nextcloud's chunked upload v2.
async fn put_chunked(dav: &DavClient, path: &Path, name: &str) -> Result<(), String> {
    let upload = dav.chunked_upload("bench-upload", name);
    let created = upload.mkcol(Some(SIZE)).await;
    if created.status().as_u16() != 201 {
        return Err(format!(
            "not offered: MKCOL of the upload folder answered {}",
            created.status()
        ));
    }
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    for number in 1..=SIZE.div_ceil(CHUNK) {
        let mut piece = vec![0u8; CHUNK as usize];
        let n = file.read(&mut piece).map_err(|e| e.to_string())?;
        piece.truncate(n);
        let response = upload.put_chunk(&number.to_string(), piece, SIZE).await;
        if !response.status().is_success() {
            return Err(format!(
                "PUT of chunk {number} answered {}",
                response.status()
            ));
        }
    }
    let moved = upload.assemble(SIZE).await;
    if !moved.status().is_success() {
        return Err(format!("MOVE .file answered {}", moved.status()));
    }
    Ok(())
}

async fn get_whole(dav: &DavClient, name: &str) -> Result<(), String> {
    let mut response = dav
        .request(reqwest::Method::GET, &dav.file_url(name))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("GET answered {}", response.status()));
    }
    let mut received = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        received += chunk.len() as u64;
    }
    if received != SIZE {
        return Err(format!("GET returned {received} bytes of {SIZE}"));
    }
    Ok(())
}

async fn timed<F: std::future::Future<Output = Result<(), String>>>(
    name: &str,
    pid: u32,
    work: F,
) -> Transfer {
    eprintln!("bench: measuring {name}");
    let sampler = RssSampler::start(pid);
    let started = Instant::now();
    let outcome = work.await.map(|()| started.elapsed());
    Transfer {
        name: name.into(),
        outcome,
        peak_rss_kib: sampler.finish(),
    }
}

/// The copy, then the three transfers against a fresh service on the server cores.
pub async fn measure() -> Figures {
    let dir = TempDir::new("bench-transfer");
    let source: PathBuf = dir.join("source.bin");
    let copy_path = dir.join("copy.bin");
    let source_for_write = source.clone();
    tokio::task::spawn_blocking(move || write_source(&source_for_write))
        .await
        .expect("source written");
    let (from, to) = (source.clone(), copy_path.clone());
    let copy = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        std::fs::copy(&from, &to).expect("plain copy");
        started.elapsed()
    })
    .await
    .expect("copy timed");
    let _ = std::fs::remove_file(&copy_path);

    // The service keeps its files beside the source, on the same disk.
    let server = DavServer::spawn_in(dir.path(), Some(2 * SIZE));
    crate::cores::pin_server(server.service.pid());
    let pid = server.service.pid();
    let dav = server.admin();
    let _ = dav.tree().await;

    let mut transfers = Vec::new();
    let (put_dav, put_source) = (dav.clone(), source.clone());
    transfers.push(
        timed("Upload: one PUT", pid, async move {
            tokio::task::spawn_blocking(move || put_whole(&put_dav, &put_source, "whole.bin"))
                .await
                .map_err(|e| e.to_string())?
        })
        .await,
    );
    transfers.push(
        timed(
            &format!(
                "Upload: chunked v2 ({} chunks of {} MiB)",
                SIZE / CHUNK,
                CHUNK >> 20
            ),
            pid,
            put_chunked(&dav, &source, "chunked.bin"),
        )
        .await,
    );
    transfers.push(timed("Download: one GET", pid, get_whole(&dav, "whole.bin")).await);
    Figures { copy, transfers }
}

fn mebibytes_per_second(duration: Duration) -> f64 {
    SIZE as f64 / (1024.0 * 1024.0) / duration.as_secs_f64()
}

/// The report's section: each rate as a share of the copy's, peak RSS, and the targets.
pub fn render(figures: &Figures) -> String {
    let copy_rate = mebibytes_per_second(figures.copy);
    let mut out = format!(
        "\n| WebDAV, 1 GiB over loopback (release, SQLite) | MiB/s | of a plain copy | peak RSS of the service | targets (≥ {:.0}% of the copy, < {} MiB) |\n|---|---:|---:|---:|---|\n| Plain file copy on the same disk (`std::fs::copy`) | {copy_rate:.0} | 100% | – | – |\n",
        TARGET_SHARE * 100.0,
        TARGET_RSS_KIB / 1024
    );
    for transfer in &figures.transfers {
        let rss = crate::resources::mebibytes(transfer.peak_rss_kib);
        match &transfer.outcome {
            Ok(duration) => {
                let rate = mebibytes_per_second(*duration);
                let share = rate / copy_rate;
                let rss_ok = transfer.peak_rss_kib.is_some_and(|k| k < TARGET_RSS_KIB);
                let verdict = match (share >= TARGET_SHARE, rss_ok) {
                    (true, true) => "met",
                    (false, true) => "missed: rate",
                    (true, false) => "missed: memory",
                    (false, false) => "missed: rate and memory",
                };
                let _ = writeln!(
                    out,
                    "| {} | {rate:.0} | {:.0}% | {rss} | {verdict} |",
                    transfer.name,
                    share * 100.0
                );
            }
            Err(reason) => {
                let _ = writeln!(out, "| {} | – | – | {rss} | {reason} |", transfer.name);
            }
        }
    }
    out
}
