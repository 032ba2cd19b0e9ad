//! The importer with concurrency 8 vs 1 on 20,000 leads against the sandbox
//! (chunks of 100), in one run.
//!
//! `cargo bench --bench import_concurrency`

mod common;

use common::{concurrency_speedup, lead_json};
use futures::StreamExt;
use sela_leads::Client;
use sela_leads::import::Importer;
use sela_sandbox::Sandbox;

const LEADS: u64 = 20_000;
const ROUNDS: usize = 5;

fn main() {
    let sandbox = Sandbox::start();
    let runtime = common::runtime();
    let client = Client::new(&sandbox.base_url(), sandbox.token()).expect("a client");
    let mut run = 0_u32;
    let mut import = |concurrency: usize| {
        run += 1;
        // Fresh identities each run, so every lead is created (not re-engaged).
        let this_run = run;
        let leads = (0..LEADS).map(move |i| lead_json(this_run, i));
        let importer = Importer::new(client.clone())
            .chunk_size(100)
            .concurrency(concurrency);
        let created = runtime.block_on(
            importer
                .import(leads)
                .filter(|o| futures::future::ready(o.kind() == "created"))
                .count(),
        );
        assert_eq!(created as u64, LEADS, "every lead created");
    };
    // One unmeasured warm-up of each, then interleaved rounds.
    import(1);
    import(8);
    concurrency_speedup(
        &format!("importer on {LEADS} leads against the sandbox (chunks of 100)"),
        LEADS,
        ROUNDS,
        "1/8",
        import,
    );
}
