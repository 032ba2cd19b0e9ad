//! Stateful sequences: faults that only a sequence of operations shows (no
//! per-clause case walks a lead through them in that order), each caught by
//! the clause it breaks with a shrunk sequence as evidence, every other
//! clause holding; and the plain sandbox passing with many sequences.

use std::collections::HashMap;
use std::sync::Mutex;

use sela_contract::{Config, Report};
use sela_leads::rules::{Identity, identity};
use sela_sandbox::{SandboxState, answer_raw};
use serde_json::{Value, json};

use crate::common::{
    TOKEN, TOKEN2, assert_only, assert_passes, authorised, clause, config, is_bulk, leads_of,
    sandbox_answer, state, try_run,
};
use crate::kit::{is_single_create, patch_id, with_body};
use crate::server::{Req, Resp};

/// The fault tests' configuration with more sequences and a shrinking budget
/// that can take a dozen steps down to the few that matter.
fn seq_config() -> Config {
    Config {
        sequences: Some(24),
        max_shrink_steps: 64,
        ..config(8)
    }
}

fn run(
    config: &Config,
    responder: impl Fn(&SandboxState, &Req) -> Resp + Send + Sync + 'static,
) -> Report {
    let report = try_run(config, state(), responder).expect("the harness runs");
    let text = report.to_string();
    assert!(
        !text.contains(TOKEN) && !text.contains(TOKEN2),
        "a token leaked"
    );
    report
}

