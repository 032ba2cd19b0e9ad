//! Local checks, dry runs, tokens and usage errors, read-back and progress.

use super::*;

#[test]
fn wrong_token_leaves_rows_not_sent_and_is_never_printed() {
    let sandbox = Sandbox::start();
    let (dir, input) = input_file(
        "token",
        "leads.csv",
        "phone_number,external_id\n+18045550101,t-1\n",
    );
    let output = dir.join("out.csv");
    let wrong = "wrong-token-7f3a9c";
    let result = import(
        &input,
        &sandbox.base_url(),
        &["-o", path(&output)],
        Some(wrong),
    );
    assert_eq!(result.status.code(), Some(1));
    let all = format!(
        "{}{}{}",
        text(&result.stdout),
        text(&result.stderr),
        std::fs::read_to_string(&output).expect("the outcomes")
    );
    assert!(!all.contains(wrong), "the token was printed");
    let rows = outcomes(&output);
    assert_eq!(rows[0][2], "not_sent");
    assert!(rows[0][4].contains("401"), "{:?}", rows[0]);
    assert!(sandbox.state().lock().is_empty());
}

#[test]
fn missing_token_or_file_is_a_usage_error() {
    let (dir, input) = input_file("usage", "leads.csv", "phone_number\n+18045550101\n");
    let result = import(&input, "http://127.0.0.1:9", &[], None);
    assert_eq!(result.status.code(), Some(2));
    assert!(text(&result.stderr).contains("SELA_API_KEY"));

    let missing = dir.join("missing.csv");
    let result = run(&["import", path(&missing)], Some("t"));
    assert_eq!(result.status.code(), Some(2));
    let result = run(&["import", path(&input), "--chunk-size", "0"], Some("t"));
    assert_eq!(result.status.code(), Some(2));
}

#[test]
fn dry_run_checks_every_row_and_sends_nothing() {
    let counted = counted_sandbox();
    let (dir, input) = input_file(
        "dry-run",
        "leads.tsv",
        "phone\temail\tstate\tlead_type\n+18045550101\ta@example.com\tVA\t3\n+1 111 555 0101\t\t\t\n+18045550103\tnope\t\t\n+18045550104\t\tZZ\t\n+18045550105\t\t\tx\n",
    );
    // No token needed, and none used.
    let result = run(
        &[
            "import",
            path(&input),
            "--dry-run",
            "--base-url",
            &counted.sandbox.base_url(),
        ],
        None,
    );
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    let rows = outcomes(&dir.join("leads.dry-run.csv"));
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[2].as_str(), r[4].split(':').next().unwrap_or("")))
        .collect();
    assert_eq!(
        got,
        [
            ("would_send", ""),
            ("invalid", "phone_number"),
            ("invalid", "email"),
            ("invalid", "us_state"),
            ("invalid", "lead_type"),
        ]
    );
    assert_eq!(counted.requests.load(Ordering::SeqCst), 0);
    assert!(counted.sandbox.state().lock().is_empty());
}

#[test]
fn rows_failing_the_local_checks_are_never_sent_unless_asked() {
    let counted = counted_sandbox();
    let (dir, input) = input_file(
        "local-checks",
        "leads.csv",
        "phone_number,email,us_state,external_id\n\
         +18045550101,a@example.com,VA,ok-1\n\
         not-a-phone,,,bad-2\n\
         +18045550103,,ZZ,bad-3\n\
         +44 20 7946 0958,,,abroad-4\n\
         +180455501234,,,long-5\n",
    );
    let base = [
        "import",
        path(&input),
        "--base-url",
        &counted.sandbox.base_url(),
    ];
    let result = run(&base, Some(counted.sandbox.token()));
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    let output = dir.join("leads.outcomes.csv");
    let rows = outcomes(&output);
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            let field = r[4].split(':').next().unwrap_or("");
            (r[1].as_str(), r[2].as_str(), field)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("ok-1", "created", ""),
            ("bad-2", "invalid", "phone_number"),
            ("bad-3", "invalid", "us_state"),
            // E.164 outside +1 is documented as accepted: the server judges
            // it (this sandbox takes US numbers only).
            ("abroad-4", "rejected", "phone_number"),
            ("long-5", "invalid", "phone_number"),
        ]
    );
    assert!(stderr.contains("3 invalid"), "{stderr}");
    assert!(stderr.contains("--no-local-checks"), "{stderr}");
    // Only the two rows the checks let through reached the server.
    assert_eq!(counted.created.load(Ordering::SeqCst), 1);
    assert_eq!(counted.rejected.load(Ordering::SeqCst), 1);

    // `invalid` is final: a resume sends nothing and still exits 1.
    let requests = counted.requests.load(Ordering::SeqCst);
    let resumed = run(
        &[&base[..], &["--resume"]].concat(),
        Some(counted.sandbox.token()),
    );
    assert_eq!(resumed.status.code(), Some(1), "{}", text(&resumed.stderr));
    assert_eq!(counted.requests.load(Ordering::SeqCst), requests);
    assert_eq!(outcomes(&output), rows);

    // With --no-local-checks every row goes out and the server judges it.
    let unchecked = dir.join("unchecked.csv");
    let result = run(
        &[
            &base[..],
            &["--no-local-checks", "--output", path(&unchecked)],
        ]
        .concat(),
        Some(counted.sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    let kinds: Vec<String> = outcomes(&unchecked)
        .into_iter()
        .map(|r| r[2].clone())
        .collect();
    assert_eq!(
        kinds,
        ["reengaged", "rejected", "rejected", "rejected", "rejected"]
    );
    assert_eq!(counted.rejected.load(Ordering::SeqCst), 5);
    assert_eq!(counted.created.load(Ordering::SeqCst), 1);
}

#[test]
fn verify_reads_every_lead_back_and_a_faithful_server_passes() {
    let counted = counted_sandbox();
    let (dir, input) = input_file(
        "verify",
        "leads.csv",
        "Phone,E-mail\n(804) 555-0131,V1@Example.com\n804.555.0132,\n(804) 555-0131,V1@Example.com\n",
    );
    let result = run(
        &[
            "import",
            path(&input),
            "--verify",
            "--base-url",
            &counted.sandbox.base_url(),
        ],
        Some(counted.sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let rows = outcomes(&dir.join("leads.outcomes.csv"));
    let kinds: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(kinds, ["created", "created", "reengaged"]);
    // One bulk request, then one read-back per created or re-engaged lead.
    assert_eq!(counted.requests.load(Ordering::SeqCst), 4);
}

#[test]
fn progress_lines_when_not_a_terminal_and_nothing_when_quiet() {
    let sandbox = Sandbox::start();
    let (dir, input) = input_file("progress", "leads.csv", distinct_rows(6));
    let result = import(
        &input,
        &sandbox.base_url(),
        &["--chunk-size", "2", "--progress-every", "0"],
        Some(sandbox.token()),
    );
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    // A plain line per chunk here (stderr is a pipe), then the summary with
    // the rate, requests, retries and throttling.
    assert_eq!(stderr.matches("progress: ").count(), 3, "{stderr}");
    assert!(
        stderr.contains("6 rows in") && stderr.contains("leads/s"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 requests, 0 retries, 0 throttled"),
        "{stderr}"
    );

    let quiet = import(
        &input,
        &sandbox.base_url(),
        &["--output", path(&dir.join("quiet.csv")), "--quiet"],
        Some(sandbox.token()),
    );
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(text(&quiet.stderr), "");
    assert_eq!(outcomes(&dir.join("quiet.csv")).len(), 6);
}
