//! Outcomes files, interrupts and resumes: no row sent twice, none lost.

use super::*;

#[test]
fn an_existing_outcomes_file_is_never_overwritten() {
    let sandbox = Sandbox::start();
    let (dir, input) = input_file("exists", "leads.csv", distinct_rows(2));
    let output = dir.join("leads.outcomes.csv");
    std::fs::write(
        &output,
        "row,external_id,outcome,id,message\n1,x-0,created,7,\n",
    )
    .expect("a journal");
    let result = import(&input, &sandbox.base_url(), &[], Some(sandbox.token()));
    assert_eq!(result.status.code(), Some(2));
    assert!(text(&result.stderr).contains("--resume"));
    assert!(sandbox.state().lock().is_empty());
    // --resume continues it: row 1 is final there, only row 2 is sent.
    let result = import(
        &input,
        &sandbox.base_url(),
        &["--resume"],
        Some(sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let rows = outcomes(&output);
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0][3].as_str(), rows[1][2].as_str()), ("7", "created"));
    assert_eq!(sandbox.state().lock().len(), 1);
}

// Pins: src/run.rs stop_on_signals (the first SIGINT stops new requests and
// lets those in flight finish) and src/journal.rs (the journal a prefix).
#[cfg(unix)]
#[test]
fn interrupted_run_then_resume_covers_every_row_once_and_creates_nothing_twice() {
    const ROWS: usize = 200;
    let chunked = ChunkedRun::new("resume", ROWS, 5, 2);
    let (counted, output) = (&chunked.counted, &chunked.output);
    // Two chunks answered, the third held: SIGINT then, and the held request
    // is let go only once the run said it stops sending.
    counted.gate.hold_after(2);
    let mut child = chunked.spawn(&[], Stdio::piped);
    let watch = StderrWatch::new(&mut child);
    counted.gate.wait_held();
    signal(&child, "-INT");
    watch.wait_for("stopping: no new requests");
    counted.gate.open();
    let first = child.wait().expect("the run ends");
    let stderr = watch.finish();
    assert_eq!(first.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let partial = outcomes(output);
    assert!(partial.len() < ROWS, "the run was stopped midway");
    // The journal is a prefix of the input: in order, every outcome final.
    for (i, row) in partial.iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string());
        assert_eq!(row[2], "created", "{row:?}");
    }
    // The requests in flight were let finish: everything created is journaled.
    assert_eq!(counted.created.load(Ordering::SeqCst), partial.len());

    let second = chunked.run(&["--resume"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert!(
        text(&second.stderr).contains(&format!("{} rows already final", partial.len())),
        "{}",
        text(&second.stderr)
    );
    let rows = outcomes(output);
    assert_eq!(rows.len(), ROWS);
    let mut ids = std::collections::BTreeSet::new();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row[0],
            (i + 1).to_string(),
            "one row per input row, in order"
        );
        assert_eq!(row[2], "created", "{row:?}");
        assert!(ids.insert(row[3].clone()), "id {} twice", row[3]);
    }
    // On the server: every identity created once, none sent twice.
    assert_eq!(counted.created.load(Ordering::SeqCst), ROWS);
    assert_eq!(counted.reengaged.load(Ordering::SeqCst), 0);
    assert_eq!(counted.sandbox.state().lock().len(), ROWS);
}

// Pins: src/inflight.rs InFlight::mark (rows handed to the importer are on
// disk before they are sent) and journal.rs read_previous (a resume leaves
// them unknown).
#[cfg(unix)]
#[test]
fn a_killed_run_never_has_its_rows_in_flight_sent_again_by_a_resume() {
    const ROWS: usize = 60;
    // One request at a time: the held one is all that is in flight.
    let chunked = ChunkedRun::new("killed", ROWS, 5, 1);
    let (counted, output) = (&chunked.counted, &chunked.output);
    let inflight = chunked.dir.join("leads.outcomes.csv.inflight");
    // Two chunks answered, the third stored and held: no chance to record
    // it, SIGKILL.
    counted.gate.hold_after(2);
    let mut child = chunked.spawn(&[], Stdio::null);
    counted.gate.wait_held();
    signal(&child, "-KILL");
    child.wait().expect("the run ends");
    // The held request finishes; nothing else is in flight.
    counted.gate.open();
    counted.gate.wait_answered(3);
    assert!(
        inflight.exists(),
        "the rows handed to the importer are on disk"
    );
    let journaled = outcomes(output).len();
    let stored = counted.created.load(Ordering::SeqCst);
    assert!(
        stored > journaled,
        "leads were in flight: {stored} > {journaled}"
    );

    let second = chunked.run(&["--resume"]);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second.stderr));
    assert!(!inflight.exists());
    let rows = outcomes(output);
    assert_eq!(rows.len(), ROWS);
    let unknown: Vec<usize> = (0..ROWS).filter(|i| rows[*i][2] == "unknown").collect();
    assert!(!unknown.is_empty(), "{rows:?}");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string(), "one row per input row");
        if unknown.contains(&i) {
            assert!(row[4].contains("in flight"), "{row:?}");
        } else {
            assert_eq!(row[2], "created", "{row:?}");
        }
    }
    // Nothing that may have been created was sent again.
    assert_eq!(counted.reengaged.load(Ordering::SeqCst), 0);
    let created = counted.created.load(Ordering::SeqCst);
    assert_eq!(created, stored + ROWS - journaled - unknown.len());
    assert_eq!(counted.sandbox.state().lock().len(), created);

    // Asked to, a resume sends them: the stored ones come back re-engaged.
    let third = chunked.run(&["--resume", "--retry-unknown"]);
    assert_eq!(third.status.code(), Some(0), "{}", text(&third.stderr));
    let rows = outcomes(output);
    assert!(
        rows.iter()
            .all(|r| r[2] == "created" || r[2] == "reengaged")
    );
    assert_eq!(counted.sandbox.state().lock().len(), ROWS);
    assert_eq!(counted.created.load(Ordering::SeqCst), ROWS);
}

