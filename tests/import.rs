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

#[tokio::test]
async fn outcomes_keep_input_order_when_chunks_finish_out_of_order() {
    let server = MockServer::start_async().await;
    const CHUNKS: usize = 8;
    const SIZE: usize = 5;
    // Later chunks answer sooner: a permutation of latencies, reversed order.
    let mocks: Vec<_> = (0..CHUNKS)
        .map(|c| {
            let delay = Duration::from_millis(40 * (CHUNKS - c) as u64);
            let results: Vec<Value> = (0..SIZE)
                .map(|i| match i {
                    // One rejected lead per chunk, at a chunk-specific index.
                    i if i == c % SIZE => {
                        json!({"id": null, "action": "error", "error": format!("bad c{c}-{i}")})
                    }
                    i if i == (c + 1) % SIZE => {
                        json!({"id": (c * 100 + i) as i64, "action": "reengaged", "error": null})
                    }
                    i => json!({"id": (c * 100 + i) as i64, "action": "created", "error": null}),
                })
                .collect();
            server.mock(|when, then| {
                when.method(POST)
                    .path(BULK)
                    .header("authorization", format!("Token {TOKEN}"))
                    .body_includes(carries_chunk(c));
                then.status(201)
                    .header("content-type", "application/json")
                    .json_body(json!({ "results": results }))
                    .delay(delay);
            })
        })
        .collect();

    let leads: Vec<Value> = (0..CHUNKS)
        .flat_map(|c| (0..SIZE).map(move |i| lead(c, i)))
        .collect();
    let import = Importer::new(client(&server))
        .chunk_size(SIZE)
        .concurrency(CHUNKS)
        .import(leads);
    let progress = import.progress();
    let outcomes = collect(import).await;

    assert_eq!(outcomes.len(), CHUNKS * SIZE);
    for (n, outcome) in outcomes.iter().enumerate() {
        let (c, i) = (n / SIZE, n % SIZE);
        match outcome {
            ImportOutcome::Rejected { message } => {
                assert_eq!(i, c % SIZE, "lead {n}");
                assert_eq!(message, &format!("bad c{c}-{i}"));
            }
            ImportOutcome::Reengaged { id } => {
                assert_eq!(i, (c + 1) % SIZE, "lead {n}");
                assert_eq!(*id, (c * 100 + i) as i64);
            }
            ImportOutcome::Created { id } => assert_eq!(*id, (c * 100 + i) as i64, "lead {n}"),
            other => panic!("lead {n}: unexpected {other:?}"),
        }
    }
    for mock in &mocks {
        mock.assert_calls(1);
    }
    let p = progress.snapshot();
    let expected = Progress {
        read: 40,
        sent: 40,
        created: 24,
        reengaged: 8,
        rejected: 8,
        requests: 8,
        ..Progress::default()
    };
    assert_eq!(p, expected);
}

#[tokio::test]
async fn rate_limited_chunk_is_retried_after_retry_after_and_counted_once() {
    let server = MockServer::start_async().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let mock = server.mock(|when, then| {
        when.method(POST).path(BULK);
        then.respond_with(move |_req: &HttpMockRequest| {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                HttpMockResponse::builder()
                    .status(429)
                    .header("content-type", "application/json")
                    .header("retry-after", "1")
                    .body(r#"{"detail":"Request was throttled."}"#)
                    .build()
            } else {
                HttpMockResponse::builder()
                    .status(201)
                    .header("content-type", "application/json")
                    .body(created([11, 12, 13]).to_string())
                    .build()
            }
        });
    });

    // A backoff of ten minutes: only an honoured `Retry-After: 1` finishes in time.
    let policy = RetryPolicy {
        max_attempts: 3,
        min_delay: Duration::from_secs(600),
        max_delay: Duration::from_secs(600),
        jitter: false,
        ..RetryPolicy::default()
    };
    let updates = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&updates);
    let import = Importer::new(client(&server))
        .retry(policy)
        .on_progress(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
        })
        .import((0..3).map(|i| lead(0, i)));
    let progress = import.progress();
    let outcomes = collect(import).await;

    let ids: Vec<Option<i64>> = outcomes.iter().map(ImportOutcome::id).collect();
    assert_eq!(ids, [Some(11), Some(12), Some(13)]);
    mock.assert_calls(2);
    let p = progress.snapshot();
    assert_eq!((p.sent, p.created, p.requests, p.retries), (3, 3, 2, 1));
    assert_eq!(p.done(), 3);
    assert!(
        updates.load(Ordering::SeqCst) > 0,
        "the callback saw progress"
    );
}

