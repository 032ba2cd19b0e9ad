//! R1 and R2: servers that record re-engagement wrongly, or undo a
//! do-not-contact flag on a re-send, fail that clause alone.

use sela_contract::Report;
use sela_sandbox::SandboxState;
use serde_json::{Value, json};

use crate::common::{assert_only, assert_only_or, clause, run_with, sandbox_answer};
use crate::kit::{is_single_create, named_leads};
use crate::linear::{Gate, Hold};
use crate::server::Resp;

/// The sandbox; after every create request that re-engaged leads, `after`
/// gets each such lead's id and state before the request.
fn run_after_reengaging(
    after: impl Fn(&SandboxState, i64, &Value) + Send + Sync + 'static,
) -> Report {
    run_with(8, move |state, req| {
        let before = named_leads(state, req);
        let resp: Resp = sandbox_answer(state, req).into();
        for (id, lead) in &before {
            after(state, *id, lead);
        }
        resp
    })
}

// Pins: checker/operations/scenario.rs `expect_counter` (its R1 `counter`
// failure); the other checks that catch this fault are off for it (pins.rs)
#[test]
fn r1_counter_not_incremented_is_caught() {
    // The re-engagement time is set, the counter is not saved.
    let r = run_after_reengaging(|state, id, was| {
        let count = was["reengagement_count"].clone();
        let _ = state
            .lock()
            .patch(id, &json!({"reengagement_count": count}));
    });
    // S5 too: a concurrent group's re-sends do not count either.
    assert_only_or(
        &r,
        &[clause("R1")],
        &[clause("S5")],
        "only the counter is wrong",
    );
}

// Pins: operations/scenario.rs `expect_counter` (the counter after the
// walk's concurrent re-sends, `resend_single`).
#[test]
fn r1_concurrent_reengagements_losing_updates_are_caught() {
    // Read the counter, wait at the gate until every request of the group
    // has read it, write it plus one: concurrent single creates of one
    // identity overwrite each other's increment. Every other request of a
    // group waits at the gate too, so that the whole group arrives.
    let gate = Gate::default();
    let r = run_with(8, move |state, req| {
        let before = if is_single_create(req) {
            named_leads(state, req)
        } else {
            Vec::new()
        };
        gate.hold(req);
        if before.is_empty() {
            return sandbox_answer(state, req).into();
        }
        let resp: Resp = sandbox_answer(state, req).into();
        for (id, was) in before {
            let next = was["reengagement_count"].as_i64().unwrap_or(0) + 1;
            let _ = state.lock().patch(id, &json!({"reengagement_count": next}));
        }
        resp
    });
    // S5 names the same race in its concurrent groups.
    assert_only_or(
        &r,
        &[clause("R1")],
        &[clause("S5")],
        "only concurrent increments are lost",
    );
}

// Pins: checker/operations/scenario.rs `walk_steps` (its R2 `keeps
// do-not-contact` failure); the other checks that catch this fault are off
// for it (pins.rs)
#[test]
fn r2_reengagement_clearing_do_not_contact_is_caught() {
    // A re-send saved with the item's defaults: call_dnc and sms_dnc false.
    let r = run_after_reengaging(|state, id, _| {
        let _ = state
            .lock()
            .patch(id, &json!({"call_dnc": false, "sms_dnc": false}));
    });
    assert_only(
        &r,
        &[clause("R2")],
        "only the do-not-contact flags are undone",
    );
}
