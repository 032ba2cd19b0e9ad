//! Failed requests: retried only where the server certainly did not act, never resent otherwise.

use super::*;

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
