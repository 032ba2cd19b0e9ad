//! Honest verdicts (issue 24): a clause counts as "held" only once a case
//! that could have failed it ran. Each server here takes away what one
//! clause is judged by; the clause must then not be reported held.

use std::collections::HashSet;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::common::*;
use crate::kit::{named_leads, patch_id};
use crate::server::Resp;

/// 503, as from a replica that cannot serve the lead.
fn unavailable() -> Resp {
    Resp::json(503, &json!({"detail": "Service unavailable"}))
}

/// Asserts `c` was not reported held: never checked, or failed.
#[track_caller]
fn not_held(report: &sela_contract::Report, c: &str) {
    eprintln!("{report}");
    let result = report.clause(clause(c));
    assert!(
        !result.held(),
        "{c} is reported {} in {} case(s), though no read could judge it:\n{report}",
        result.verdict(),
        result.cases
    );
}

// Pins: operations/updates.rs `write` (no check on a 2xx alone) and U1/U2
// counted in the `Agrees` arms of the reads after PATCH and PUT.
#[test]
fn u1_and_u2_are_not_held_when_no_updated_lead_can_be_read() {
    // Reads of a lead that was PATCHed or PUT answer 503.
    let written = Mutex::new(HashSet::new());
    let report = run_with(8, move |state, req| {
        let reply = sandbox_answer(state, req);
        let mut written = written.lock().unwrap();
        if reply.status == 200 {
            if let Some(id) = patch_id(req) {
                written.insert(id);
            } else if req.method == "PUT"
                && let Some(id) = reply.body.get("id").and_then(Value::as_i64)
            {
                written.insert(id);
            }
        }
        if lead_id(req).is_some_and(|id| written.contains(&id)) {
            return unavailable();
        }
        reply.into()
    });
    not_held(&report, "U1");
    not_held(&report, "U2");
}

// Pins: checker/concurrency.rs `judge_s4` (S4 counted only by a case that
// judged a clause that held one request at a time).
#[test]
fn s4_is_not_held_when_every_bulk_request_fails_alone_too() {
    // Every bulk create answers 500: T1 fails one request at a time, and the
    // concurrent cases judge nothing else, so nothing there can fail S4.
    let report = run_with(8, |state, req| {
        if is_bulk(req) && authorised(req) && leads_of(req).is_some() {
            return Resp::json(500, &json!({"detail": "Server error"}));
        }
        sandbox_answer(state, req).into()
    });
    assert!(report.clause(clause("T1")).failed_cases > 0, "{report}");
    not_held(&report, "S4");
}

// Pins: operations/scenario.rs `expect_counter` and the bulk re-send's read,
// operations/updates.rs `dnc_survives` (R1/R2 counted only in the `Agrees`
// arms of the reads after a re-engagement), with `starts_at_zero R1`
// switched off (a created lead's counter, read before any re-engagement,
// judges R1 too).
#[test]
fn r1_and_r2_are_not_held_when_no_reengaged_lead_can_be_read() {
    // Reads of a lead that a create re-engaged answer 503.
    let reengaged = Mutex::new(HashSet::new());
    let mut config = config(8);
    config.skip_checks.push("starts_at_zero R1".into());
    let server = serve(state(), Default::default(), move |state, req| {
        let named: Vec<i64> = named_leads(state, req)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let reply = sandbox_answer(state, req);
        let mut reengaged = reengaged.lock().unwrap();
        if reply.status < 300 {
            reengaged.extend(named);
        }
        if req.method == "GET" && lead_id(req).is_some_and(|id| reengaged.contains(&id)) {
            return unavailable();
        }
        reply.into()
    });
    let report = run_on(&server, &config).expect("the harness runs");
    not_held(&report, "R1");
    not_held(&report, "R2");
}

// Pins: checker/sizes.rs `oversize_refused` (no T1 for a refusal the size
// limit excuses), with `check_bulk T1` switched off so that no bulk answer's
// own status check counts T1.
#[test]
fn t1_is_not_held_by_an_excused_oversize_refusal() {
    // Batches of more than 10 items are refused 413: the size probe takes 10
    // for the limit and excuses every later refusal of a larger batch.
    let mut config = config(8);
    config.skip_checks.push("check_bulk T1".into());
    let server = serve(state(), Default::default(), |state, req| {
        if is_bulk(req) && authorised(req) && leads_of(req).is_some_and(|l| l.len() > 10) {
            return Resp::json(413, &json!({"detail": "At most 10 leads."}));
        }
        sandbox_answer(state, req).into()
    });
    let report = run_on(&server, &config).expect("the harness runs");
    assert!(
        report.to_string().contains("10 items accepted, 50 refused"),
        "the probe did not find the limit:\n{report}"
    );
    not_held(&report, "T1");
}
