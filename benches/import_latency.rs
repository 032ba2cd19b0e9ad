//! The importer with concurrency 8 vs 1 against a local server that answers
//! each request after a fixed 50 ms (like a real API over the internet), in
//! one run. Goal: concurrency 8 at least 6x faster.
//!
//! `cargo bench --bench import_latency` (`LATENCY_MS=N`, `LEADS=N` to change)

mod common;

use common::{LatencyServer, Samples, TOKEN, lead_json};
use futures::StreamExt;
use sela_leads::Client;
use sela_leads::import::Importer;
use std::time::{Duration, Instant};

const ROUNDS: usize = 3;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let leads = env("LEADS", 5_000);
    let server = LatencyServer::start(Duration::from_millis(env("LATENCY_MS", 50)));
    let runtime = common::runtime();
    let client = Client::new(&server.base_url, TOKEN).expect("a client");
    let import = |concurrency: usize| -> Duration {
        let importer = Importer::new(client.clone())
            .chunk_size(100)
            .concurrency(concurrency);
        let started = Instant::now();
        let created = runtime.block_on(
            importer
                .import((0..leads).map(|i| lead_json(1, i)))
                .filter(|o| futures::future::ready(o.kind() == "created"))
                .count(),
        );
        let elapsed = started.elapsed();
        assert_eq!(created as u64, leads, "every lead created");
        elapsed
    };
    let mut one = Vec::new();
    let mut eight = Vec::new();
    import(8); // warm-up (connections, allocator)
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            one.push(import(1));
            eight.push(import(8));
        } else {
            eight.push(import(8));
            one.push(import(1));
        }
    }
    let (one, eight) = (Samples(one), Samples(eight));
    println!(
        "importer on {leads} leads (chunks of 100) against a server with {:?} latency per request",
        server.latency
    );
    for (name, samples) in [("concurrency 1", &one), ("concurrency 8", &eight)] {
        println!(
            "  {name:<14} median {:>9.3?}  ({:>7.0} leads/s)  samples {:?}",
            samples.median(),
            leads as f64 / samples.median().as_secs_f64(),
            samples.0
        );
    }
    println!(
        "  speed-up concurrency 8 / concurrency 1 = {:.2}x (ratio of median times; goal >= 6x)",
        one.median().as_secs_f64() / eight.median().as_secs_f64()
    );
}