#[tokio::test]
async fn service_unavailable_is_never_resent_and_leaves_the_leads_unknown() {
    // A gateway may answer 503 for a request the application handled (stored
    // the leads): resending would re-engage, and call, the same people again.
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(POST).path(BULK);
        then.status(503)
            .header("retry-after", "0")
            .body("upstream timed out");
    });
    let import = Importer::new(client(&server))
        .retry(quick_retries(3))
        .import([lead(0, 0), lead(0, 1)]);
    let progress = import.progress();
    let outcomes = collect(import).await;
    mock.assert_calls(1);
    assert_eq!(progress.snapshot().retries, 0);
    assert_eq!(outcomes.len(), 2);
    for outcome in &outcomes {
        let error = unknown_error(outcome);
        assert!(matches!(*error, Error::Server { status: 503, .. }));
    }
}

#[tokio::test]
async fn retries_are_bounded_and_leave_the_leads_not_sent() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(POST).path(BULK);
        then.status(429).body("slow down");
    });
    let import = Importer::new(client(&server))
        .retry(quick_retries(3))
        .import([lead(0, 0), lead(0, 1)]);
    let outcomes = collect(import).await;
    mock.assert_calls(3);
    assert_eq!(outcomes.len(), 2);
    for outcome in &outcomes {
        let ImportOutcome::NotSent { error } = outcome else {
            panic!("expected NotSent, got {outcome:?}");
        };
        assert!(matches!(**error, Error::RateLimited { .. }));
    }
}

#[tokio::test]
async fn refused_connection_is_retried_then_not_sent() {
    // A port nothing listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let client = Client::new(&format!("http://127.0.0.1:{port}"), TOKEN).expect("client");
    let import = Importer::new(client)
        .retry(quick_retries(3))
        .import([lead(0, 0)]);
    let progress = import.progress();
    let outcomes = collect(import).await;
    let [ImportOutcome::NotSent { error }] = &outcomes[..] else {
        panic!("expected one NotSent, got {outcomes:?}");
    };
    assert!(matches!(&**error, Error::Transport { source } if source.is_connect()));
    let p = progress.snapshot();
    assert_eq!((p.requests, p.retries, p.not_sent), (3, 2, 1));
}

#[tokio::test]
async fn timeout_after_sending_is_unknown_and_not_resent() {
    let server = MockServer::start_async().await;
    let slow = server.mock(|when, then| {
        when.method(POST).path(BULK).body_includes(carries_chunk(1));
        then.status(201)
            .header("content-type", "application/json")
            .json_body(created([21, 22]))
            .delay(Duration::from_secs(10));
    });
    let fast = answer(&server, Some(0), created([1, 2]));
    let client = Client::builder(TOKEN)
        .base_url(server.base_url())
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let leads = [lead(0, 0), lead(0, 1), lead(1, 0), lead(1, 1)];
    let import = Importer::new(client)
        .chunk_size(2)
        .retry(quick_retries(5))
        .import(leads);
    let progress = import.progress();
    let outcomes = collect(import).await;

    assert!(matches!(outcomes[0], ImportOutcome::Created { id: 1 }));
    assert!(matches!(outcomes[1], ImportOutcome::Created { id: 2 }));
    for outcome in &outcomes[2..] {
        let error = unknown_error(outcome);
        assert!(matches!(error, Error::Transport { source } if source.is_timeout()));
    }
    slow.assert_calls(1);
    fast.assert_calls(1);
    let p = progress.snapshot();
    assert_eq!((p.created, p.unknown, p.requests, p.retries), (2, 2, 2, 0));
}

/// A server that reads each request in full, then closes the connection
/// without answering; returns its base URL and the count of requests read.
fn hang_up_server() -> (String, Arc<AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0_usize;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok() {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            // Dropping the stream closes the connection: no answer.
        }
    });
    (format!("http://127.0.0.1:{port}"), requests)
}

