//! A failing run is reported early and fast (issue 26): each clause's first
//! failure is printed as soon as it is confirmed, before shrinking;
//! `--fail-fast` stops the run there; and a difference that outlasted the
//! settle window is not waited for again, case after case.

use std::process::{Command, Output};

use httpmock::{HttpMockRequest, MockServer};
use sela_contract::{ApiKey, Clause, Config, Target};
use sela_sandbox::{SandboxState, answer};
use serde_json::Value;

const TOKEN: &str = "firstfailuretoken0123456789abcdef012345";
const SECOND: &str = "firstfailuresecond0123456789abcdef01234";

/// A server that keeps every promise but B3's: its bulk answers to 4 to 8
/// items list the results in reverse order (so the run's fixed probes, of 3
/// items and of 1, 10, 50 and more, pass and the first failure is found by a
/// property). It has no read lag at all.
fn reversing_server() -> MockServer {
    let state = SandboxState::new(TOKEN)
        .with_second_token(SECOND)
        .expect("distinct tokens");
    let server = MockServer::start();
    server.mock(|_when, then| {
        then.respond_with(move |req: &HttpMockRequest| {
            let mut reply = answer(&state, req);
            if req.uri_str().contains("/api/leads/bulk-create/")
                && let Some(results) = reply.body.get_mut("results").and_then(Value::as_array_mut)
                && (4..=8).contains(&results.len())
            {
                results.reverse();
            }
            reply.into_response()
        });
    });
    server
}

/// The `sela-contract` binary against `base_url` with both accounts.
fn contract(base_url: &str, extra: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_sela-contract"))
        .args(["--base-url", base_url, "--cases", "8", "--seed", "11"])
        // Not about the settle window: a short one keeps the test fast.
        .args(["--no-regressions", "--settle", "0.3"])
        .args(extra)
        .env("SELA_API_KEY", TOKEN)
        .env("SELA_SECOND_API_KEY", SECOND)
        .output()
        .expect("the binary runs");
    eprintln!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The clause table line of `id` in the text report.
fn table_line<'a>(stdout: &'a str, id: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| {
            let mut words = l.split_whitespace();
            words.next() == Some(id) && words.next().is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .unwrap_or_else(|| panic!("no table line for {id}:\n{stdout}"))
}

// Pins: checker/replay.rs `Reporting::announce` (called by the runner before
// `shrink`) and progress.rs `Progress::failed`.
#[test]
fn the_first_failure_is_printed_while_its_property_runs() {
    let server = reversing_server();
    let out = contract(&server.base_url(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed = stderr
        .find("FAILED B3 ")
        .unwrap_or_else(|| panic!("B3's failure was not printed:\n{stderr}"));
    // Printed while the property that found it was still running (it is then
    // shrunk), not with the report at the end.
    let batches_done = stderr
        .find("progress (done) batches")
        .unwrap_or_else(|| panic!("no progress line for the batches:\n{stderr}"));
    assert!(failed < batches_done, "{stderr}");
    let printed = &stderr[failed..];
    let request = printed
        .lines()
        .nth(1)
        .and_then(|l| l.trim().strip_prefix("request:"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no request after the failure:\n{printed}"));
    assert!(
        printed
            .lines()
            .nth(2)
            .is_some_and(|l| l.contains("reproduce: curl ")),
        "the curl line follows the request:\n{printed}"
    );
    assert!(request.contains("bulk-create"), "{request}");
    assert!(!stderr.contains(TOKEN) && !stderr.contains(SECOND));
}

// Pins: checker/replay.rs `Reporting::stopped` (through `Harness::exhausted`,
// the runner's loop and run.rs's parts).
#[test]
fn fail_fast_stops_at_the_first_failure_unshrunk() {
    let server = reversing_server();
    let out = contract(&server.base_url(), &["--fail-fast"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(table_line(&stdout, "B3").contains("FAILED"), "{stdout}");
    // The operations run after the bulk properties: never reached.
    for later in ["U1", "L1", "A3"] {
        assert!(
            table_line(&stdout, later).contains("not checked"),
            "{later} ran after the first failure:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("shrunk in"),
        "a fail-fast failure is not shrunk:\n{stdout}"
    );
}

// Pins: checker/settle.rs `Waits::start` (the whole window once per clause).
#[test]
fn a_difference_that_outlasted_the_window_is_not_waited_for_again() {
    let server = reversing_server();
    let target = Target::new(&server.base_url(), ApiKey::new(TOKEN))
        .expect("target")
        .with_second_key(ApiKey::new(SECOND));
    let config = Config {
        cases: 8,
        seed: Some(11),
        max_shrink_steps: 8,
        settle: std::time::Duration::from_millis(400),
        ..Config::default()
    };
    let report = sela_contract::run(&target, &config).expect("the run");
    let failed: Vec<Clause> = report
        .clauses
        .iter()
        .filter(|c| c.failure.is_some())
        .map(|c| c.clause)
        .collect();
    assert!(failed.contains(&Clause::B3), "{report}");
    let waits = report
        .observations
        .iter()
        .find(|o| o.starts_with("settle window"))
        .expect("the settle observation");
    let number_before = |needle: &str| -> u32 {
        let at = waits
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} in {waits}"));
        waits[..at]
            .split_whitespace()
            .last()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a number before {needle:?} in {waits}"))
    };
    let whole = number_before("still disagreed after the window");
    let probed = number_before("later disagreeing read(s)");
    let at_once = number_before("about a clause already failed");
    // At most one whole window per failing clause; every other disagreeing
    // read (there are many: every read-back of a reversed result) was
    // re-read for a probe only, or went on at once.
    assert!(
        whole as usize <= failed.len(),
        "{whole} whole windows for {failed:?}: {waits}"
    );
    assert!(probed + at_once > whole, "{waits}");
}
