//! Encoding a 1,000-lead batch and decoding 1,000 results with the generated
//! types vs `serde_json::Value`, and building 1,000 leads with the hand-written
//! builder vs progenitor's generated one, in one run.
//!
//! `cargo bench --bench codec`

mod common;

use common::{interleaved, lead_json, report};
use sela_leads::api::types::{BulkCreateLeadRequestRequest, BulkCreateLeadResponse, LeadRequest};
use sela_leads::{Metadata, UsState};
use serde_json::{Value, json};
use std::hint::black_box;

const LEADS: usize = 1_000;

fn main() {
    let values: Vec<Value> = (0..LEADS as u64).map(|i| lead_json(0, i)).collect();
    let typed = BulkCreateLeadRequestRequest {
        leads: values
            .iter()
            .map(|v| serde_json::from_value::<LeadRequest>(v.clone()).expect("a valid lead"))
            .collect(),
    };
    let untyped = json!({ "leads": values });
    assert_eq!(
        serde_json::to_vec(&typed).expect("encodes").len(),
        serde_json::to_vec(&untyped).expect("encodes").len(),
        "both encode the same bytes"
    );

    let (a, b) = interleaved(
        50,
        500,
        || {
            black_box(serde_json::to_vec(black_box(&typed)).expect("encodes"));
        },
        || {
            black_box(serde_json::to_vec(black_box(&untyped)).expect("encodes"));
        },
    );
    report(
        "encode a 1,000-lead bulk body",
        "generated types",
        &a,
        "serde_json::Value",
        &b,
    );

    let results: Vec<Value> = (0..LEADS as i64)
        .map(|i| match i % 10 {
            0 => json!({"id": null, "action": "error", "error": "phone_number: Enter a valid phone number."}),
            1 => json!({"id": i, "action": "reengaged", "error": null}),
            _ => json!({"id": i, "action": "created", "error": null}),
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "results": results })).expect("encodes");
    let (a, b) = interleaved(
        50,
        500,
        || {
            let decoded: BulkCreateLeadResponse =
                serde_json::from_slice(black_box(&body)).expect("decodes");
            assert_eq!(decoded.results.len(), LEADS);
            black_box(decoded);
        },
        || {
            let decoded: Value = serde_json::from_slice(black_box(&body)).expect("decodes");
            assert_eq!(decoded["results"].as_array().map(Vec::len), Some(LEADS));
            black_box(decoded);
        },
    );
    println!();
    report(
        "decode 1,000 bulk results",
        "generated types",
        &a,
        "serde_json::Value",
        &b,
    );

    println!();
    let (a, b) = interleaved(
        50,
        500,
        || {
            for i in 0..LEADS {
                let lead = LeadRequest::new(format!("+1804555{:04}", i % 10_000))
                    .email(format!("r-{i}@example.com"))
                    .external_id(format!("crm-{i}"))
                    .lead_source("bench")
                    .us_state(UsState::Va)
                    .meta("first_name", "Ana")
                    .meta("zip", "23220")
                    .build()
                    .expect("a valid lead");
                black_box(lead);
            }
        },
        || {
            for i in 0..LEADS {
                let lead = LeadRequest::try_from(
                    LeadRequest::builder()
                        .phone_number(format!("+1804555{:04}", i % 10_000))
                        .email(Some(format!("r-{i}@example.com")))
                        .external_id(Some(format!("crm-{i}")))
                        .lead_source(Some("bench".to_owned()))
                        .us_state(Some(UsState::Va))
                        .metadata(Some(
                            Metadata::new()
                                .with("first_name", "Ana")
                                .with("zip", "23220"),
                        )),
                )
                .expect("a valid lead");
                black_box(lead);
            }
        },
    );
    report(
        "build 1,000 leads",
        "LeadRequest::new(..).build()",
        &a,
        "generated LeadRequest::builder()",
        &b,
    );
}
