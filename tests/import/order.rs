//! Input order, lazy input, invalid leads, keyed and streamed imports, stop and abort.

use super::*;

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
    let outcomes = collect(import).await;
    // What happened, not how long it took: had the importer waited for the
    // answers, each of these would be `created`; given up, each is unknown.
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
