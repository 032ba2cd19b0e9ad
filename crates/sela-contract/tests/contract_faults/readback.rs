//! B3 by reading leads back: read-backs answered with an error, cut off or
//! without the lead, and the end-of-run recheck of a lead read back once.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use sela_contract::Config;
use sela_sandbox::SandboxState;

use crate::common::{
    assert_only, authorised, clause, config, lead_id, run_with, sandbox_answer, try_run,
};
use crate::server::{Req, Resp};

/// A server whose `GET /api/leads/{id}/` answers each lead right the first
/// time and `later` from then on, as if it dropped the lead after accepting
/// it; run with `max_created` 1, so that the one lead created is never
/// re-engaged and only the end-of-run recheck reads it a second time (and the
/// recheck must run although `--max-created` is used up).
fn run_read_once_then(later: fn() -> Resp) -> sela_contract::Report {
    let reads: Mutex<HashMap<i64, u32>> = Mutex::default();
    let config = Config {
        max_created: 1,
        ..config(8)
    };
    let responder = move |state: &SandboxState, req: &Req| -> Resp {
        if let Some(id) = lead_id(req)
            && authorised(req)
        {
            let mut reads = reads.lock().unwrap();
            let n = reads.entry(id).or_default();
            *n += 1;
            if *n > 1 {
                return later();
            }
        }
        sandbox_answer(state, req).into()
    };
    try_run(&config, crate::common::state(), responder).expect("the harness runs")
}

/// Asserts that B3 failed in the end-of-run recheck and no other clause did
/// (with one lead created, most clauses go unchecked).
#[track_caller]
fn assert_recheck_fails_b3_alone(r: &sela_contract::Report) {
    eprintln!("{r}");
    let b3 = r.clause(clause("B3"));
    let detail = &b3.failure.as_ref().expect("B3 failed").detail;
    assert!(detail.starts_with("B3 recheck: "), "{detail}");
    assert_eq!(r.failed(), [clause("B3")], "{r}");
    assert!(r.created <= 1, "{r}");
}

// Pins: readback.rs `recheck` (B3 recheck: a lead read back once then 404),
// run although --max-created is used up
#[test]
fn b3_recheck_lead_read_back_once_then_404_is_caught() {
    // Fails if `recheck_read_back` is removed or skipped once --max-created
    // is used up: no other read sees the lead a second time.
    let r = run_read_once_then(|| Resp::json(404, &json!({"detail": "Not found."})));
    assert_recheck_fails_b3_alone(&r);
}

// Pins: readback.rs `recheck` (B3 recheck: a lead read back once then 500)
#[test]
fn b3_recheck_lead_read_back_once_then_500_is_caught() {
    // Read-back works in this run, so a 500 is no excuse in the recheck.
    let r = run_read_once_then(|| Resp::raw(500, "text/html", "<h1>Server Error (500)</h1>"));
    assert_recheck_fails_b3_alone(&r);
}

/// A server whose `GET /api/leads/{id}/` answers `fault` for even ids (odd
/// ones read back right, so read-back is known to work in the run).
fn run_even_reads(fault: fn(Value) -> Resp) -> sela_contract::Report {
    run_reads_every(2, fault)
}

/// As [`run_even_reads`], for the ids that are multiples of `every`.
fn run_reads_every(every: i64, fault: fn(Value) -> Resp) -> sela_contract::Report {
    run_with(8, move |state, req| {
        let reply = sandbox_answer(state, req);
        if let Some(id) = lead_id(req)
            && authorised(req)
            && reply.status == 200
            && id % every == 0
        {
            return fault(reply.body);
        }
        reply.into()
    })
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_read_back_answered_503_is_caught() {
    let r = run_even_reads(|_| Resp::json(503, &json!({"detail": "Service unavailable."})));
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_read_back_answered_403_is_caught() {
    let r = run_even_reads(|_| Resp::json(403, &json!({"detail": "Not yours."})));
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_read_back_answered_a_non_object_200_is_caught() {
    let r = run_even_reads(|lead| Resp::json(200, &json!([lead])));
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_read_back_without_phone_and_email_is_caught() {
    // The lead read back has every field but the phone and e-mail: an object
    // with nothing that makes it item i's lead is no match (`{}` is the
    // extreme case; the unit tests of `checker::stored` have it). Every other
    // field is right, so only the missing phone and e-mail can fail B3.
    let r = run_even_reads(|mut lead| {
        if let Some(obj) = lead.as_object_mut() {
            obj.remove("phone_number");
            obj.remove("email");
        }
        Resp::json(200, &lead)
    });
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_read_back_cut_off_mid_answer_is_caught() {
    // The read is answered 200, but its gzip body is broken: the harness gets
    // no usable answer (a transport error), which, once read-back works, is
    // no excuse either. One id in five; concurrent batches can get every
    // fifth id, so one batch's reads may all be cut off in a row: the status
    // line came, so the target answers (brokenly) and is not taken as gone.
    let r = run_reads_every(5, |_| {
        Resp::raw(200, "application/json", b"not gzip at all".to_vec())
            .with_header("content-encoding", "gzip")
    });
    assert_only(&r, &[clause("B3")], "");
    let detail = &r.clause(clause("B3")).failure.as_ref().unwrap().detail;
    assert!(detail.contains("no answer"), "{detail}");
}