#[tokio::test]
async fn connection_lost_after_sending_is_unknown_and_not_resent() {
    let (base_url, requests) = hang_up_server();
    let client = Client::new(&base_url, TOKEN).expect("client");
    let import = Importer::new(client)
        .retry(quick_retries(5))
        .import([lead(0, 0), lead(0, 1)]);
    let progress = import.progress();
    let outcomes = collect(import).await;
    assert_eq!(outcomes.len(), 2);
    for outcome in &outcomes {
        let error = unknown_error(outcome);
        assert!(
            matches!(error, Error::Transport { source } if !source.is_connect()),
            "{error}"
        );
    }
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "the chunk was sent once"
    );
    let p = progress.snapshot();
    assert_eq!((p.unknown, p.requests, p.retries), (2, 1, 0));
}

#[tokio::test]
async fn server_error_is_unknown_and_not_resent() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(POST).path(BULK);
        then.status(500).body("boom");
    });
    let outcomes = collect(
        Importer::new(client(&server))
            .retry(quick_retries(5))
            .import([lead(0, 0)]),
    )
    .await;
    mock.assert_calls(1);
    assert!(matches!(&outcomes[..], [ImportOutcome::Unknown { .. }]));
}

#[tokio::test]
async fn count_mismatch_fails_its_chunk_only() {
    let server = MockServer::start_async().await;
    for c in [0, 2] {
        answer(
            &server,
            Some(c),
            created((0..3).map(|i| (c * 10 + i) as i64)),
        );
    }
    // Chunk 1: two results for three leads; nothing can be matched.
    let short = answer(&server, Some(1), created([98, 99]));
    let leads: Vec<Value> = (0..3)
        .flat_map(|c| (0..3).map(move |i| lead(c, i)))
        .collect();
    let import = Importer::new(client(&server))
        .chunk_size(3)
        .retry(quick_retries(5))
        .import(leads);
    let progress = import.progress();
    let outcomes = collect(import).await;

    let ids: Vec<Option<i64>> = outcomes.iter().map(ImportOutcome::id).collect();
    assert_eq!(&ids[0..3], &[Some(0), Some(1), Some(2)]);
    assert_eq!(&ids[6..9], &[Some(20), Some(21), Some(22)]);
    for outcome in &outcomes[3..6] {
        assert!(outcome.is_mismatch(), "{outcome:?}");
        let mismatch = mismatch(outcome);
        assert_eq!(
            mismatch.fault,
            MismatchFault::CountDiffers {
                sent: 3,
                received: 2
            }
        );
        assert!(mismatch.results.is_empty());
    }
    // Mismatches are answers: the server acted, so they are never resent.
    short.assert_calls(1);
    let p = progress.snapshot();
    assert_eq!((p.created, p.unknown, p.requests), (6, 3, 3));
}

/// One answer whose results are each malformed in their own way, between good ones.
fn answer_with_faulty_results() -> Value {
    json!({"results": [
        {"id": 1, "action": "created", "error": null},
        {"id": 2, "action": "merged", "error": null},
        {"id": 3, "action": "error", "error": "dup"},
        {"id": null, "action": "created", "error": null},
        {"id": 5, "action": "reengaged", "error": "odd"},
        {"id": "6", "action": "created", "error": null},
        {"id": null, "action": "error", "error": "phone_number: invalid"},
        {"id": 8, "action": "reengaged", "error": null},
    ]})
}

