//! Peak memory importing 1,000,000 generated leads (chunks of 100,
//! concurrency 8) against a trivial local server that answers fast. Goal:
//! under 100 MB peak resident set. Linux only (reads `/proc/self/status`).
//!
//! `cargo bench --bench import_memory` (`LEADS=N` to change the count)

mod common;

use common::{FastServer, TOKEN, lead_json, memory_kib};
use futures::StreamExt;
use sela_leads::Client;
use sela_leads::import::Importer;
use std::time::Instant;

fn main() {
    let leads: u64 = std::env::var("LEADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let server = FastServer::start();
    let runtime = common::runtime();
    let client = Client::new(&server.base_url, TOKEN).expect("a client");
    let before = memory_kib();

    let importer = Importer::new(client).chunk_size(100).concurrency(8);
    let started = Instant::now();
    let mut import = importer.import((0..leads).map(|i| lead_json(1, i)));
    let progress = import.progress();
    let created = runtime.block_on(async {
        let mut created = 0_u64;
        while let Some(outcome) = import.next().await {
            created += u64::from(outcome.is_success());
        }
        created
    });
    let elapsed = started.elapsed();
    let after = memory_kib();
    assert_eq!(
        created,
        leads,
        "every lead created: {:?}",
        progress.snapshot()
    );

    println!(
        "import of {leads} generated leads (chunks of 100, concurrency 8) against a local server"
    );
    println!(
        "  {:.1} s, {:.0} leads/s, {} requests",
        elapsed.as_secs_f64(),
        leads as f64 / elapsed.as_secs_f64(),
        progress.snapshot().requests
    );
    match (before, after) {
        (Some((hwm_before, _)), Some((hwm, rss))) => println!(
            "  peak RSS (VmHWM) {:.1} MiB (before the import {:.1} MiB; RSS at the end {:.1} MiB)",
            hwm as f64 / 1024.0,
            hwm_before as f64 / 1024.0,
            rss as f64 / 1024.0
        ),
        _ => println!("  peak RSS: /proc/self/status is not available on this system"),
    }
}
