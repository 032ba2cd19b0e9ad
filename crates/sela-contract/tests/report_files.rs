//! `sela-contract` (the binary behind `cargo xtask contract`) as a CI job runs it: the real binary, its exit codes
//! (0 held, 1 failed, 2 could not run), and the report files it writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use httpmock::{HttpMockRequest, MockServer};
use sela_contract::Clause;
use sela_sandbox::{SandboxState, answer};

const TOKEN: &str = "xtask-reports-token-0123456789";
const SECOND: &str = "xtask-reports-second-0123456789";

/// Runs `xtask contract ARGS`; with `key`, the servers' second account's key
/// goes in `SELA_SECOND_API_KEY` so that A3 is checked too.
fn xtask(args: &[&str], key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sela-contract"));
    cmd.args(args)
        .env_remove("SELA_API_KEY")
        .env_remove("SELA_SECOND_API_KEY");
    if let Some(k) = key {
        cmd.env("SELA_API_KEY", k)
            .env("SELA_SECOND_API_KEY", SECOND);
    }
    cmd.output().expect("the xtask binary runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

fn text(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-reports-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The sandbox's two accounts (`TOKEN`, `SECOND`).
fn two_accounts() -> SandboxState {
    SandboxState::new(TOKEN)
        .with_second_token(SECOND)
        .expect("distinct tokens")
}

/// A sandbox behind httpmock; with `fault`, bulk answers come as 202 (T1).
fn server(fault: bool) -> MockServer {
    let state = two_accounts();
    let server = MockServer::start();
    server.mock(|_when, then| {
        then.respond_with(move |req: &HttpMockRequest| {
            let mut reply = answer(&state, req);
            if fault && req.uri_str().contains("bulk-create") && reply.status == 200 {
                reply.status = 202;
            }
            reply.into_response()
        });
    });
    server
}

#[test]
fn help_documents_the_exit_codes() {
    // The tokens are in the environment: --help must not show them.
    let out = xtask(&["--help"], Some(TOKEN));
    assert_eq!(code(&out), 0, "{}", text(&out));
    let help = String::from_utf8_lossy(&out.stdout);
    for line in [
        "0  every clause held",
        "1  a clause failed or was not checked",
        "2  usage error, the target unreachable or stopped answering, the API key",
        "did not end within --throttle-patience, a run that could check",
        "SELA_API_KEY",
        "SELA_SECOND_API_KEY",
        "--junit <PATH>",
        "--json <PATH>",
        "--har <PATH>",
        "--har-failures-only",
        "--regressions <PATH>",
        "--no-regressions",
        "--time-budget <SECS>",
        "CONTRACT.md",
    ] {
        assert!(help.contains(line), "{line:?} missing from --help:\n{help}");
    }
    assert!(
        !help.contains(TOKEN) && !help.contains(SECOND),
        "a token in --help:\n{help}"
    );
}

#[test]
fn version_names_the_crate_version() {
    let out = xtask(&["--version"], None);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("sela-contract {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--frobnicate"][..],
        &["--har-failures-only"],
        &["--time-budget", "soon"],
        &["--no-regressions", "--regressions", "x.jsonl"],
        &["--concurrency", "1"],
        &["--cases"],
    ] {
        let out = xtask(args, None);
        assert_eq!(code(&out), 2, "{args:?}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("try '--help'"),
            "{args:?}: {}",
            text(&out)
        );
    }
}

#[test]
fn the_builtin_sandbox_passes_and_every_report_parses() {
    let dir = scratch("pass");
    let (junit, json, har, store) = (
        dir.join("junit.xml"),
        dir.join("report.json"),
        dir.join("run.har"),
        dir.join("regressions.jsonl"),
    );
    let out = xtask(
        &[
            "--cases",
            "3",
            "--junit",
            s(&junit),
            "--json",
            s(&json),
            "--har",
            s(&har),
            "--regressions",
            s(&store),
        ],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit parses");
    assert_eq!(parsed.test_suites.len(), 1);
    assert_eq!(parsed.test_suites[0].failures, 0, "{xml}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).expect("JSON parses");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["passed"], true);
    // Each clause with its meaning and link, from the one source
    // (tests/clause_links.rs checks the links' anchors against CONTRACT.md).
    let entries = doc["clauses"].as_array().expect("clauses");
    assert_eq!(entries.len(), Clause::ALL.len());
    for (entry, c) in entries.iter().zip(Clause::ALL) {
        assert_eq!(
            (&entry["clause"], &entry["meaning"], &entry["link"]),
            (&c.id().into(), &c.meaning().into(), &c.link().into()),
        );
    }
    for (case, c) in parsed.test_suites[0].test_cases.iter().zip(Clause::ALL) {
        let link = case.properties.iter().find(|p| p.name.as_str() == "link");
        assert_eq!(link.map(|p| p.value.as_str()), Some(c.link().as_str()));
    }
    let archive = har::from_path(&har).expect("HAR parses");
    let har::Spec::V1_2(log) = archive.log else {
        panic!("HAR 1.2 expected")
    };
    assert!(!log.entries.is_empty());
    assert!(!store.exists(), "a passing run stores nothing");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failing_clause_exits_1_and_its_stored_failure_replays_until_fixed() {
    let dir = scratch("fail");
    let (junit, store) = (dir.join("junit.xml"), dir.join("regressions.jsonl"));
    let faulty = server(true);
    let out = xtask(
        &[
            "--base-url",
            &faulty.base_url(),
            "--cases",
            "4",
            "--junit",
            s(&junit),
            "--regressions",
            s(&store),
        ],
        Some(TOKEN),
    );
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert!(!text(&out).contains(TOKEN), "the token leaked");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert!(parsed.test_suites[0].failures >= 1, "{xml}");
    assert!(xml.contains("T1 status"), "{xml}");
    let stored = std::fs::read_to_string(&store).expect("the failure is stored");
    assert!(stored.contains("\"clause\":\"T1\""), "{stored}");

    // Still faulty: the replay fails first, and says so.
    let replay_junit = dir.join("replay.xml");
    let out = xtask(
        &[
            "--base-url",
            &faulty.base_url(),
            "--cases",
            "2",
            "--regressions",
            s(&store),
            "--junit",
            s(&replay_junit),
        ],
        Some(TOKEN),
    );
    assert_eq!(code(&out), 1, "{}", text(&out));
    // "1 still fail", not "0 still fail": the replay itself failed.
    assert!(
        text(&out).contains("replayed 1 stored failures: 1 still fail"),
        "{}",
        text(&out)
    );
    // The replayed failure's testcase says what T1 means and where to read it.
    let xml = std::fs::read_to_string(&replay_junit).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let replay = parsed
        .test_suites
        .iter()
        .flat_map(|suite| &suite.test_cases)
        .find(|case| case.classname.as_deref() == Some("contract.replay"))
        .unwrap_or_else(|| panic!("no replay testcase:\n{xml}"));
    let property = |name: &str| {
        replay
            .properties
            .iter()
            .find(|p| p.name.as_str() == name)
            .map(|p| p.value.as_str().to_owned())
    };
    assert_eq!(
        property("meaning").as_deref(),
        Some(sela_contract::Clause::T1.meaning())
    );
    assert_eq!(property("link"), Some(sela_contract::Clause::T1.link()));

    // Fixed (a correct server): the replay passes and so does the run. The
    // seed is pinned: two random cases may draw no malformed body, leaving A2
    // unchecked (exit 1).
    let fixed = server(false);
    let out = xtask(
        &[
            "--base-url",
            &fixed.base_url(),
            "--cases",
            "2",
            "--seed",
            "7",
            "--regressions",
            s(&store),
        ],
        Some(TOKEN),
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(text(&out).contains(": 0 still fail"), "{}", text(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A sandbox behind httpmock whose first answer to a body that is not JSON is
/// 422 (A2): only the one request shows the fault.
fn first_unparsable_body_422() -> MockServer {
    let state = two_accounts();
    let faulted = std::sync::atomic::AtomicBool::new(false);
    let server = MockServer::start();
    server.mock(|_when, then| {
        then.respond_with(move |req: &HttpMockRequest| {
            let mut reply = answer(&state, req);
            let unparsable = serde_json::from_slice::<serde_json::Value>(req.body_ref()).is_err();
            if req.uri_str().contains("bulk-create")
                && reply.status == 400
                && unparsable
                && !faulted.swap(true, std::sync::atomic::Ordering::SeqCst)
            {
                reply.status = 422;
            }
            reply.into_response()
        });
    });
    server
}

#[test]
fn a_replayed_failure_fails_its_clause_in_the_table_junit_and_json() {
    // The user story: a rare case found a fault and was stored; the
    // next run's new cases pass against the same faulty server, but the
    // replay still fails. Where people look (the table, JUnit, JSON), the
    // clause is failed, not held.
    let dir = scratch("replay");
    let (junit, json, store) = (
        dir.join("junit.xml"),
        dir.join("report.json"),
        dir.join("regressions.jsonl"),
    );
    let first = first_unparsable_body_422();
    let args = |url: &str| -> Vec<String> {
        [
            "--base-url",
            url,
            "--cases",
            "4",
            "--seed",
            "7",
            "--regressions",
            s(&store),
            "--junit",
            s(&junit),
            "--json",
            s(&json),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let argv = args(&first.base_url());
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = xtask(&argv, Some(TOKEN));
    assert_eq!(code(&out), 1, "{}", text(&out));
    let stored = std::fs::read_to_string(&store).expect("the failure is stored");
    assert!(stored.contains("\"clause\":\"A2\""), "{stored}");

    // The same fault on a fresh server: only the replay meets it.
    let again = first_unparsable_body_422();
    let argv = args(&again.base_url());
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = xtask(&argv, Some(TOKEN));
    assert_eq!(code(&out), 1, "{}", text(&out));
    let shown = text(&out);
    assert!(shown.contains(": 1 still fail"), "{shown}");
    let a2_row = shown
        .lines()
        .find(|l| l.starts_with("A2 "))
        .expect("an A2 row in the table");
    assert!(a2_row.contains("FAILED"), "{a2_row}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit parses");
    let clauses = &parsed.test_suites[0];
    assert_eq!(
        clauses.failures, 1,
        "A2 alone failed in the clause suite: {xml}"
    );
    let a2 = clauses
        .test_cases
        .iter()
        .find(|c| c.name.as_str().starts_with("A2 "))
        .expect("an A2 test case");
    assert!(
        matches!(a2.status, quick_junit::TestCaseStatus::NonSuccess { .. }),
        "{xml}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["passed"], false, "{doc}");
    assert_eq!(doc["failed"], serde_json::json!(["A2"]), "{doc}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn runs_that_cannot_check_exit_2() {
    // Nothing listens on port 1; the JUnit and JSON files still say why.
    let dir = scratch("unreachable");
    let (junit, json) = (dir.join("junit.xml"), dir.join("report.json"));
    let out = xtask(
        &[
            "--base-url",
            "http://127.0.0.1:1/",
            "--no-regressions",
            "--junit",
            s(&junit),
            "--json",
            s(&json),
        ],
        Some(TOKEN),
    );
    assert_eq!(code(&out), 2, "{}", text(&out));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit parses");
    assert_eq!(parsed.test_suites[0].errors, 1, "{xml}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["passed"], false);
    assert!(
        doc["error"].as_str().unwrap().contains("cannot reach"),
        "{doc}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    // The key refused.
    let good = server(false);
    let out = xtask(
        &["--base-url", &good.base_url(), "--no-regressions"],
        Some("not-the-token"),
    );
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(text(&out).contains("refused the API key"), "{}", text(&out));
    // A time budget too short to check anything.
    let out = xtask(
        &[
            "--base-url",
            &good.base_url(),
            "--time-budget",
            "0",
            "--no-regressions",
        ],
        Some(TOKEN),
    );
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        text(&out).contains("no clause could be checked"),
        "{}",
        text(&out)
    );
}
