//! Honest verdicts (issue 24): a clause counts as "held" only once a case
//! that could have failed it ran. Each server here takes away what one
//! clause is judged by; the clause must then not be reported held.

use std::collections::HashSet;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::common::*;
use crate::kit::patch_id;
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
