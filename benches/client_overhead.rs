//! The typed client's bulk create of 1,000 leads vs a hand-written reqwest +
//! serde_json request doing the same work, against the same local server, in
//! one run. Goal: at most 1.10x.
//!
//! `cargo bench --bench client_overhead`

mod common;

use common::{FastServer, TOKEN, interleaved, lead_json, report};
use sela_leads::Client;
use sela_leads::api::types::LeadRequest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

const LEADS: usize = 1_000;

/// What a careful hand-written client would send: a derived struct per lead.
#[derive(Serialize, Deserialize)]
struct HandLead {
    phone_number: String,
    email: String,
    external_id: String,
    lead_source: String,
    us_state: String,
    metadata: Map<String, Value>,
}

#[derive(Serialize)]
struct HandBody<'a> {
    leads: &'a [HandLead],
}

#[derive(Deserialize)]
struct HandResult {
    id: Option<i64>,
    action: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct HandResponse {
    results: Vec<HandResult>,
}

/// The hand-written request: JSON body, Token header, status and count checks.
async fn hand_written(http: &reqwest::Client, url: &str, leads: &[HandLead]) -> usize {
    let response = http
        .post(url)
        .header(reqwest::header::AUTHORIZATION, format!("Token {TOKEN}"))
        .json(&HandBody { leads })
        .send()
        .await
        .expect("the server answers");
    assert!(response.status().is_success());
    let body = response.bytes().await.expect("a body");
    let decoded: HandResponse = serde_json::from_slice(&body).expect("results");
    assert_eq!(decoded.results.len(), leads.len());
    decoded
        .results
        .iter()
        .filter(|r| r.action != "error" && r.id.is_some() && r.error.is_none())
        .count()
}

fn main() {
    let server = FastServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let values: Vec<Value> = (0..LEADS as u64).map(|i| lead_json(0, i)).collect();
    let typed: Vec<LeadRequest> = values
        .iter()
        .map(|v| serde_json::from_value(v.clone()).expect("a valid lead"))
        .collect();
    let hand: Vec<HandLead> = values
        .iter()
        .map(|v| serde_json::from_value(v.clone()).expect("a valid lead"))
        .collect();

    let client = Client::new(&server.base_url, TOKEN).expect("a client");
    let http = reqwest::Client::new();
    let url = format!("{}/api/leads/bulk-create/", server.base_url);

    let (typed_samples, hand_samples) = interleaved(
        20,
        200,
        || {
            let outcomes = runtime
                .block_on(client.bulk_create(&typed))
                .expect("bulk create");
            assert_eq!(outcomes.len(), LEADS);
        },
        || {
            let created = runtime.block_on(hand_written(&http, &url, &hand));
            assert_eq!(created, LEADS);
        },
    );
    report(
        "bulk create of 1,000 leads against a local server",
        "typed Client::bulk_create",
        &typed_samples,
        "hand-written reqwest + serde_json",
        &hand_samples,
    );
}
