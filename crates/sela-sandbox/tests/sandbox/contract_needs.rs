//! What the contract needs of the sandbox.

use reqwest::header::{AUTHORIZATION, HeaderMap};
use sela_sandbox::{Sandbox, SandboxOptions, SandboxState};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// What the contract needs of the sandbox: formats, overlong numbers, list
// count, concurrency, read-back of every field, and the optional knobs
// ---------------------------------------------------------------------------

/// POSTs `leads` to a running sandbox; `(status, headers, body)`.
pub(crate) async fn post_bulk(
    http: &reqwest::Client,
    sandbox: &Sandbox,
    leads: Value,
) -> (u16, HeaderMap, Value) {
    let response = http
        .post(format!("{}api/leads/bulk-create/", sandbox.base_url()))
        .header(AUTHORIZATION, format!("Token {}", sandbox.token()))
        .json(&json!({ "leads": leads }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

pub(crate) async fn get_json(
    http: &reqwest::Client,
    sandbox: &Sandbox,
    path: &str,
) -> (u16, Value) {
    let response = http
        .get(format!("{}{path}", sandbox.base_url()))
        .header(AUTHORIZATION, format!("Token {}", sandbox.token()))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn one_identity_across_formats_and_overlong_numbers_refused() {
    let sandbox = Sandbox::start();
    let http = sela_leads::http_client_builder()
        .expect("TLS setup")
        .build()
        .unwrap();
    let formats = [
        "+18045550123",
        "(804) 555-0123",
        "804-555-0123",
        "8045550123",
        "1 804 555 0123",
    ];
    let leads: Vec<Value> = formats
        .iter()
        .map(|p| json!({"phone_number": p, "email": "f@example.com"}))
        .chain([
            json!({"phone_number": "+180455501234", "email": "o@example.com"}),
            json!({"phone_number": "+1 (804) 555-01239", "email": "o@example.com"}),
        ])
        .collect();
    let (status, _, body) = post_bulk(&http, &sandbox, Value::Array(leads)).await;
    assert_eq!(status, 200);
    let results = body["results"].as_array().unwrap();
    let id = results[0]["id"].as_i64().unwrap();
    assert_eq!(results[0]["action"], "created");
    for r in &results[1..formats.len()] {
        assert_eq!(*r, json!({"id": id, "action": "reengaged"}));
    }
    for r in &results[formats.len()..] {
        assert_eq!(r["action"], "error", "{r}");
        assert!(r["error"].as_str().unwrap().starts_with("phone_number: "));
    }
    // Nothing cut to ten digits was stored: one lead, in E.164.
    let (_, page) = get_json(&http, &sandbox, "api/leads/").await;
    assert_eq!(page["count"], 1);
    assert_eq!(page["results"][0]["phone_number"], "+18045550123");
}

#[tokio::test]
async fn list_count_grows_by_created_leads_only() {
    let sandbox = Sandbox::start();
    let http = sela_leads::http_client_builder()
        .expect("TLS setup")
        .build()
        .unwrap();
    let mut expected = 0;
    for round in 0..3 {
        let leads = json!([
            {"phone_number": format!("+1804555010{round}"), "email": "c@example.com"},
            {"phone_number": "+18045550199", "email": "same@example.com"},
            {"phone_number": "911"},
            null,
        ]);
        let (_, _, body) = post_bulk(&http, &sandbox, leads).await;
        let created = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == "created")
            .count();
        assert_eq!(created, if round == 0 { 2 } else { 1 }, "{body}");
        expected += created;
        let (_, page) = get_json(&http, &sandbox, "api/leads/").await;
        assert_eq!(page["count"], json!(expected), "round {round}");
    }
}

#[tokio::test]
async fn concurrent_requests_create_each_identity_once() {
    let sandbox = Sandbox::start();
    let http = sela_leads::http_client_builder()
        .expect("TLS setup")
        .build()
        .unwrap();
    let batch = json!([
        {"phone_number": "+12025550101", "email": "x@example.com"},
        {"phone_number": "(202) 555-0102", "email": "y@example.com"},
        {"phone_number": "202-555-0101", "email": "x@example.com"},
    ]);
    let sends = (0..8).map(|_| post_bulk(&http, &sandbox, batch.clone()));
    let answers = futures::future::join_all(sends).await;
    let mut created = std::collections::BTreeMap::<i64, usize>::new();
    let mut ids = std::collections::BTreeSet::new();
    for (status, _, body) in &answers {
        assert_eq!(*status, 200);
        for r in body["results"].as_array().unwrap() {
            let id = r["id"].as_i64().unwrap();
            ids.insert(id);
            if r["action"] == "created" {
                *created.entry(id).or_default() += 1;
            }
        }
    }
    assert_eq!(ids.len(), 2, "two identities, two leads: {answers:?}");
    assert!(created.values().all(|n| *n == 1), "{created:?}");
    assert_eq!(created.len(), 2);
    assert_eq!(sandbox.state().lock().len(), 2);
}

#[tokio::test]
async fn every_field_reads_back_as_sent() {
    let sandbox = Sandbox::start();
    let http = sela_leads::http_client_builder()
        .expect("TLS setup")
        .build()
        .unwrap();
    let item = json!({
        "phone_number": "(804) 555-0177",
        "email": "rb@example.com",
        "external_id": "run-7-0",
        "lead_source": "harness",
        "us_state": "DC",
        "lead_type": 2,
        "representative": "12",
        "metadata": {"loan_amount": 250000, "ratio": 0.25, "vip": true, "tags": ["a"], "n": null},
        "favourite_colour": "teal",
    });
    let (_, _, body) = post_bulk(&http, &sandbox, json!([item])).await;
    let id = body["results"][0]["id"].as_i64().unwrap();
    let (status, lead) = get_json(&http, &sandbox, &format!("api/leads/{id}/")).await;
    assert_eq!(status, 200);
    assert_eq!(lead["phone_number"], "+18045550177");
    for field in ["email", "external_id", "lead_source", "us_state"] {
        assert_eq!(lead[field], item[field], "{field}");
    }
    assert_eq!(lead["lead_type"], 2);
    assert_eq!(lead["representative"], 12);
    for (key, value) in item["metadata"].as_object().unwrap() {
        assert_eq!(&lead["metadata"][key], value, "metadata.{key}");
    }
    assert_eq!(lead["metadata"]["favourite_colour"], "teal");
}

#[tokio::test]
async fn size_limit_refuses_whole_batches_and_stores_nothing() {
    let state = SandboxState::new("limit-token").with_options(SandboxOptions {
        max_batch: Some(100),
        oversize_status: 413,
        ..SandboxOptions::default()
    });
    let sandbox = Sandbox::start_from_state(state, None);
    let http = sela_leads::http_client_builder()
        .expect("TLS setup")
        .build()
        .unwrap();
    let items = |n: usize| -> Value {
        (0..n)
            .map(|i| json!({"phone_number": format!("+1212555{:04}", 100 + i % 100), "email": format!("s{i}@example.com")}))
            .collect()
    };
    let (status, _, body) = post_bulk(&http, &sandbox, items(101)).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["leads"][0].as_str().unwrap().contains("100"), "{body}");
    assert_eq!(
        sandbox.state().lock().len(),
        0,
        "a refused batch stored leads"
    );
    let (status, _, body) = post_bulk(&http, &sandbox, items(100)).await;
    assert_eq!(status, 200);
    assert_eq!(body["results"].as_array().unwrap().len(), 100);
    assert_eq!(sandbox.state().lock().len(), 100);
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after_and_does_not_act() {
    let state = SandboxState::new("throttle-token").with_options(SandboxOptions {
        throttle_every: Some(3),
        retry_after: Some(2),
        ..SandboxOptions::default()
    });
    let sandbox = Sandbox::start_from_state(state, None);
    let http = sela_leads::http_client_builder()
        .expect("TLS setup")
        .build()
        .unwrap();
    // Unauthenticated requests are refused before throttling and not counted.
    let anonymous = http
        .get(format!("{}api/leads/", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let mut statuses = Vec::new();
    for i in 0..6 {
        let leads = json!([{"phone_number": format!("+1212555010{i}")}]);
        let (status, headers, body) = post_bulk(&http, &sandbox, leads).await;
        if status == 429 {
            assert_eq!(headers["retry-after"], "2");
            assert!(body["detail"].as_str().unwrap().contains("throttled"));
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429]);
    assert_eq!(sandbox.state().lock().len(), 4, "a throttled request acted");
}
