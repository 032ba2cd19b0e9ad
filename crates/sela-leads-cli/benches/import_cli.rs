//! `sela-leads import` end to end on a generated CSV of 1,000,000 rows (read,
//! send, journal) against a local server with 50 ms latency per request:
//! leads per second, and the peak resident set of the CLI process (goal:
//! under 100 MB). Linux only (reads `/proc/PID/status`).
//!
//! `cargo bench -p sela-leads-cli --bench import_cli` (`ROWS=N`, `LATENCY_MS=N`,
//! `CONCURRENCY=N`, `CHUNK_SIZE=N` to change)

// The SDK's bench helpers (the latency server), shared rather than copied.
#[path = "../../../benches/common/mod.rs"]
mod common;

use common::{LatencyServer, TOKEN};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// `VmHWM` (peak resident set) of a running process, in KiB.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let rows = env("ROWS", 1_000_000);
    let latency = Duration::from_millis(env("LATENCY_MS", 50));
    let concurrency = env("CONCURRENCY", 8);
    let chunk_size = env("CHUNK_SIZE", 100);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("import-cli-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let input = dir.join("leads.csv");
    {
        let mut csv = BufWriter::new(std::fs::File::create(&input).expect("the input"));
        writeln!(csv, "Phone Number,Email,External ID,First Name,State").expect("write");
        for i in 0..rows {
            writeln!(
                csv,
                "+1804{:03}{:04},r{i}@example.com,crm-{i},Ana,VA",
                200 + (i / 10_000) % 800,
                i % 10_000
            )
            .expect("write");
        }
    }
    let size = std::fs::metadata(&input).map_or(0, |m| m.len());
    let server = LatencyServer::start(latency);

    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sela-leads"))
        .args(["import", input.to_str().expect("a UTF-8 path"), "--quiet"])
        .args(["--base-url", &server.base_url])
        .args(["--concurrency", &concurrency.to_string()])
        .args(["--chunk-size", &chunk_size.to_string()])
        .env("SELA_API_KEY", TOKEN)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the CLI starts");
    // VmHWM only grows: the last reading before the exit is the peak.
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = peak_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("the CLI runs") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    assert!(status.success(), "the CLI failed: {status}");
    let journal = std::fs::read_to_string(dir.join("leads.outcomes.csv")).expect("the outcomes");
    let created = journal.lines().filter(|l| l.contains(",created,")).count() as u64;
    assert_eq!(created, rows, "one created row per input row");

    println!(
        "sela-leads import of {rows} CSV rows ({:.0} MiB; chunks of {chunk_size}, concurrency {concurrency}) \
         against a server with {latency:?} latency per request",
        size as f64 / 1_048_576.0
    );
    println!(
        "  {:.1} s, {:.0} leads/s (floor from latency alone: {:.1} s)",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64(),
        (rows as f64 / chunk_size as f64 / concurrency as f64) * latency.as_secs_f64()
    );
    println!(
        "  peak RSS (VmHWM) of the CLI process {:.1} MiB (goal < 100 MB); outcomes file {:.0} MiB",
        peak as f64 / 1024.0,
        journal.len() as f64 / 1_048_576.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