/// Asserts that `c` failed on a shrunk sequence of at most `most` steps
/// whose every request is shown with a `curl` line.
#[track_caller]
fn assert_shrunk_sequence(report: &Report, c: &str, most: usize) {
    let failure = report
        .clause(clause(c))
        .failure
        .as_ref()
        .expect("a failure");
    assert!(
        failure
            .batch
            .iter()
            .all(|(label, _)| label.starts_with("sequence step ")),
        "the evidence is a sequence: {:?}",
        failure.batch
    );
    assert!(
        !failure.batch.is_empty() && failure.batch.len() <= most,
        "{c}: the sequence was shrunk to {} steps, expected at most {most}:\n{}",
        failure.batch.len(),
        failure.evidence()
    );
    assert!(failure.shrink.generated, "a generated, shrinkable case");
    let text = failure.evidence();
    assert!(text.contains("shrunk sequence"), "{text}");
    assert_eq!(
        text.matches("reproduce: curl ").count(),
        failure.exchanges.len(),
        "every request has a curl line"
    );
    assert!(text.contains("$SELA_API_KEY"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

/// A server whose dedup cache (identity to lead) is invalidated on an update
/// by the identity the lead was created with, not the one it has: the first
/// move of a lead frees its old identity, a second move leaves the
/// intermediate identity pointing at the lead, so that identity sent again
/// re-engages the lead instead of creating a new one (U3). The per-clause
/// walk moves a lead once; only a sequence moves one twice.
fn stale_index_after_a_second_move() -> impl Fn(&SandboxState, &Req) -> Resp + Send + Sync {
    // Lead id -> moves so far; identity left behind by a second or later
    // move -> the lead the stale cache entry still points at.
    let moves: Mutex<HashMap<i64, u32>> = Mutex::default();
    let stale: Mutex<HashMap<Identity, i64>> = Mutex::default();
    move |state, req| {
        if !authorised(req) {
            return sandbox_answer(state, req).into();
        }
        if let Some(id) = patch_id(req) {
            let body = req.json().unwrap_or(Value::Null);
            let before = lead(state, id);
            let reply = sandbox_answer(state, req);
            let moved = body.get("phone_number").is_some() || body.get("email").is_some();
            if moved && (200..300).contains(&reply.status) {
                let mut moves = moves.lock().unwrap();
                let n = moves.entry(id).or_default();
                *n += 1;
                if let (true, Some(who)) = (*n >= 2, before.as_ref().and_then(identity)) {
                    stale.lock().unwrap().insert(who, id);
                }
            }
            return reply.into();
        }
        // A create of a stale identity is answered from the cache: the item
        // is taken as the lead the entry points at (re-engaged).
        let point = |item: &Value| -> Option<Value> {
            let id = *stale.lock().unwrap().get(&identity(item)?)?;
            let now = lead(state, id)?;
            Some(json!({"phone_number": now["phone_number"], "email": now["email"]}))
        };
        if is_single_create(req)
            && let Some(item) = req.json().as_ref().and_then(point)
        {
            return sandbox_answer(state, &with_body(req, &item)).into();
        }
        if is_bulk(req)
            && let Some(mut leads) = leads_of(req)
        {
            for item in &mut leads {
                if let Some(now) = point(item) {
                    *item = now;
                }
            }
            return sandbox_answer(state, &with_body(req, &json!({ "leads": leads }))).into();
        }
        sandbox_answer(state, req).into()
    }
}

/// Lead `id` of the first account, as the sandbox holds it.
fn lead(state: &SandboxState, id: i64) -> Option<Value> {
    let headers = vec![("authorization".to_owned(), format!("Token {TOKEN}"))];
    let path = format!("/api/leads/{id}/");
    let reply = answer_raw(state, "GET", &path, &headers, b"");
    (reply.status == 200).then_some(reply.body)
}

/// U3 broken by [`stale_index_after_a_second_move`]: without sequences U3
/// holds; a sequence finds it and shrinks towards create, moves, re-send of
/// an identity a move left (the moved-away identity's index does not shrink,
/// so the moves before it stay: at most 6 steps).
// Pins: checker/operations/sequences/resends.rs `resend_old` (its U3 `old
// identity` failure)
#[test]
fn u3_stale_index_after_a_second_move_is_caught_by_a_sequence() {
    let r = run(&seq_config(), stale_index_after_a_second_move());
    assert_only(
        &r,
        &[clause("U3")],
        "the moved-away identity re-engages the lead",
    );
    assert_shrunk_sequence(&r, "U3", 6);
    let without = Config {
        sequences: Some(0),
        ..seq_config()
    };
    let r = run(&without, stale_index_after_a_second_move());
    assert!(
        r.clause(clause("U3")).held(),
        "only a sequence shows this fault:\n{r}"
    );
}

/// The plain sandbox passes many sequences (every clause a sequence checks
/// holds on the reference), and the sequences' own steps reached the server:
/// leads created with a sequence's `external_id`, its PATCHes of one field
/// and its PUTs (bodies no other part of the run sends).
// Pins: checker/operations/sequences/steps.rs (Step::Patch, Step::Put and
// new_item's `seq-` external ids, run by run_sequences).
#[test]
fn the_sandbox_passes_many_sequences() {
    let seen: std::sync::Arc<Mutex<Vec<(String, Value)>>> = std::sync::Arc::default();
    let log = seen.clone();
    let report = run(&seq_config(), move |state, req| {
        if authorised(req)
            && let Some(body) = req.json()
        {
            log.lock().unwrap().push((req.method.clone(), body));
        }
        sandbox_answer(state, req).into()
    });
    assert_passes(&report);
    let seen = seen.lock().unwrap();
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let created = seen
        .iter()
        .filter(|(m, b)| {
            m == "POST"
                && (text(&b["external_id"]).starts_with("seq-")
                    || b["leads"].as_array().is_some_and(|ls| {
                        ls.iter()
                            .any(|l| text(&l["external_id"]).starts_with("seq-"))
                    }))
        })
        .count();
    let patched = seen
        .iter()
        .filter(|(m, b)| {
            m == "PATCH"
                && (text(&b["lead_source"]).starts_with("seq-patched-")
                    || b["metadata"].get("seq_patch").is_some())
        })
        .count();
    let put = seen
        .iter()
        .filter(|(m, b)| m == "PUT" && text(&b["lead_source"]).starts_with("seq-put-"))
        .count();
    assert!(
        created > 0 && patched > 0 && put > 0,
        "the sequences' steps did not all reach the server: {created} create(s), \
         {patched} PATCH(es), {put} PUT(s)"
    );
}
