//! One run per outcomes file (two real processes), and `--resume
//! --reconcile`: unknown rows settled by reading the account back, never by
//! sending a lead the server already holds.

use super::*;
use serde_json::json;

/// The identity of row `i` (0-based) of [`distinct_rows`].
fn identity(i: usize) -> sela_leads::rules::Identity {
    sela_leads::rules::identity(&json!({
        "phone_number": format!("+1804{:03}{:04}", 200 + i / 10_000, i % 10_000),
        "email": format!("r{i}@example.com"),
    }))
    .expect("a valid identity")
}

// Pins: src/lock.rs Lock::acquire (refused while another process holds the
// lock; dropped by the OS when that process is killed).
#[cfg(unix)]
#[test]
fn a_second_run_on_one_outcomes_file_exits_2_at_once_and_sends_nothing() {
    const ROWS: usize = 40;
    let counted = counted_sandbox();
    // The first chunk is answered, the second held: the first run is alive,
    // holding its lock, for as long as the test needs.
    counted.gate.hold_after(1);
    let other = counted_sandbox();
    let (dir, input) = input_file("lock", "leads.csv", distinct_rows(ROWS));
    let output = dir.join("leads.outcomes.csv");
    let base = counted.sandbox.base_url();
    let args = |base: &str| -> Vec<String> {
        [
            "import",
            path(&input),
            "--base-url",
            base,
            "--chunk-size",
            "2",
            "--concurrency",
            "1",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let first_args = args(&base);
    let first_args: Vec<&str> = first_args.iter().map(String::as_str).collect();
    let mut first = spawn(&first_args, counted.sandbox.token(), Stdio::null);
    counted.gate.wait_held();
    wait_for_rows(&output, 2);

    // The same command in a second terminal, and a resume of it: refused at
    // once, naming the file and the other process; the server they would
    // send to hears nothing.
    let second_args = args(&other.sandbox.base_url());
    let second_args: Vec<&str> = second_args.iter().map(String::as_str).collect();
    for extra in [&[][..], &["--resume"], &["--resume", "--reconcile"]] {
        let second = run(
            &[&second_args[..], extra].concat(),
            Some(other.sandbox.token()),
        );
        let stderr = text(&second.stderr);
        assert_eq!(second.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(
            stderr.contains("another run")
                && stderr.contains(&format!("pid {}", first.id()))
                && stderr.contains(path(&output)),
            "{stderr}"
        );
    }
    assert_eq!(other.requests.load(Ordering::SeqCst), 0);
    assert!(other.sandbox.state().lock().is_empty());

    // SIGKILL, its second chunk in flight: the OS drops the lock; a resume
    // needs no cleanup. The held request finishes (its leads were stored)
    // before the sandbox answers the resume's reads.
    signal(&first, "-KILL");
    first.wait().expect("the run ends");
    counted.gate.open();
    let resumed = run(
        &[&first_args[..], &["--resume", "--reconcile"]].concat(),
        Some(counted.sandbox.token()),
    );
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    let rows = outcomes(&output);
    assert_eq!(rows.len(), ROWS);
    assert!(rows.iter().all(|r| r[2] == "created"), "{rows:?}");
    assert_eq!(counted.reengaged.load(Ordering::SeqCst), 0);
}

// Pins: src/reconcile.rs settle (rows in flight at a kill settled from the
// account) and src/inflight.rs (the rows handed to the importer, on disk).
#[cfg(unix)]
#[test]
fn reconcile_after_kills_sends_no_lead_the_server_holds_and_journals_every_id() {
    const ROWS: usize = 80;
    // One request at a time, so that the request held at each kill is the
    // only one in flight.
    let chunked = ChunkedRun::new("reconcile-kills", ROWS, 4, 1);
    let (counted, output) = (&chunked.counted, &chunked.output);
    let resume = ["--resume", "--reconcile"];
    for kill in 0..3 {
        let answered = counted.gate.answered();
        // Two chunks answered, the third stored and held: kill then.
        counted.gate.hold_after(2);
        let extra: &[&str] = if kill == 0 { &[] } else { &resume };
        let mut child = chunked.spawn(extra, Stdio::null);
        counted.gate.wait_held();
        signal(&child, "-KILL");
        child.wait().expect("the run ends");
        let written = outcomes(output)
            .iter()
            .filter(|r| r[2] == "created")
            .count();
        assert!(
            counted.created.load(Ordering::SeqCst) > written,
            "kill {kill}: the held request's leads are stored, not journaled"
        );
        // The held request finishes before the next run starts.
        counted.gate.open();
        counted.gate.wait_answered(answered + 3);
    }

    let last = chunked.run(&resume);
    let stderr = text(&last.stderr);
    assert_eq!(last.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("reconciled against the account"),
        "{stderr}"
    );
    let rows = outcomes(output);
    assert_eq!(rows.len(), ROWS);
    let model = counted.sandbox.state().lock();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string());
        assert_eq!(row[2], "created", "{row:?}");
        // The right id: the server's lead with this row's identity.
        let id = model.find(&identity(i)).expect("the row's lead");
        assert_eq!(row[3], id.to_string(), "{row:?}");
        // The server's record of the lead: never re-engaged.
        let lead = model.get(id).expect("a stored lead");
        assert_eq!(lead["reengagements_count"], 0, "{lead}");
    }
    assert!(
        rows.iter().any(|r| r[4].starts_with("reconciled: ")),
        "some rows were settled by reading the account back"
    );
    // The server's own log: every lead created once, none sent again.
    assert_eq!(counted.reengaged.load(Ordering::SeqCst), 0);
    assert_eq!(counted.created.load(Ordering::SeqCst), ROWS);
    assert_eq!(model.len(), ROWS);
}

#[test]
fn reconcile_settles_only_what_the_evidence_shows_and_never_guesses() {
    let counted = counted_sandbox();
    let (dir, input) = input_file("reconcile-evidence", "leads.csv", distinct_rows(6));
    let output = dir.join("leads.outcomes.csv");
    let now = chrono::Utc::now();
    let hour_ago = now - chrono::Duration::hours(1);
    let item = |i: usize| {
        let id = identity(i);
        json!({"phone_number": id.phone, "email": id.email})
    };
    let (created_since, reengaged_since) = {
        let mut model = counted.sandbox.state().lock();
        model.set_now(Some(hour_ago));
        // Row 1: a lead older than the import, not re-engaged since.
        model.create_item(&item(0)).expect("a lead");
        // Row 5: older, but re-engaged after the import started.
        let old = model.create_item(&item(4)).expect("a lead").0;
        // Row 4: two leads with the identity.
        model.insert_unchecked(&item(3)).expect("a lead");
        model.insert_unchecked(&item(3)).expect("a lead");
        model.set_now(None);
        // Row 2: created after the import started.
        let created = model.create_item(&item(1)).expect("a lead").0;
        let again = model.create_item(&item(4)).expect("a re-engagement");
        assert_eq!(again.0, old);
        (created, old)
    };
    // Row 6: created after the start, but journaled `created` for row 99 already.
    let taken = counted
        .sandbox
        .state()
        .lock()
        .create_item(&item(5))
        .expect("a lead")
        .0;
    // A journal whose rows 1-6 are unknown (row 3 has no trace on the
    // account) and whose row 99 was created as `taken`, and a lock file
    // recording when its run started.
    let mut journal = String::from("row,external_id,outcome,id,message\n");
    for row in 1..=6 {
        journal.push_str(&format!("{row},x-{},unknown,,timeout\n", row - 1));
    }
    journal.push_str(&format!("99,x-99,created,{taken},\n"));
    std::fs::write(&output, journal).expect("a journal");
    let started =
        (now - chrono::Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    std::fs::write(
        dir.join("leads.outcomes.csv.lock"),
        format!("started={started} pid=1\n"),
    )
    .expect("a lock file");

    let args = [
        "import",
        path(&input),
        "--base-url",
        &counted.sandbox.base_url(),
        "--resume",
        "--reconcile",
    ];
    // The account cannot be read: nothing is sent, the journal is unchanged.
    let refused = run(&args, Some("not-the-token"));
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("nothing was sent"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(counted.created.load(Ordering::SeqCst), 0);

    let result = run(&args, Some(counted.sandbox.token()));
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    let rows = outcomes(&output);
    let got = columns(&rows, [0, 2]);
    assert_eq!(
        got,
        [
            ["1", "unknown"],
            ["2", "created"],
            ["3", "created"],
            ["4", "unknown"],
            ["5", "reengaged"],
            ["6", "unknown"],
            ["99", "created"],
        ]
    );
    assert!(
        rows[0][4].contains("existed before the import started"),
        "{:?}",
        rows[0]
    );
    assert_eq!(rows[1][3], created_since.to_string());
    assert!(rows[1][4].starts_with("reconciled: "), "{:?}", rows[1]);
    assert!(
        rows[3][4].contains("2 leads on the account"),
        "{:?}",
        rows[3]
    );
    assert_eq!(rows[4][3], reengaged_since.to_string());
    assert!(rows[5][4].contains("another row"), "{:?}", rows[5]);
    // Only the row with no trace was sent, and created.
    let model = counted.sandbox.state().lock();
    assert_eq!(
        rows[2][3],
        model.find(&identity(2)).expect("row 3's lead").to_string()
    );
    assert_eq!(counted.created.load(Ordering::SeqCst), 1);
    assert_eq!(counted.reengaged.load(Ordering::SeqCst), 0);
    assert!(
        stderr.contains("1 with no trace sent as new rows, 3 left unknown"),
        "{stderr}"
    );
}
