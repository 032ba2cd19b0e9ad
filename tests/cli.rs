//! `sela-leads import` end to end against the in-process sandbox: one outcome
//! row per input row (unparsable rows included), the exit status, the token
//! never printed.

use sela_leads::sandbox::{Sandbox, SandboxState, random_token};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_sela-leads");

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sela-leads-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn run(args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env_remove("SELA_BASE_URL");
    match token {
        Some(token) => command.env("SELA_API_KEY", token),
        None => command.env_remove("SELA_API_KEY"),
    };
    command.output().expect("the binary runs")
}

/// The outcomes file as rows of `[row, external_id, outcome, id, message]`.
fn outcomes(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).expect("an outcomes file");
    let headers: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(headers, ["row", "external_id", "outcome", "id", "message"]);
    reader
        .records()
        .map(|r| r.expect("a record").iter().map(str::to_owned).collect())
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn csv_with_good_bad_and_unparsable_rows() {
    let sandbox = Sandbox::start();
    let dir = scratch("mixed");
    let input = dir.join("leads.csv");
    let mut csv = b"phone_number,email,external_id,first_name,us_state,metadata\n".to_vec();
    // Chunk 1 (three rows): two new leads, then a duplicate of the first.
    csv.extend_from_slice(b"+18045550101,ana@example.com,crm-1,Ana,VA,\n");
    csv.extend_from_slice(b"(804) 555-0102,ben@example.com,crm-2,Ben,,\n");
    csv.extend_from_slice(b"+18045550101,ana@example.com,crm-3,Ana,,\n");
    // Chunk 2: two rows the local checks refuse, one with too few fields.
    csv.extend_from_slice(b"not-a-phone,bad@example.com,crm-4,Bad,,\n");
    csv.extend_from_slice(b"+18045550105,eve@example.com,crm-5,Eve,ZZ,\n");
    csv.extend_from_slice(b"only,two\n");
    // Chunk 3: a name that is not UTF-8, then a good row with JSON metadata.
    csv.extend_from_slice(b"+18045550107,fay@example.com,crm-7,F\xffy,,\n");
    csv.extend_from_slice(
        b"+18045550108,gus@example.com,crm-8,Gus,CA,\"{\"\"loan_amount\"\":250000}\"\n",
    );
    std::fs::write(&input, &csv).expect("the input file");
    let output = dir.join("out.csv");

    let result = run(
        &[
            "import",
            input.to_str().expect("a UTF-8 path"),
            "--base-url",
            &sandbox.base_url(),
            "--chunk-size",
            "3",
            "--concurrency",
            "2",
            "--output",
            output.to_str().expect("a UTF-8 path"),
        ],
        Some(sandbox.token()),
    );
    let (stdout, stderr) = (text(&result.stdout), text(&result.stderr));
    assert_eq!(result.status.code(), Some(1), "stderr: {stderr}");
    assert!(!stdout.contains(sandbox.token()) && !stderr.contains(sandbox.token()));

    let rows = outcomes(&output);
    let summary: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("1", "crm-1", "created"),
            ("2", "crm-2", "created"),
            ("3", "crm-3", "reengaged"),
            ("4", "crm-4", "invalid"),
            ("5", "crm-5", "invalid"),
            ("6", "", "unparsable"),
            ("7", "crm-7", "unparsable"),
            ("8", "crm-8", "created"),
        ]
    );
    // Ids for created and re-engaged rows; the duplicate points at the first lead.
    assert!(rows[0][3].parse::<i64>().is_ok());
    assert_eq!(rows[2][3], rows[0][3]);
    assert!(rows[3][3].is_empty() && rows[3][4].contains("phone_number"));
    assert!(rows[4][4].contains("us_state"), "{:?}", rows[4]);
    assert!(rows[5][4].contains("fields"), "{:?}", rows[5]);
    assert!(rows[6][4].contains("UTF-8"), "{:?}", rows[6]);
    // Only the good rows reached the server: three stored leads.
    assert_eq!(sandbox.state().lock().len(), 3);
    assert!(
        stderr.contains("3 created") && stderr.contains("2 unparsable"),
        "{stderr}"
    );
}