#[tokio::test]
async fn a_malformed_result_costs_only_its_own_lead() {
    let server = MockServer::start_async().await;
    let mock = answer(&server, None, answer_with_faulty_results());
    let leads: Vec<Value> = (0..8).map(|i| lead(0, i)).collect();
    let import = Importer::new(client(&server))
        .chunk_size(8)
        .retry(quick_retries(5))
        .import(leads);
    let progress = import.progress();
    let outcomes = collect(import).await;
    mock.assert_calls(1);

    let kinds: Vec<&str> = outcomes.iter().map(ImportOutcome::kind).collect();
    assert_eq!(
        kinds,
        [
            "created",
            "unknown",
            "unknown",
            "unknown",
            "unknown",
            "unknown",
            "rejected",
            "reengaged"
        ]
    );
    assert_eq!(outcomes[0].id(), Some(1));
    assert_eq!(outcomes[7].id(), Some(8));
    assert_eq!(
        outcomes[6].message().as_deref(),
        Some("phone_number: invalid")
    );
    let faults: Vec<(Option<usize>, MismatchFault, bool)> = outcomes[1..6]
        .iter()
        .map(|outcome| {
            let m = mismatch(outcome);
            (m.index, m.fault.clone(), m.raw.is_some())
        })
        .collect();
    assert_eq!(
        faults[0],
        (
            Some(1),
            MismatchFault::UnknownAction {
                action: "merged".into()
            },
            true
        )
    );
    assert_eq!(
        faults[1],
        (Some(2), MismatchFault::ErrorWithId { id: 3 }, true)
    );
    assert_eq!(
        faults[2],
        (
            Some(3),
            MismatchFault::MissingId {
                action: "created".into()
            },
            true
        )
    );
    assert_eq!(
        faults[3],
        (
            Some(4),
            MismatchFault::SuccessWithError {
                action: "reengaged".into()
            },
            true
        )
    );
    assert_eq!(faults[4].0, Some(5));
    assert!(
        matches!(faults[4].1, MismatchFault::Malformed { .. }),
        "{:?}",
        faults[4]
    );
    // The raw result travels with its fault, for the outcomes file.
    assert!(outcomes[1].message().unwrap_or_default().contains("merged"));
    let p = progress.snapshot();
    assert_eq!(
        (p.created, p.reengaged, p.rejected, p.unknown),
        (1, 1, 1, 5)
    );
}

#[tokio::test]
async fn bulk_create_users_get_the_matched_outcomes_with_the_mismatch() {
    let server = MockServer::start_async().await;
    answer(&server, None, answer_with_faulty_results());
    let leads: Vec<LeadRequest> = (0..8)
        .map(|i| serde_json::from_value(lead(0, i)).expect("a lead"))
        .collect();
    let error = client(&server)
        .bulk_create(&leads)
        .await
        .expect_err("faulty results are not taken as they are");
    let Error::BulkMismatch(mismatch) = error else {
        panic!("{error}")
    };
    // The first fault is named, and every result is judged on its own.
    assert_eq!(mismatch.index, Some(1));
    assert_eq!(mismatch.results.len(), 8);
    let matched: Vec<(usize, Option<i64>)> = mismatch.matched().map(|(i, o)| (i, o.id())).collect();
    assert_eq!(matched, [(0, Some(1)), (6, None), (7, Some(8))]);
    assert_eq!(mismatch.faults().count(), 5);
}

