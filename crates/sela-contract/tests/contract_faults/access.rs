//! A1-A2: requests without the right token are refused, near misses included,
//! and malformed bodies get a JSON 400.

use std::sync::atomic::{AtomicBool, Ordering};

use sela_contract::regressions::{Regression, ReplayOutcome};
use sela_sandbox::SandboxState;

use crate::common::{
    TOKEN, assert_only, clause, config, is_bulk, run_fault, run_with, sandbox_answer, try_run,
};
use crate::server::{Req, Resp};

/// A server whose token check also lets through the header values `accepts`
/// admits: it then acts exactly as if the real token had been sent.
fn run_auth(
    accepts: impl Fn(Option<&str>) -> bool + Send + Sync + 'static,
) -> sela_contract::Report {
    run_with(8, move |state, req| {
        let header = req.header("authorization");
        let real = format!("Token {TOKEN}");
        if header != Some(real.as_str()) && accepts(header) {
            let mut admitted: Req = req.clone();
            admitted
                .headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
            admitted.headers.push(("authorization".into(), real));
            return sandbox_answer(state, &admitted).into();
        }
        sandbox_answer(state, req).into()
    })
}

/// The token of a `Token` header value, if it is one.
fn token_of(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.split_once(' ')?;
    scheme.eq_ignore_ascii_case("token").then_some(token.trim())
}

// Pins: checker/refusals.rs `judge_refusal` (its A1 `wrong or no token`
// failure)
#[test]
fn a1_missing_token_accepted_is_caught() {
    let r = run_auth(|header| header.is_none());
    assert_only(&r, &[clause("A1")], "");
}

// Pins: checker/refusals.rs `judge_refusal` (its A1 `near miss` failure)
#[test]
fn a1_token_compared_on_its_first_characters_is_caught() {
    // Catches the last character changed (and one dropped or added at the end).
    let r = run_auth(|header| {
        token_of(header).is_some_and(|t| t.len() >= 16 && TOKEN.starts_with(&t[..16]))
    });
    assert_only(&r, &[clause("A1")], "");
}

// Pins: checker/refusals.rs `judge_refusal` (its A1 `near miss` failure)
#[test]
fn a1_token_compared_on_the_length_sent_is_caught() {
    // strncmp(sent, real, len(sent)): a token with characters dropped passes.
    let r =
        run_auth(|header| token_of(header).is_some_and(|t| !t.is_empty() && TOKEN.starts_with(t)));
    assert_only(&r, &[clause("A1")], "");
}

// Pins: checker/refusals.rs `judge_refusal` (its A1 `near miss` failure)
#[test]
fn a1_token_compared_on_the_real_length_is_caught() {
    // strncmp(sent, real, len(real)): a token with characters added passes.
    let r = run_auth(|header| token_of(header).is_some_and(|t| t.starts_with(TOKEN)));
    assert_only(&r, &[clause("A1")], "");
}

// Pins: checker/refusals.rs `judge_refusal` (its A1 `near miss` failure)
#[test]
fn a1_token_compared_case_insensitively_is_caught() {
    let r = run_auth(|header| token_of(header).is_some_and(|t| t.eq_ignore_ascii_case(TOKEN)));
    assert_only(&r, &[clause("A1")], "");
}

// Pins: checker/refusals.rs `judge_refusal` (its A1 `near miss` failure)
#[test]
fn a1_bearer_scheme_accepted_is_caught() {
    let r = run_auth(|header| {
        header.is_some_and(|h| h.eq_ignore_ascii_case(&format!("Bearer {TOKEN}")))
    });
    assert_only(&r, &[clause("A1")], "");
}

// Pins: checker/refusals.rs `judge_refusal` (its A2 `malformed body` failure)
#[test]
fn a2_malformed_body_answered_422_is_caught() {
    // As a framework that answers 422 to a body it cannot parse.
    let r = run_fault(|_, req, mut reply| {
        if reply.status == 400 && req.json().is_none() {
            reply.status = 422;
        }
        reply
    });
    assert_only(&r, &[clause("A2")], "");
}

