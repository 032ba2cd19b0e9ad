//! The importer with concurrency 8 vs 1 on 20,000 leads against the sandbox
//! (chunks of 100), in one run.
//!
//! `cargo bench --bench import_concurrency`

mod common;

use common::{Samples, lead_json};
use futures::StreamExt;
use sela_leads::Client;
use sela_leads::import::Importer;
use sela_leads::sandbox::Sandbox;
use std::time::{Duration, Instant};

const LEADS: u64 = 20_000;
const ROUNDS: u32 = 5;

fn main() {
    let sandbox = Sandbox::start();
    let runtime = common::runtime();
    let client = Client::new(&sandbox.base_url(), sandbox.token()).expect("a client");
    let mut run = 0_u32;
    let mut import = |concurrency: usize| -> Duration {
        run += 1;
        // Fresh identities each run, so every lead is created (not re-engaged).
        let this_run = run;
        let leads = (0..LEADS).map(move |i| lead_json(this_run, i));
        let importer = Importer::new(client.clone())
            .chunk_size(100)
            .concurrency(concurrency);
        let started = Instant::now();
        let created = runtime.block_on(
            importer
                .import(leads)
                .filter(|o| futures::future::ready(o.kind() == "created"))
                .count(),
        );
        let elapsed = started.elapsed();
        assert_eq!(created as u64, LEADS, "every lead created");
        elapsed
    };
    // One unmeasured warm-up of each, then interleaved rounds.
    import(1);
    import(8);
    let (mut one, mut eight) = (Vec::new(), Vec::new());
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
    println!("importer on {LEADS} leads against the sandbox (chunks of 100)");
    for (name, samples) in [("concurrency 1", &one), ("concurrency 8", &eight)] {
        println!(
            "  {name:<14} median {:>9.3?}  ({:>7.0} leads/s)  samples {:?}",
            samples.median(),
            LEADS as f64 / samples.median().as_secs_f64(),
            samples.0
        );
    }
    println!(
        "  speed-up concurrency 8 / concurrency 1 = {:.2}x (ratio of median times 1/8)",
        one.median().as_secs_f64() / eight.median().as_secs_f64()
    );
}