#[tokio::test]
async fn a_created_id_given_twice_makes_those_leads_unknown_and_keeps_the_others() {
    let server = MockServer::start_async().await;
    // Chunk 0: id 1 `created` twice in one answer (both unknown); a
    // `reengaged` result with a `created` id is legitimate and kept.
    let first = server.mock(|when, then| {
        when.method(POST).path(BULK).body_includes(carries_chunk(0));
        then.status(201).json_body(json!({"results": [
            {"id": 1, "action": "created", "error": null},
            {"id": 2, "action": "created", "error": null},
            {"id": 1, "action": "created", "error": null},
            {"id": 2, "action": "reengaged", "error": null},
        ]}));
    });
    // Chunk 1: id 2 `created` again, later in the run (unknown); id 3 is new.
    let second = server.mock(|when, then| {
        when.method(POST).path(BULK).body_includes(carries_chunk(1));
        then.status(201).json_body(json!({"results": [
            {"id": 3, "action": "created", "error": null},
            {"id": 2, "action": "created", "error": null},
            {"id": null, "action": "error", "error": "phone_number: bad"},
            {"id": 1, "action": "created", "error": null},
        ]}));
    });
    let leads: Vec<Value> = (0..2)
        .flat_map(|c| (0..4).map(move |i| lead(c, i)))
        .collect();
    let import = Importer::new(client(&server))
        .chunk_size(4)
        .concurrency(1)
        .retry(quick_retries(5))
        .import(leads);
    let progress = import.progress();
    let outcomes = collect(import).await;
    first.assert_calls(1);
    second.assert_calls(1);

    let got: Vec<(&str, Option<i64>)> = outcomes.iter().map(|o| (o.kind(), o.id())).collect();
    assert_eq!(
        got,
        [
            ("unknown", None),
            ("created", Some(2)),
            ("unknown", None),
            ("reengaged", Some(2)),
            ("created", Some(3)),
            ("unknown", None),
            ("rejected", None),
            ("unknown", None),
        ]
    );
    for (n, want) in [(0, (0, 1)), (2, (2, 1)), (5, (1, 2)), (7, (3, 1))] {
        let (error, m) = (unknown_error(&outcomes[n]), mismatch(&outcomes[n]));
        assert_eq!(
            (m.index, m.fault.clone()),
            (Some(want.0), MismatchFault::DuplicateId { id: want.1 }),
            "lead {n}"
        );
        assert!(
            error.to_string().contains("another `created` result"),
            "{error}"
        );
    }
    let p = progress.snapshot();
    assert_eq!(
        (p.created, p.reengaged, p.rejected, p.unknown),
        (2, 1, 1, 4)
    );

    // `Client::bulk_create` users see the same fault on both results.
    let leads: Vec<LeadRequest> = (0..4)
        .map(|i| serde_json::from_value(lead(0, i)).expect("a lead"))
        .collect();
    let Err(Error::BulkMismatch(mismatch)) = client(&server).bulk_create(&leads).await else {
        panic!("a duplicate created id is not taken as it is")
    };
    assert_eq!(
        (mismatch.index, mismatch.fault.clone()),
        (Some(0), MismatchFault::DuplicateId { id: 1 })
    );
    let matched: Vec<(usize, Option<i64>)> = mismatch.matched().map(|(i, o)| (i, o.id())).collect();
    assert_eq!(matched, [(1, Some(2)), (3, Some(2))]);
    assert_eq!(mismatch.faults().count(), 2);
}

/// A stored lead as `GET /api/leads/{id}/` answers it.
fn stored(id: i64, phone: &str) -> Value {
    json!({
        "id": id, "phone_number": phone, "email": null, "metadata": {},
        "created_time": "2025-01-01T00:00:00Z", "modified_time": "2025-01-01T00:00:00Z",
    })
}

#[tokio::test]
async fn verify_catches_results_in_another_order_with_the_right_count() {
    let server = MockServer::start_async().await;
    // Leads 0 and 1 were stored as 2 and 1: the answer swaps their results.
    server.mock(|when, then| {
        when.method(POST).path(BULK);
        then.status(201).json_body(json!({"results": [
            {"id": 1, "action": "created", "error": null},
            {"id": 2, "action": "created", "error": null},
            {"id": 3, "action": "created", "error": null},
            {"id": 4, "action": "reengaged", "error": null},
        ]}));
    });
    let reads = [
        (1, stored(1, "+18045550001")),
        (2, stored(2, "+18045550000")),
        (3, stored(3, "+1 (804) 555-0002")),
    ]
    .map(|(id, body)| {
        server.mock(|when, then| {
            when.method(GET).path(format!("/api/leads/{id}/"));
            then.status(200).json_body(body);
        })
    });
    let gone = server.mock(|when, then| {
        when.method(GET).path("/api/leads/4/");
        then.status(404).json_body(json!({"detail": "Not found."}));
    });
    let leads: Vec<Value> = (0..4).map(|i| lead(0, i)).collect();

    // Without read-back the swap goes unnoticed.
    let plain = collect(Importer::new(client(&server)).import(leads.clone())).await;
    let kinds: Vec<&str> = plain.iter().map(ImportOutcome::kind).collect();
    assert_eq!(kinds, ["created", "created", "created", "reengaged"]);
    assert!(reads.iter().all(|read| read.calls() == 0));

    let checked = collect(Importer::new(client(&server)).verify(true).import(leads)).await;
    let got: Vec<(&str, Option<i64>)> = checked.iter().map(|o| (o.kind(), o.id())).collect();
    assert_eq!(
        got,
        [
            ("unknown", None),
            ("unknown", None),
            ("created", Some(3)),
            ("unknown", None),
        ]
    );
    for (n, id) in [(0, 1), (1, 2)] {
        let m = mismatch(&checked[n]);
        assert_eq!(m.index, Some(n));
        assert_eq!(
            m.fault,
            MismatchFault::ReadBackDiffers {
                id,
                action: "created".into()
            }
        );
    }
    // A lead that cannot be read back is not confirmed either.
    let error = unknown_error(&checked[3]);
    assert!(matches!(*error, Error::NotFound { .. }), "{error}");
    for read in &reads {
        read.assert_calls(1);
    }
    gone.assert_calls(1);
}

