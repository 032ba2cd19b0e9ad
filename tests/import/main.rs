//! The importer against httpmock: input order kept when chunks finish out of
//! order, retries only where the server certainly did not act, a mismatched
//! answer failing its chunk only, lazy input, progress counts.

use futures::StreamExt;
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, HttpMockResponse};
use sela_leads::api::types::LeadRequest;
use sela_leads::import::{ImportOutcome, Importer, Lead, Progress, RetryPolicy, StopHandle};
use sela_leads::{BulkMismatch, Client, Error, MismatchFault};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

mod failures;
mod mismatch;
mod order;

const TOKEN: &str = "import-test-token";
const BULK: &str = "/api/leads/bulk-create/";

fn client(server: &MockServer) -> Client {
    Client::new(&server.base_url(), TOKEN).expect("loopback base URL is accepted")
}

/// Fast retries, so the tests do not wait on the default backoff.
fn quick_retries(max_attempts: usize) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

/// Lead `i` of chunk `c`, tagged so a mock can tell the chunks apart.
fn lead(c: usize, i: usize) -> Value {
    json!({
        "phone_number": format!("+1804555{:04}", c * 10 + i),
        "external_id": format!("c{c}-{i}"),
    })
}

/// A matcher for the request that carries chunk `c` (its first lead).
fn carries_chunk(c: usize) -> String {
    format!("\"external_id\":\"c{c}-0\"")
}

fn created(ids: impl IntoIterator<Item = i64>) -> Value {
    let results: Vec<Value> = ids
        .into_iter()
        .map(|id| json!({"id": id, "action": "created", "error": null}))
        .collect();
    json!({ "results": results })
}

/// A 201 JSON answer with `body` to the request carrying chunk `chunk` (every
/// request if `None`).
fn answer(server: &MockServer, chunk: Option<usize>, body: Value) -> httpmock::Mock<'_> {
    server.mock(|when, then| {
        let when = when.method(POST).path(BULK);
        if let Some(c) = chunk {
            when.body_includes(carries_chunk(c));
        }
        then.status(201)
            .header("content-type", "application/json")
            .json_body(body);
    })
}

/// The error of an `Unknown` outcome; any other outcome fails the test.
fn unknown_error(outcome: &ImportOutcome) -> &Error {
    let ImportOutcome::Unknown { error } = outcome else {
        panic!("expected Unknown, got {outcome:?}");
    };
    error
}

/// The mismatch an `Unknown` outcome carries; any other outcome fails the test.
fn mismatch(outcome: &ImportOutcome) -> &BulkMismatch {
    let Error::BulkMismatch(mismatch) = unknown_error(outcome) else {
        panic!("expected a mismatch, got {outcome:?}");
    };
    mismatch
}

/// Drains an import, with a bound so a broken retry cannot hang the test run.
async fn collect<T>(import: impl futures::Stream<Item = T>) -> Vec<T> {
    tokio::time::timeout(Duration::from_secs(120), import.collect::<Vec<T>>())
        .await
        .expect("the import finishes")
}
