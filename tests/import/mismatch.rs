//! Answers that do not match the leads sent: the fault costs only the leads it touches.

use super::*;

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