#[tokio::test]
async fn refused_request_is_not_sent_and_not_retried() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(POST).path(BULK);
        then.status(401)
            .header("content-type", "application/json")
            .json_body(json!({"detail": "Invalid token."}));
    });
    let outcomes = collect(
        Importer::new(client(&server))
            .retry(quick_retries(5))
            .import([lead(0, 0)]),
    )
    .await;
    mock.assert_calls(1);
    assert!(
        matches!(&outcomes[..], [ImportOutcome::NotSent { error }] if matches!(**error, Error::Unauthorized { .. }))
    );
}

#[tokio::test]
async fn invalid_input_keeps_its_place_and_is_never_sent() {
    let server = MockServer::start_async().await;
    let mock = answer(&server, None, created([5, 6]));
    let typed = |phone: &str| {
        LeadRequest::try_from(LeadRequest::builder().phone_number(phone.to_owned()))
            .expect("a valid builder")
    };
    let leads = vec![
        Lead::Invalid("row 1: bad quoting".to_owned()),
        Lead::from(typed("+18045550101")),
        Lead::Invalid("row 3: not UTF-8".to_owned()),
        Lead::from(typed("+18045550102")),
        // A chunk with nothing to send makes no request.
        Lead::Invalid("row 5".to_owned()),
    ];
    let import = Importer::new(client(&server)).chunk_size(4).import(leads);
    let progress = import.progress();
    let kinds: Vec<&str> = collect(import).await.iter().map(|o| o.kind()).collect();
    assert_eq!(
        kinds,
        ["invalid", "created", "invalid", "created", "invalid"]
    );
    mock.assert_calls(1);
    let p = progress.snapshot();
    assert_eq!((p.read, p.sent, p.invalid, p.requests), (5, 2, 3, 1));
}

#[tokio::test]
async fn mixed_typed_and_json_chunks_are_sent_as_json() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(POST)
            .path(BULK)
            .body_includes("\"phone_number\":\"+18045550111\"")
            .body_includes("\"not an object\"");
        then.status(201)
            .header("content-type", "application/json")
            .json_body(json!({"results": [
                {"id": 9, "action": "created", "error": null},
                {"id": null, "action": "error", "error": "Each lead must be a JSON object."},
            ]}));
    });
    let typed =
        LeadRequest::try_from(LeadRequest::builder().phone_number("+18045550111".to_owned()))
            .expect("a valid builder");
    let leads = vec![Lead::from(typed), Lead::from(json!("not an object"))];
    let outcomes = collect(Importer::new(client(&server)).import(leads)).await;
    mock.assert_calls(1);
    assert!(matches!(outcomes[0], ImportOutcome::Created { id: 9 }));
    assert!(
        matches!(&outcomes[1], ImportOutcome::Rejected { message } if message.contains("JSON object"))
    );
}

#[tokio::test]
async fn input_is_pulled_lazily() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(POST).path(BULK);
        then.respond_with(|req: &HttpMockRequest| {
            let body: Value = serde_json::from_slice(req.body_ref()).unwrap_or_default();
            let n = body["leads"].as_array().map_or(0, Vec::len);
            HttpMockResponse::builder()
                .status(201)
                .header("content-type", "application/json")
                .body(created((0..n).map(|i| i as i64)).to_string())
                .build()
        });
    });
    const CHUNK: usize = 10;
    const CONCURRENCY: usize = 2;
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let leads = (0..1_000).map(move |i| {
        counter.fetch_add(1, Ordering::SeqCst);
        lead(i / CHUNK, i % CHUNK)
    });
    let mut import = Importer::new(client(&server))
        .chunk_size(CHUNK)
        .concurrency(CONCURRENCY)
        .import(leads);
    let first = import.next().await.expect("an outcome");
    assert!(first.is_success(), "{first:?}");
    let ahead = pulled.load(Ordering::SeqCst);
    assert!(
        ahead <= CHUNK * (CONCURRENCY + 2),
        "{ahead} leads read before the first outcome"
    );
    let rest = collect(import).await;
    assert_eq!(rest.len(), 999);
    assert_eq!(pulled.load(Ordering::SeqCst), 1_000);
}