#[test]
fn clean_ndjson_exits_zero_and_maps_metadata() {
    let sandbox = Sandbox::start();
    let dir = scratch("ndjson");
    let input = dir.join("leads.ndjson");
    let lines: Vec<String> = (0..25)
        .map(|i| {
            format!(
                r#"{{"phone_number":"+1804555{:04}","external_id":"n-{i}","first_name":"N{i}"}}"#,
                100 + i
            )
        })
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n").expect("the input file");

    let result = run(
        &[
            "import",
            input.to_str().expect("a UTF-8 path"),
            "--base-url",
            &sandbox.base_url(),
            "--chunk-size",
            "4",
        ],
        Some(sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    // The default output sits next to the input.
    let rows = outcomes(&dir.join("leads.outcomes.csv"));
    assert_eq!(rows.len(), 25);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string());
        assert_eq!(row[1], format!("n-{i}"));
        assert_eq!(row[2], "created");
        let id: i64 = row[3].parse().expect("an id");
        let stored = sandbox.state().lock().get(id).expect("a stored lead");
        assert_eq!(stored["metadata"]["first_name"], format!("N{i}"));
    }
}

#[test]
fn wrong_token_leaves_rows_not_sent_and_is_never_printed() {
    let sandbox = Sandbox::start();
    let dir = scratch("token");
    let input = dir.join("leads.csv");
    std::fs::write(&input, "phone_number,external_id\n+18045550101,t-1\n").expect("input");
    let output = dir.join("out.csv");
    let wrong = "wrong-token-7f3a9c";
    let result = run(
        &[
            "import",
            input.to_str().expect("a UTF-8 path"),
            "--base-url",
            &sandbox.base_url(),
            "-o",
            output.to_str().expect("a UTF-8 path"),
        ],
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
    let dir = scratch("usage");
    let input = dir.join("leads.csv");
    std::fs::write(&input, "phone_number\n+18045550101\n").expect("input");
    let path = input.to_str().expect("a UTF-8 path");
    let result = run(&["import", path, "--base-url", "http://127.0.0.1:9"], None);
    assert_eq!(result.status.code(), Some(2));
    assert!(text(&result.stderr).contains("SELA_API_KEY"));

    let missing = dir.join("missing.csv");
    let result = run(
        &["import", missing.to_str().expect("a UTF-8 path")],
        Some("t"),
    );
    assert_eq!(result.status.code(), Some(2));
    let result = run(&["import", path, "--chunk-size", "0"], Some("t"));
    assert_eq!(result.status.code(), Some(2));
}

/// A sandbox that counts bulk requests and their created / re-engaged items,
/// answering each request after `delay` (the leads are stored before it).
struct Counted {
    sandbox: Sandbox,
    requests: Arc<AtomicUsize>,
    created: Arc<AtomicUsize>,
    reengaged: Arc<AtomicUsize>,
    rejected: Arc<AtomicUsize>,
}

fn counted_sandbox(delay: Duration) -> Counted {
    let requests = Arc::new(AtomicUsize::new(0));
    let created = Arc::new(AtomicUsize::new(0));
    let reengaged = Arc::new(AtomicUsize::new(0));
    let rejected = Arc::new(AtomicUsize::new(0));
    let (r, c, e, x) = (
        requests.clone(),
        created.clone(),
        reengaged.clone(),
        rejected.clone(),
    );
    let state = SandboxState::new(random_token()).on_request(move |log| {
        r.fetch_add(1, Ordering::SeqCst);
        if let Some(bulk) = log.bulk {
            c.fetch_add(bulk.created, Ordering::SeqCst);
            e.fetch_add(bulk.reengaged, Ordering::SeqCst);
            x.fetch_add(bulk.rejected, Ordering::SeqCst);
        }
        std::thread::sleep(delay);
    });
    Counted {
        sandbox: Sandbox::start_from_state(state, None),
        requests,
        created,
        reengaged,
        rejected,
    }
}

/// `n` rows with distinct identities, as CSV.
fn distinct_rows(n: usize) -> String {
    let mut csv = String::from("phone_number,email,external_id\n");
    for i in 0..n {
        csv.push_str(&format!(
            "+1804{:03}{:04},r{i}@example.com,x-{i}\n",
            200 + i / 10_000,
            i % 10_000
        ));
    }
    csv
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
fn spreadsheet_export_with_bom_crlf_and_spaced_headers_imports() {
    let sandbox = Sandbox::start();
    let dir = scratch("spreadsheet");
    let input = dir.join("export.csv");
    std::fs::write(
        &input,
        b"\xef\xbb\xbfPhone Number,Email,First Name\r\n(804) 555-0101,ana@example.com,Ana\r\n+18045550102,ben@example.com,Ben\r\n",
    )
    .expect("input");
    let result = run(
        &["import", path(&input), "--base-url", &sandbox.base_url()],
        Some(sandbox.token()),
    );
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    // The summary says where each column went.
    assert!(
        stderr.contains("`Phone Number` -> phone_number")
            && stderr.contains("`First Name` -> metadata.first_name"),
        "{stderr}"
    );
    let rows = outcomes(&dir.join("export.outcomes.csv"));
    assert_eq!(rows.len(), 2);
    for (row, name) in rows.iter().zip(["Ana", "Ben"]) {
        assert_eq!(row[2], "created", "{row:?}");
        let stored = sandbox
            .state()
            .lock()
            .get(row[3].parse().expect("an id"))
            .expect("a stored lead");
        assert_eq!(stored["metadata"]["first_name"], name);
        assert!(
            stored["phone_number"]
                .as_str()
                .is_some_and(|p| p.starts_with("+1804555010"))
        );
    }
}

#[test]
fn headerless_file_is_refused_and_nothing_is_sent() {
    let counted = counted_sandbox(Duration::ZERO);
    let dir = scratch("headerless");
    let input = dir.join("leads.csv");
    std::fs::write(
        &input,
        "+18045550101,ana@example.com\n+18045550102,ben@example.com\n",
    )
    .expect("input");
    let base = counted.sandbox.base_url();
    let result = run(
        &["import", path(&input), "--base-url", &base],
        Some(counted.sandbox.token()),
    );
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--no-header") && stderr.contains("--columns"),
        "{stderr}"
    );
    // A header without a phone column is refused the same way, naming the columns.
    std::fs::write(&input, "Name,Email\nAna,ana@example.com\n").expect("input");
    let result = run(
        &["import", path(&input), "--base-url", &base],
        Some(counted.sandbox.token()),
    );
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`Name`, `Email`") && stderr.contains("--map"),
        "{stderr}"
    );
    assert_eq!(counted.requests.load(Ordering::SeqCst), 0);
    assert!(counted.sandbox.state().lock().is_empty());
    assert!(!dir.join("leads.outcomes.csv").exists());

    // The way out: name the columns.
    std::fs::write(&input, "+18045550101,ana@example.com\n").expect("input");
    let result = run(
        &[
            "import",
            path(&input),
            "--base-url",
            &base,
            "--no-header",
            "--columns",
            "phone,email",
        ],
        Some(counted.sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    assert_eq!(outcomes(&dir.join("leads.outcomes.csv"))[0][2], "created");
}

#[test]
fn dry_run_checks_every_row_and_sends_nothing() {
    let counted = counted_sandbox(Duration::ZERO);
    let dir = scratch("dry-run");
    let input = dir.join("leads.tsv");
    std::fs::write(
        &input,
        "phone\temail\tstate\tlead_type\n+18045550101\ta@example.com\tVA\t3\n+1 111 555 0101\t\t\t\n+18045550103\tnope\t\t\n+18045550104\t\tZZ\t\n+18045550105\t\t\tx\n",
    )
    .expect("input");
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
    let counted = counted_sandbox(Duration::ZERO);
    let dir = scratch("local-checks");
    let input = dir.join("leads.csv");
    std::fs::write(
        &input,
        "phone_number,email,us_state,external_id\n\
         +18045550101,a@example.com,VA,ok-1\n\
         not-a-phone,,,bad-2\n\
         +18045550103,,ZZ,bad-3\n\
         +44 20 7946 0958,,,abroad-4\n\
         +180455501234,,,long-5\n",
    )
    .expect("input");
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
    let counted = counted_sandbox(Duration::ZERO);
    let dir = scratch("verify");
    let input = dir.join("leads.csv");
    std::fs::write(
        &input,
        "Phone,E-mail\n(804) 555-0131,V1@Example.com\n804.555.0132,\n(804) 555-0131,V1@Example.com\n",
    )
    .expect("input");
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
fn an_existing_outcomes_file_is_never_overwritten() {
    let sandbox = Sandbox::start();
    let dir = scratch("exists");
    let input = dir.join("leads.csv");
    std::fs::write(&input, distinct_rows(2)).expect("input");
    let output = dir.join("leads.outcomes.csv");
    std::fs::write(
        &output,
        "row,external_id,outcome,id,message\n1,x-0,created,7,\n",
    )
    .expect("a journal");
    let result = run(
        &["import", path(&input), "--base-url", &sandbox.base_url()],
        Some(sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(2));
    assert!(text(&result.stderr).contains("--resume"));
    assert!(sandbox.state().lock().is_empty());
    // --resume continues it: row 1 is final there, only row 2 is sent.
    let result = run(
        &[
            "import",
            path(&input),
            "--base-url",
            &sandbox.base_url(),
            "--resume",
        ],
        Some(sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let rows = outcomes(&output);
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0][3].as_str(), rows[1][2].as_str()), ("7", "created"));
    assert_eq!(sandbox.state().lock().len(), 1);
}

#[cfg(unix)]
fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits until the outcomes file has at least `rows` outcome rows.
fn wait_for_rows(output: &Path, rows: usize) {
    for _ in 0..600 {
        let lines = std::fs::read_to_string(output).map_or(0, |t| t.lines().count());
        if lines > rows {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the outcomes file never reached {rows} rows");
}

#[cfg(unix)]
#[test]
fn interrupted_run_then_resume_covers_every_row_once_and_creates_nothing_twice() {
    const ROWS: usize = 200;
    let counted = counted_sandbox(Duration::from_millis(40));
    let dir = scratch("resume");
    let input = dir.join("leads.csv");
    std::fs::write(&input, distinct_rows(ROWS)).expect("input");
    let output = dir.join("leads.outcomes.csv");
    let args = [
        "import",
        path(&input),
        "--base-url",
        &counted.sandbox.base_url(),
        "--chunk-size",
        "5",
        "--concurrency",
        "2",
    ];
    let child = Command::new(BIN)
        .args(args)
        .env("SELA_API_KEY", counted.sandbox.token())
        .env_remove("SELA_BASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    wait_for_rows(&output, 10);
    signal(&child, "-INT");
    let first = child.wait_with_output().expect("the run ends");
    let stderr = text(&first.stderr);
    assert_eq!(first.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let partial = outcomes(&output);
    assert!(partial.len() < ROWS, "the run was stopped midway");
    // The journal is a prefix of the input: in order, every outcome final.
    for (i, row) in partial.iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string());
        assert_eq!(row[2], "created", "{row:?}");
    }
    // The requests in flight were let finish: everything created is journaled.
    assert_eq!(counted.created.load(Ordering::SeqCst), partial.len());

    let second = run(
        &[&args[..], &["--resume"]].concat(),
        Some(counted.sandbox.token()),
    );
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert!(
        text(&second.stderr).contains(&format!("{} rows already final", partial.len())),
        "{}",
        text(&second.stderr)
    );
    let rows = outcomes(&output);
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

#[cfg(unix)]
#[test]
fn a_killed_run_never_has_its_rows_in_flight_sent_again_by_a_resume() {
    const ROWS: usize = 60;
    let counted = counted_sandbox(Duration::from_millis(300));
    let dir = scratch("killed");
    let input = dir.join("leads.csv");
    std::fs::write(&input, distinct_rows(ROWS)).expect("input");
    let output = dir.join("leads.outcomes.csv");
    let inflight = dir.join("leads.outcomes.csv.inflight");
    let base = counted.sandbox.base_url();
    let args = [
        "import",
        path(&input),
        "--base-url",
        &base,
        "--chunk-size",
        "5",
        "--concurrency",
        "2",
    ];
    let mut child = Command::new(BIN)
        .args(args)
        .env("SELA_API_KEY", counted.sandbox.token())
        .env_remove("SELA_BASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    wait_for_rows(&output, 10);
    // No chance to record the requests in flight: SIGKILL.
    signal(&child, "-KILL");
    child.wait().expect("the run ends");
    // Let the server finish the requests it was answering.
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        inflight.exists(),
        "the rows handed to the importer are on disk"
    );
    let journaled = outcomes(&output).len();
    let stored = counted.created.load(Ordering::SeqCst);
    assert!(
        stored > journaled,
        "leads were in flight: {stored} > {journaled}"
    );

    let second = run(
        &[&args[..], &["--resume"]].concat(),
        Some(counted.sandbox.token()),
    );
    assert_eq!(second.status.code(), Some(1), "{}", text(&second.stderr));
    assert!(!inflight.exists());
    let rows = outcomes(&output);
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
    let third = run(
        &[&args[..], &["--resume", "--retry-unknown"]].concat(),
        Some(counted.sandbox.token()),
    );
    assert_eq!(third.status.code(), Some(0), "{}", text(&third.stderr));
    let rows = outcomes(&output);
    assert!(
        rows.iter()
            .all(|r| r[2] == "created" || r[2] == "reengaged")
    );
    assert_eq!(counted.sandbox.state().lock().len(), ROWS);
    assert_eq!(counted.created.load(Ordering::SeqCst), ROWS);
}

#[cfg(unix)]
#[test]
fn second_interrupt_leaves_rows_in_flight_unknown_and_resends_them_only_when_asked() {
    let counted = counted_sandbox(Duration::from_millis(1500));
    let dir = scratch("abort");
    let input = dir.join("leads.csv");
    std::fs::write(&input, distinct_rows(40)).expect("input");
    let output = dir.join("leads.outcomes.csv");
    let base = counted.sandbox.base_url();
    let args = [
        "import",
        path(&input),
        "--base-url",
        &base,
        "--chunk-size",
        "4",
        "--concurrency",
        "2",
    ];
    let child = Command::new(BIN)
        .args(args)
        .env("SELA_API_KEY", counted.sandbox.token())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // Both first requests are in flight (stored, answer delayed).
    for _ in 0..500 {
        if counted.requests.load(Ordering::SeqCst) >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "-TERM");
    let first = child.wait_with_output().expect("the run ends");
    assert_eq!(first.status.code(), Some(130), "{}", text(&first.stderr));
    // Chunks answered before the signals are created; the ones in flight
    // when the second came are unknown (the server stored them already). With
    // two chunks in flight either may be answered first, so the unknown rows
    // are whole chunks, not necessarily the last ones written.
    let rows = outcomes(&output);
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
    let second = run(
        &[&args[..], &["--resume"]].concat(),
        Some(counted.sandbox.token()),
    );
    assert_eq!(second.status.code(), Some(1), "{}", text(&second.stderr));
    let rows = outcomes(&output);
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
    let third = run(
        &[&args[..], &["--resume", "--retry-unknown"]].concat(),
        Some(counted.sandbox.token()),
    );
    assert_eq!(third.status.code(), Some(0), "{}", text(&third.stderr));
    let rows = outcomes(&output);
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
fn a_malformed_result_keeps_the_other_rows_ids() {
    let server = httpmock::MockServer::start();
    server.mock(|when, then| {
        when.method(httpmock::Method::POST)
            .path("/api/leads/bulk-create/");
        then.status(201)
            .header("content-type", "application/json")
            .json_body(serde_json::json!({"results": [
                {"id": 1, "action": "created", "error": null},
                {"id": 2, "action": "merged", "error": null},
                {"id": 3, "action": "reengaged", "error": null},
            ]}));
    });
    let dir = scratch("malformed");
    let input = dir.join("leads.csv");
    std::fs::write(&input, distinct_rows(3)).expect("input");
    let result = run(
        &["import", path(&input), "--base-url", &server.base_url()],
        Some("t-malformed"),
    );
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    let rows = outcomes(&dir.join("leads.outcomes.csv"));
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[2].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(got, [("created", "1"), ("unknown", ""), ("reengaged", "3")]);
    assert!(rows[1][4].contains("merged"), "{:?}", rows[1]);
}

#[test]
fn a_created_id_answered_twice_leaves_those_rows_unknown() {
    let server = httpmock::MockServer::start();
    let mock = server.mock(|when, then| {
        when.method(httpmock::Method::POST)
            .path("/api/leads/bulk-create/");
        then.status(201)
            .header("content-type", "application/json")
            .json_body(serde_json::json!({"results": [
                {"id": 5, "action": "created", "error": null},
                {"id": 6, "action": "created", "error": null},
                {"id": 5, "action": "created", "error": null},
                {"id": 6, "action": "reengaged", "error": null},
            ]}));
    });
    let dir = scratch("duplicate-id");
    let input = dir.join("leads.csv");
    std::fs::write(&input, distinct_rows(4)).expect("input");
    let result = run(
        &["import", path(&input), "--base-url", &server.base_url()],
        Some("t-duplicate"),
    );
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    let rows = outcomes(&dir.join("leads.outcomes.csv"));
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[2].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("unknown", ""),
            ("created", "6"),
            ("unknown", ""),
            ("reengaged", "6")
        ]
    );
    assert!(rows[0][4].contains("id 5"), "{:?}", rows[0]);
    // Unknown rows are never resent by a plain resume.
    let again = run(
        &[
            "import",
            path(&input),
            "--base-url",
            &server.base_url(),
            "--resume",
        ],
        Some("t-duplicate"),
    );
    assert_eq!(again.status.code(), Some(1), "{}", text(&again.stderr));
    mock.assert_calls(1);
}

#[test]
fn a_resume_knows_the_ids_the_earlier_run_created() {
    let server = httpmock::MockServer::start();
    let answer = |rows: &str, results: serde_json::Value| {
        server.mock(|when, then| {
            when.method(httpmock::Method::POST)
                .path("/api/leads/bulk-create/")
                .body_includes(rows);
            then.status(201)
                .header("content-type", "application/json")
                .json_body(serde_json::json!({ "results": results }));
        })
    };
    let first = answer(
        "\"x-0\"",
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
    let dir = scratch("resume-ids");
    let input = dir.join("leads.csv");
    std::fs::write(&input, distinct_rows(4)).expect("input");
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
    let second = answer(
        "\"x-2\"",
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
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[2].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("created", "5"),
            ("created", "6"),
            ("unknown", ""),
            ("created", "7")
        ]
    );
    assert!(rows[2][4].contains("id 6"), "{:?}", rows[2]);
}

#[test]
fn progress_lines_when_not_a_terminal_and_nothing_when_quiet() {
    let sandbox = Sandbox::start();
    let dir = scratch("progress");
    let input = dir.join("leads.csv");
    std::fs::write(&input, distinct_rows(6)).expect("input");
    let result = run(
        &[
            "import",
            path(&input),
            "--base-url",
            &sandbox.base_url(),
            "--chunk-size",
            "2",
            "--progress-every",
            "0",
        ],
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

    let quiet = run(
        &[
            "import",
            path(&input),
            "--base-url",
            &sandbox.base_url(),
            "--output",
            path(&dir.join("quiet.csv")),
            "--quiet",
        ],
        Some(sandbox.token()),
    );
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(text(&quiet.stderr), "");
    assert_eq!(outcomes(&dir.join("quiet.csv")).len(), 6);
}

#[test]
fn json_array_imports_and_an_unknown_extension_is_refused() {
    let sandbox = Sandbox::start();
    let dir = scratch("json");
    let input = dir.join("leads.json");
    std::fs::write(
        &input,
        "\u{feff}[\r\n {\"Phone\": \"+18045550101\", \"CRM ID\": \"j-1\", \"First Name\": \"Ana\"},\r\n \"oops\",\r\n {\"mobile\": \"+18045550103\"}\r\n]\r\n",
    )
    .expect("input");
    let result = run(
        &["import", path(&input), "--base-url", &sandbox.base_url()],
        Some(sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    let rows = outcomes(&dir.join("leads.outcomes.csv"));
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("1", "j-1", "created"),
            ("2", "", "unparsable"),
            ("3", "", "created")
        ]
    );
    assert_eq!(sandbox.state().lock().len(), 2);

    let odd = dir.join("leads.dat");
    std::fs::write(&odd, "phone\n+18045550104\n").expect("input");
    let result = run(
        &["import", path(&odd), "--base-url", &sandbox.base_url()],
        Some(sandbox.token()),
    );
    assert_eq!(result.status.code(), Some(2));
    assert!(
        text(&result.stderr).contains("--format"),
        "{}",
        text(&result.stderr)
    );
    assert_eq!(sandbox.state().lock().len(), 2);
}