// Pins: checker/refusals.rs `judge_refusal` (its A2 `malformed body` failure)
#[test]
fn a2_malformed_body_answered_without_json_is_caught() {
    let r = run_with(8, |state, req| {
        let reply = sandbox_answer(state, req);
        // As a proxy in front that answers a body it cannot parse itself.
        if is_bulk(req) && reply.status == 400 && req.json().is_none() {
            Resp::raw(400, "text/html", "<h1>Bad Request</h1>")
        } else {
            reply.into()
        }
    });
    assert_only(&r, &[clause("A2")], "");
}

// Pins: checker/refusals.rs `judge_refusal` (its A2 `malformed body` failure)
#[test]
fn a2_malformed_body_answered_500_html_is_caught() {
    // A server that crashes on a body it cannot use.
    let r = run_with(8, |state, req| {
        let reply = sandbox_answer(state, req);
        if is_bulk(req) && reply.status == 400 {
            return Resp::raw(500, "text/html", "<h1>Server Error (500)</h1>");
        }
        reply.into()
    });
    assert_only(&r, &[clause("A2")], "");
}

// Pins: checker/refusals.rs `judge_refusal` (its A2 `malformed body` failure)
#[test]
fn a2_leads_object_taken_as_its_values_is_caught() {
    // `{"leads": {"0": {..}, "1": {..}}}` processed as if it were the array of
    // its values: answered 200 instead of 400, and its leads stored.
    let r = run_with(8, |state, req| {
        if is_bulk(req)
            && let Some(body) = req.json()
            && let Some(obj) = body.get("leads").and_then(|l| l.as_object())
        {
            let mut fixed = req.clone();
            fixed.body = serde_json::json!({"leads": obj.values().cloned().collect::<Vec<_>>()})
                .to_string()
                .into_bytes();
            return sandbox_answer(state, &fixed).into();
        }
        sandbox_answer(state, req).into()
    });
    // S3 speaks of requests refused as a whole: this one was not refused, so
    // what it stored is not a trace of a refusal.
    assert_only(&r, &[clause("A2")], "");
}

/// The sandbox, except that the first body it cannot parse as JSON is
/// answered 422 (a fault only that one request shows).
fn first_unparsable_body_422() -> impl Fn(&SandboxState, &Req) -> Resp + Send + Sync + 'static {
    let faulted = AtomicBool::new(false);
    move |state, req| {
        let reply = sandbox_answer(state, req);
        if is_bulk(req)
            && reply.status == 400
            && req.json().is_none()
            && !faulted.swap(true, Ordering::SeqCst)
        {
            return Resp::json(422, &serde_json::json!({"detail": "Unprocessable."}));
        }
        reply.into()
    }
}

// Pins: checker/replay.rs (a stored failure replayed first) and report.rs
// Report::table.
#[test]
fn a2_replayed_stored_failure_that_still_fails_fails_a2() {
    // A rare case found the fault; the next run replays it first against the
    // same faulty server, and its new cases (after the fault's one request)
    // all pass. The replay's failure is A2's verdict in the table (and so in
    // JUnit, JSON and the exit status), with its evidence.
    let first = try_run(
        &config(8),
        crate::common::state(),
        first_unparsable_body_422(),
    )
    .expect("the harness runs");
    assert_only(&first, &[clause("A2")], "");
    let stored = Regression::from_report(&first);
    assert_eq!(stored.len(), 1, "{stored:?}");
    let again = sela_contract::Config {
        replay: stored,
        seed: Some(1),
        ..config(8)
    };
    let r = try_run(&again, crate::common::state(), first_unparsable_body_422())
        .expect("the harness runs");
    assert_eq!(r.replayed.len(), 1, "{r}");
    assert_eq!(r.replayed[0].outcome, ReplayOutcome::StillFails, "{r}");
    assert_only(&r, &[clause("A2")], "");
    assert_eq!(
        r.clause(clause("A2")).failed_cases,
        1,
        "the replay alone failed:\n{r}"
    );
    assert!(!r.passed());
    // Pins: report.rs Report::table (a replayed failure's verdict is A2's row).
    let table = r.table();
    let row = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some("A2"))
        .unwrap_or_else(|| panic!("no A2 row:\n{table}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[2..6],
        ["FAILED", "in", "1", "case(s)"],
        "A2's row: {row}"
    );
}