#[tokio::test]
async fn keyed_import_carries_keys_and_streams_work() {
    let server = MockServer::start_async().await;
    answer(&server, None, created([1, 2]));
    let input = futures::stream::iter(vec![(10_u64, lead(0, 0)), (11, lead(0, 1))]);
    let keyed = collect(Importer::new(client(&server)).import_keyed(input)).await;
    let keys: Vec<(u64, Option<i64>)> = keyed.iter().map(|(k, o)| (*k, o.id())).collect();
    assert_eq!(keys, [(10, Some(1)), (11, Some(2))]);

    let streamed = collect(
        Importer::new(client(&server))
            .import_stream(futures::stream::iter([lead(0, 0), lead(0, 1)])),
    )
    .await;
    assert_eq!(streamed.len(), 2);
}

#[tokio::test]
async fn stop_lets_chunks_in_flight_finish_and_sends_no_new_one() {
    let server = MockServer::start_async().await;
    // Each chunk's own ids (a repeated `created` id would be a fault).
    let mocks: Vec<_> = (0..10_i64)
        .map(|c| {
            server.mock(|when, then| {
                when.method(POST)
                    .path(BULK)
                    .body_includes(carries_chunk(c as usize));
                then.status(201)
                    .header("content-type", "application/json")
                    .json_body(created([2 * c + 1, 2 * c + 2]))
                    .delay(Duration::from_millis(300));
            })
        })
        .collect();
    let stop = StopHandle::new();
    let leads: Vec<Value> = (0..20).map(|i| lead(i / 2, i % 2)).collect();
    let mut import = Importer::new(client(&server))
        .chunk_size(2)
        .concurrency(2)
        .stop_handle(stop.clone())
        .import_chunks(futures::stream::iter(leads.into_iter().enumerate()));
    let first = import.next().await.expect("a first chunk");
    stop.stop();
    let rest: Vec<_> = collect(import).await;
    // The chunk that was in flight beside the first finished normally; no
    // chunk was sent after the stop.
    assert_eq!(first.len(), 2);
    assert_eq!(rest.len(), 1, "{rest:?}");
    let all: Vec<(usize, &str)> = std::iter::once(&first)
        .chain(&rest)
        .flatten()
        .map(|(key, outcome)| (*key, outcome.kind()))
        .collect();
    for (n, (key, kind)) in all.iter().enumerate() {
        assert_eq!((*key, *kind), (n, "created"));
    }
    let calls: usize = mocks.iter().map(|mock| mock.calls()).sum();
    assert_eq!(calls, 1 + rest.len());
}

#[tokio::test]
async fn abort_gives_up_on_chunks_in_flight_as_unknown() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(POST).path(BULK);
        then.status(201)
            .header("content-type", "application/json")
            .json_body(created([1, 2]))
            .delay(Duration::from_secs(30));
    });
    let stop = StopHandle::new();
    let leads: Vec<Value> = (0..20).map(|i| lead(i / 2, i % 2)).collect();
    let import = Importer::new(client(&server))
        .chunk_size(2)
        .concurrency(2)
        .stop_handle(stop.clone())
        .import(leads);
    let progress = import.progress();
    let aborter = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        aborter.abort();
    });
    let started = std::time::Instant::now();
    let outcomes = collect(import).await;
    assert!(started.elapsed() < Duration::from_secs(20), "did not wait");
    assert_eq!(outcomes.len(), 4, "the two chunks in flight, nothing after");
    for outcome in &outcomes {
        assert!(
            matches!(outcome, ImportOutcome::Unknown { error } if matches!(**error, Error::Interrupted)),
            "{outcome:?}"
        );
    }
    assert_eq!(mock.calls(), 2);
    assert_eq!(progress.snapshot().unknown, 4);
}
