//! The exit codes of `sela-contract` (what `cargo xtask contract` runs), the real binary, against servers
//! started in this process on 127.0.0.1: 0 when every clause held, 1 when one
//! failed, 2 when the target cannot be tested at all.

use std::process::{Command, Output};

use httpmock::{HttpMockRequest, MockServer};
use sela_sandbox::{Sandbox, SandboxOptions, SandboxState, answer};
use serde_json::Value;

const TOKEN: &str = "exitcodetoken0123456789abcdef0123456789";

/// Runs `xtask contract --base-url URL` with `key` in `SELA_API_KEY` and no
/// second account.
fn contract(base_url: &str, key: &str) -> Output {
    contract_with(base_url, key, None, &[])
}

/// As [`contract`], with `second` in `SELA_SECOND_API_KEY` and `extra` arguments.
fn contract_with(base_url: &str, key: &str, second: Option<&str>, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sela-contract"));
    // CI's shell may export a second key for its own sandbox.
    cmd.env_remove("SELA_SECOND_API_KEY");
    if let Some(second) = second {
        cmd.env("SELA_SECOND_API_KEY", second);
    }
    let output = cmd
        .args([
            "--base-url",
            base_url,
            "--cases",
            "4",
            "--seed",
            "7",
            // A failing run would store its failure in the working directory.
            "--no-regressions",
        ])
        .args(extra)
        .env("SELA_API_KEY", key)
        .output()
        .expect("the xtask binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "exit {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status.code()
    );
    assert!(
        !stdout.contains(key) && !stderr.contains(key),
        "the key was printed"
    );
    output
}

const SECOND: &str = "exitcodesecond0123456789abcdef0123456789";

/// A sandbox serving two accounts (`TOKEN`, `SECOND`).
fn sandbox(options: SandboxOptions) -> Sandbox {
    let state = SandboxState::new(TOKEN)
        .with_second_token(SECOND)
        .expect("distinct tokens")
        .with_options(options);
    Sandbox::start_from_state(state, None)
}

#[test]
fn exit_0_against_a_correct_server() {
    let sandbox = sandbox(SandboxOptions::default());
    let out = contract_with(&sandbox.base_url(), TOKEN, Some(SECOND), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("every clause held"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SECOND));
}

#[test]
fn exit_1_when_a3_cannot_be_checked_for_want_of_a_second_key() {
    // The same correct server, without SELA_SECOND_API_KEY: A3 is not checked,
    // which is not a pass, and the run says why before it starts.
    let sandbox = sandbox(SandboxOptions::default());
    let out = contract(&sandbox.base_url(), TOKEN);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("not checked") && !stdout.contains("FAILED"),
        "{stdout}"
    );
    assert!(
        format!("{stdout}{stderr}").contains("SELA_SECOND_API_KEY is not set"),
        "{stdout}{stderr}"
    );
}

// Pins: checker/bulk.rs check_bulk's correspondence check (B3), through
// main.rs's exit status: with both accounts' keys every clause is checkable,
// so the exit 1 comes from the fault, not from A3 left unchecked.
#[test]
fn exit_1_against_a_server_that_misorders_results() {
    let state = SandboxState::new(TOKEN)
        .with_second_token(SECOND)
        .expect("distinct tokens");
    let server = MockServer::start();
    server.mock(|_when, then| {
        then.respond_with(move |req: &HttpMockRequest| {
            let mut reply = answer(&state, req);
            if req.uri_str().contains("/api/leads/bulk-create/")
                && let Some(results) = reply.body.get_mut("results").and_then(Value::as_array_mut)
            {
                results.reverse();
            }
            reply.into_response()
        });
    });
    // A short settle window: the misordered leads' reads never agree, and
    // this test is not about how long they are waited for.
    let out = contract_with(
        &server.base_url(),
        TOKEN,
        Some(SECOND),
        &["--settle", "0.2"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("== B3 FAILED: "), "{stdout}");
    // Nothing is left unchecked (A3 had its second account), so the exit
    // status comes from the failures.
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            let mut cells = l.split_whitespace();
            let id = cells.next().unwrap_or("");
            let cases = cells.next().unwrap_or("");
            id.len() == 2 && id.as_bytes()[1].is_ascii_digit() && cases.parse::<u32>().is_ok()
        })
        .collect();
    assert!(rows.len() > 20, "no table:\n{stdout}");
    for row in &rows {
        assert!(
            row.contains(" held ") || row.contains(" FAILED in "),
            "a clause was neither held nor failed: {row}"
        );
    }
    let a3 = rows
        .iter()
        .find(|l| l.starts_with("A3 "))
        .unwrap_or_else(|| panic!("no A3 row:\n{stdout}"));
    assert!(a3.contains(" held "), "{a3}");
}

#[test]
fn exit_2_when_the_connection_is_refused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let out = contract(&format!("http://127.0.0.1:{port}/"), TOKEN);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}

#[test]
fn exit_2_when_the_key_is_refused() {
    let sandbox = sandbox(SandboxOptions::default());
    let out = contract(&sandbox.base_url(), "not-the-sandbox-token");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the API key"));
}

#[test]
fn exit_2_when_throttling_never_ends() {
    let sandbox = sandbox(SandboxOptions {
        throttle_every: Some(1),
        retry_after: Some(0),
        ..SandboxOptions::default()
    });
    let out = contract_with(
        &sandbox.base_url(),
        TOKEN,
        None,
        &["--throttle-patience", "1"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("429") && !stderr.contains("unknown argument"),
        "{stderr}"
    );
}

#[test]
fn exit_2_without_a_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_sela-contract"))
        .args(["--base-url", "http://127.0.0.1:9/"])
        .env_remove("SELA_API_KEY")
        .output()
        .expect("the xtask binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SELA_API_KEY"));
}
