//! The typed client's bulk create of 1,000 leads vs a hand-written reqwest +
//! serde_json request doing the same work, against the same local server, in
//! one run. Goal: at most 1.10x.
//!
//! Also measured, to locate the overhead: `Client::bulk_create_raw` on JSON
//! values, and reqwest with the generated types serialised from a borrowed
//! slice (what `bulk_create` costs without copying the leads first).
//!
//! `cargo bench --bench client_overhead`

mod common;

use common::{FastServer, TOKEN, interleaved_n, lead_json, report};
use sela_leads::Client;
use sela_leads::api::types::{BulkCreateLeadResponse, LeadRequest};
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
struct Body<'a, T> {
    leads: &'a [T],
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

async fn post<T: Serialize>(http: &reqwest::Client, url: &str, leads: &[T]) -> bytes::Bytes {
    let response = http
        .post(url)
        .header(reqwest::header::AUTHORIZATION, format!("Token {TOKEN}"))
        .json(&Body { leads })
        .send()
        .await
        .expect("the server answers");
    assert!(response.status().is_success());
    response.bytes().await.expect("a body")
}

/// The hand-written request: JSON body, Token header, status and per-result checks.
async fn hand_written(http: &reqwest::Client, url: &str, leads: &[HandLead]) -> usize {
    let body = post(http, url, leads).await;
    let decoded: HandResponse = serde_json::from_slice(&body).expect("results");
    assert_eq!(decoded.results.len(), leads.len());
    decoded
        .results
        .iter()
        .filter(|r| r.action != "error" && r.id.is_some() && r.error.is_none())
        .count()
}

/// The generated types, serialised from a borrowed slice.
async fn generated_borrowed(http: &reqwest::Client, url: &str, leads: &[LeadRequest]) -> usize {
    let body = post(http, url, leads).await;
    let decoded: BulkCreateLeadResponse = serde_json::from_slice(&body).expect("results");
    assert_eq!(decoded.results.len(), leads.len());
    decoded
        .results
        .iter()
        .filter(|r| r.id.is_some() && r.error.is_none())
        .count()
}

fn main() {
    let server = FastServer::start();
    let runtime = common::runtime();
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
    let http = sela_leads::http_client_builder()
        .expect("TLS setup")
        .build()
        .unwrap();
    let url = format!("{}/api/leads/bulk-create/", server.base_url);

    let samples = interleaved_n(
        20,
        200,
        &mut [
            &mut || {
                let outcomes = runtime
                    .block_on(client.bulk_create(&typed))
                    .expect("bulk create");
                assert_eq!(outcomes.len(), LEADS);
            },
            &mut || {
                let created = runtime.block_on(hand_written(&http, &url, &hand));
                assert_eq!(created, LEADS);
            },
            &mut || {
                let outcomes = runtime
                    .block_on(client.bulk_create_raw(&values))
                    .expect("bulk create");
                assert_eq!(outcomes.len(), LEADS);
            },
            &mut || {
                let created = runtime.block_on(generated_borrowed(&http, &url, &typed));
                assert_eq!(created, LEADS);
            },
        ],
    );
    let [typed_client, hand, raw, borrowed] = &samples[..] else {
        unreachable!("four variants")
    };
    let title = "bulk create of 1,000 leads against a local server";
    let baseline = "hand-written reqwest + serde_json";
    report(
        title,
        "typed Client::bulk_create",
        typed_client,
        baseline,
        hand,
    );
    println!();
    report(
        title,
        "Client::bulk_create_raw (JSON values)",
        raw,
        baseline,
        hand,
    );
    println!();
    report(
        title,
        "reqwest + generated types, borrowed",
        borrowed,
        baseline,
        hand,
    );
}
