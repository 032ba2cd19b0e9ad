//! The importer with concurrency 8 vs 1 against a local server that answers
//! each request after a fixed 50 ms (like a real API over the internet), in
//! one run. Goal: concurrency 8 at least 6x faster.
//!
//! `cargo bench --bench import_latency` (`LATENCY_MS=N`, `LEADS=N` to change)

mod common;

use common::{LatencyServer, TOKEN, concurrency_speedup, lead_json};
use futures::StreamExt;
use sela_leads::Client;
use sela_leads::import::Importer;
use std::time::Duration;

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
    let import = |concurrency: usize| {
        let importer = Importer::new(client.clone())
            .chunk_size(100)
            .concurrency(concurrency);
        let created = runtime.block_on(
            importer
                .import((0..leads).map(|i| lead_json(1, i)))
                .filter(|o| futures::future::ready(o.kind() == "created"))
                .count(),
        );
        assert_eq!(created as u64, leads, "every lead created");
    };
    import(8); // warm-up (connections, allocator)
    let title = format!(
        "importer on {leads} leads (chunks of 100) against a server with {:?} latency per request",
        server.latency
    );
    concurrency_speedup(&title, leads, ROUNDS, "goal >= 6x", import);
}