// Pins: src/run.rs stop_on_signals (the second signal aborts the requests in
// flight, their rows journaled unknown).
#[cfg(unix)]
#[test]
fn second_interrupt_leaves_rows_in_flight_unknown_and_resends_them_only_when_asked() {
    let chunked = ChunkedRun::new("abort", 40, 4, 2);
    let (counted, output) = (&chunked.counted, &chunked.output);
    // The first request is stored and held (the second waits behind it):
    // both are in flight when the signals come.
    counted.gate.hold_after(0);
    let mut child = chunked.spawn(&[], Stdio::piped);
    let watch = StderrWatch::new(&mut child);
    counted.gate.wait_held();
    signal(&child, "-INT");
    // The first signal was taken (the run says so) before the second.
    watch.wait_for("stopping: no new requests");
    signal(&child, "-TERM");
    let first = child.wait().expect("the run ends");
    let stderr = watch.finish();
    assert_eq!(first.code(), Some(130), "{stderr}");
    counted.gate.open();
    // Chunks answered before the signals are created; the ones in flight
    // when the second came are unknown (the server stored them already). With
    // two chunks in flight either may be answered first, so the unknown rows
    // are whole chunks, not necessarily the last ones written.
    let rows = outcomes(output);
    assert!(
        rows.iter()
            .all(|r| r[2] == "created" || (r[2] == "unknown" && r[4].contains("interrupted"))),
        "{rows:?}"
    );
    let in_flight: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i][2] == "unknown")
        .collect();
    assert!(
        !in_flight.is_empty() && in_flight.len().is_multiple_of(4),
        "{rows:?}"
    );
    assert!(
        in_flight
            .chunks(4)
            .all(|c| c[0] % 4 == 0 && c[3] == c[0] + 3),
        "unknown rows come in whole chunks: {rows:?}"
    );

    // A resume does not resend them (they may exist already)...
    let second = chunked.run(&["--resume"]);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second.stderr));
    let rows = outcomes(output);
    assert_eq!(rows.len(), 40);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string());
        let expected = if in_flight.contains(&i) {
            "unknown"
        } else {
            "created"
        };
        assert_eq!(row[2], expected, "{row:?}");
    }
    assert_eq!(counted.reengaged.load(Ordering::SeqCst), 0);
    // ... unless asked: then the ones the server stored come back re-engaged,
    // never created twice.
    let third = chunked.run(&["--resume", "--retry-unknown"]);
    assert_eq!(third.status.code(), Some(0), "{}", text(&third.stderr));
    let rows = outcomes(output);
    assert_eq!(rows.len(), 40);
    assert!(
        in_flight
            .iter()
            .all(|&i| rows[i][2] == "reengaged" || rows[i][2] == "created"),
        "{rows:?}"
    );
    assert!(counted.reengaged.load(Ordering::SeqCst) >= 1);
    assert_eq!(counted.sandbox.state().lock().len(), 40);
    assert_eq!(counted.created.load(Ordering::SeqCst), 40);
}

#[test]
fn a_resume_knows_the_ids_the_earlier_run_created() {
    let server = httpmock::MockServer::start();
    let first = answer_bulk(
        &server,
        Some("\"x-0\""),
        serde_json::json!([
            {"id": 5, "action": "created", "error": null},
            {"id": 6, "action": "created", "error": null},
        ]),
    );
    // The second chunk is refused whole the first time: not sent.
    let mut refused = server.mock(|when, then| {
        when.method(httpmock::Method::POST)
            .path("/api/leads/bulk-create/")
            .body_includes("\"x-2\"");
        then.status(400)
            .json_body(serde_json::json!({"detail": "try later"}));
    });
    let (dir, input) = input_file("resume-ids", "leads.csv", distinct_rows(4));
    let args = [
        "import",
        path(&input),
        "--base-url",
        &server.base_url(),
        "--chunk-size",
        "2",
        "--concurrency",
        "1",
    ];
    let result = run(&args, Some("t-resume-ids"));
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    refused.assert_calls(1);
    refused.delete();
    // Resumed, the server answers `created` 6 again: lead 6 is row 2's.
    let second = answer_bulk(
        &server,
        Some("\"x-2\""),
        serde_json::json!([
            {"id": 6, "action": "created", "error": null},
            {"id": 7, "action": "created", "error": null},
        ]),
    );
    let result = run(&[&args[..], &["--resume"]].concat(), Some("t-resume-ids"));
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    first.assert_calls(1);
    second.assert_calls(1);
    let rows = outcomes(&dir.join("leads.outcomes.csv"));
    let got = columns(&rows, [2, 3]);
    assert_eq!(
        got,
        [
            ["created", "5"],
            ["created", "6"],
            ["unknown", ""],
            ["created", "7"]
        ]
    );
    assert!(rows[2][4].contains("id 6"), "{:?}", rows[2]);
}
