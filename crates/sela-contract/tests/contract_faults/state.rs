//! S1-S4: distinct ids, no double creation (in any phone format, counted in the
//! list), no trace of refused requests and rejected items, and concurrency.

use std::collections::HashMap;
use std::sync::Mutex;

use sela_contract::Report;
use sela_sandbox::model::{identity, validate_item};
use sela_sandbox::{Reply, SandboxState};
use serde_json::{Value, json};

use crate::common::{
    assert_only, assert_only_or, authorised, clause, is_bulk, leads_of, results, results_mut,
    run_bulk, run_fault, run_rewriting, run_with, sandbox_answer,
};
use crate::linear::{Gate, Hold};
use crate::server::{Req, Resp};

// Pins: checker/bulk.rs `check_bulk` (its S1 `id reused` failure)
#[test]
fn s1_reused_id_is_caught() {
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            let mut first = None;
            for res in results.iter_mut() {
                if res["action"] == "created" {
                    match &first {
                        None => first = Some(res["id"].clone()),
                        Some(id) => res["id"] = id.clone(),
                    }
                }
            }
        }
        reply
    });
    assert_only(
        &r,
        &[clause("B3"), clause("S1"), clause("S2")],
        "B3: the reused id reads back as the first item's lead, not this item's; \
         S2: a later re-engagement of this item carries its true id",
    );
}

// Pins: checker/bulk.rs `check_bulk` (its S2 `created again` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn s2_duplicate_answered_created_is_caught() {
    let r = run_rewriting("reengaged", |res| res["action"] = json!("created"));
    assert_only_or(
        &r,
        &[clause("S1"), clause("S2")],
        &[clause("B3")],
        "S1: the second `created` carries the first one's id; B3 when the duplicate \
         comes in a later request: the lead under that id holds the first item's \
         fields, not this item's",
    );
}

// Pins: checker/bulk.rs `check_bulk` (its S2 `created again` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn s2_dedup_on_the_phone_text_as_sent_is_caught() {
    // The server's unique key is the phone text as sent (and the e-mail): the
    // same number in another US format is created again.
    let by_text: Mutex<HashMap<String, i64>> = Mutex::default();
    let r = run_bulk(move |state, items| {
        let mut model = state.lock();
        let mut seen = by_text.lock().unwrap();
        let out = items
            .iter()
            .map(|item| {
                if let Err(message) = validate_item(item) {
                    return json!({"id": null, "action": "error", "error": message});
                }
                let key = json!([item["phone_number"], item.get("email")]).to_string();
                if let Some(id) = seen.get(&key) {
                    return json!({"id": id, "action": "reengaged"});
                }
                match model.insert_unchecked(item) {
                    Ok(id) => {
                        seen.insert(key, id);
                        json!({"id": id, "action": "created"})
                    }
                    Err(e) => json!({"id": null, "action": "error", "error": e}),
                }
            })
            .collect();
        results(out)
    });
    assert_only(&r, &[clause("S2")], "");
}

// Pins: checker/count.rs `check` (its S2 `list count` failure); the other
// checks that catch this fault are off for it (pins.rs)
#[test]
fn s2_second_copy_stored_on_reengagement_is_caught() {
    // Answers `reengaged` with the existing id, but stores a copy too: the
    // list count grows by more than the created results.
    let r = run_bulk(|state, items| {
        let mut model = state.lock();
        let out = model.bulk_create(items);
        for (item, result) in items.iter().zip(&out) {
            if result["action"] == "reengaged" {
                let _ = model.insert_unchecked(item);
            }
        }
        results(out)
    });
    assert_only_or(
        &r,
        &[clause("S2")],
        &[clause("S3")],
        "S3 where the request also had items answered `error`: the count's excess \
         could then be a stored error item as well as a second copy, so it fails both",
    );
}

// Pins: checker/count.rs `check_unchanged` (its S3 `list count` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn s3_leads_stored_then_401_is_caught() {
    let r = crate::common::run_with(8, |state, req| {
        let reply = crate::common::sandbox_answer(state, req);
        if crate::common::is_bulk(req)
            && !authorised(req)
            && let Some(leads) = leads_of(req)
        {
            state.lock().bulk_create(&leads);
        }
        reply.into()
    });
    assert_only(&r, &[clause("S3")], "");
}

// Pins: checker/count.rs `check` (its S3 `list count` failure); the other
// checks that catch this fault are off for it (pins.rs)
#[test]
fn s3_item_answered_error_but_stored_is_caught() {
    // An item refused for a bad field other than its phone is stored anyway
    // under its identity (the bad field dropped).
    let r = run_bulk(|state, items| {
        let mut model = state.lock();
        let out = model.bulk_create(items);
        for (item, result) in items.iter().zip(&out) {
            if result["action"] == "error"
                && let Some(who) = identity(item)
            {
                let _ =
                    model.insert_unchecked(&json!({"phone_number": who.phone, "email": who.email}));
            }
        }
        results(out)
    });
    assert_only_or(
        &r,
        &[clause("S3")],
        &[clause("S2")],
        "S2 where the request also had re-engaged items: the count's excess could \
         then be a second copy as well as a stored error item, so it fails both",
    );
}

// Pins: checker/count.rs `check_unchanged` (its S3 `list count` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn s3_oversize_batch_refused_413_but_partly_stored_is_caught() {
    let r = run_bulk(|state, items| {
        if items.len() > 100 {
            state.lock().bulk_create(&items[..100]);
            let mut reply = results(Vec::new());
            reply.status = 413;
            reply.body = json!({"detail": "Request entity too large: at most 100 leads."});
            return reply;
        }
        results(state.lock().bulk_create(items))
    });
    assert_only(&r, &[clause("S3")], "");
}

/// The sandbox, except that an authorised, well-formed bulk create is
/// answered by `racy` (given the gate to hold it at between its read and
/// its write); every other request of a group (`x-sela-group`) is held at
/// the gate before it is answered, so that the whole group arrives.
fn run_bulk_gated(
    racy: impl Fn(&SandboxState, &[Value], &dyn Hold, &Req) -> Reply + Send + Sync + 'static,
) -> Report {
    let gate = Gate::default();
    run_with(8, move |state, req| {
        if is_bulk(req)
            && authorised(req)
            && let Some(leads) = leads_of(req)
        {
            return racy(state, &leads, &gate, req).into();
        }
        gate.hold(req);
        sandbox_answer(state, req).into()
    })
}

// Pins: checker/concurrency.rs `judge_s4` (a clause that held one request at
// a time, S2, broken by requests in flight together).
#[test]
fn s4_lookup_then_insert_without_a_lock_is_caught() {
    // Looks the request's identities up, releases the lock, and inserts the
    // new ones once every request of its group has looked theirs up (the
    // gate): correct one request at a time, duplicates under concurrency.
    let r = run_bulk_gated(|state, items, gate, req| {
        let known: Vec<bool> = {
            let model = state.lock();
            items
                .iter()
                .map(|item| identity(item).is_some_and(|who| model.find(&who).is_some()))
                .collect()
        };
        gate.hold(req);
        // Identities this request inserted itself: their re-sends in it are
        // re-engagements, as one request at a time.
        let mut mine = HashMap::new();
        let out = items
            .iter()
            .zip(known)
            .map(|(item, known)| {
                if let Err(message) = validate_item(item) {
                    return json!({"id": null, "action": "error", "error": message});
                }
                let Some(who) = identity(item) else {
                    return json!({"id": null, "action": "error", "error": "phone_number: invalid"});
                };
                if known || mine.contains_key(&who) {
                    return match state.lock().create_item(item) {
                        Ok((id, action)) => json!({"id": id, "action": action.as_str()}),
                        Err(e) => json!({"id": null, "action": "error", "error": e}),
                    };
                }
                match state.lock().insert_unchecked(item) {
                    Ok(id) => {
                        mine.insert(who, id);
                        json!({"id": id, "action": "created"})
                    }
                    Err(e) => json!({"id": null, "action": "error", "error": e}),
                }
            })
            .collect();
        results(out)
    });
    assert_only(
        &r,
        &[clause("S2"), clause("S4")],
        "S2: the identity is created twice, which held one request at a time, so \
         S4 fails too",
    );
}

// Pins: checker/concurrency.rs `judge_s4` (clauses that held one request at
// a time broken by requests in flight together).
#[test]
fn s4_results_of_another_concurrent_request_are_caught() {
    // The batch goes through one shared slot: one request at a time it is
    // correct, but under concurrency each request of a group writes the
    // slot, waits at the gate until all have, and processes and answers the
    // items of the last one that wrote it.
    let slot: Mutex<Vec<Value>> = Mutex::default();
    let r = run_bulk_gated(move |state, items, gate, req| {
        *slot.lock().unwrap() = items.to_vec();
        gate.hold(req);
        let batch = slot.lock().unwrap().clone();
        results(state.lock().bulk_create(&batch))
    });
    assert_only_or(
        &r,
        &[clause("S4")],
        &[clause("B1"), clause("B3"), clause("S2"), clause("S3")],
        "the answers describe another request's items: B1 where that request had \
         another length, B3 where the items differ, S2 where an identity shows up \
         twice, S3 where an item answered error was stored by the other request's \
         processing; each held one request at a time, so S4 fails",
    );
}

/// The server of the S1 tests: no read-back (GET by id is 404), and every
/// lead's id answered halved, rounded up: leads 1 and 2 are both "1". Its
/// re-engagements carry the same (halved) id, so S2 sees nothing wrong and
/// B3 cannot read the lead back: only S1 sees two created results with one
/// id.
pub fn halved_ids(state: &SandboxState, req: &Req) -> Resp {
    let halve = |id: &serde_json::Value| id.as_i64().map(|i| json!((i + 1) / 2));
    if crate::common::lead_id(req).is_some() {
        return Resp::json(404, &json!({"detail": "Not found."}));
    }
    let mut reply = crate::common::sandbox_answer(state, req);
    if crate::common::is_bulk(req)
        && let Some(results) = results_mut(&mut reply)
    {
        for res in results.iter_mut() {
            if let Some(id) = halve(&res["id"]) {
                res["id"] = id;
            }
        }
    }
    reply.into()
}

/// The lead operations judge by reading leads back, and [`halved_ids`]
/// reads none back: they are not checked (never held).
pub const BY_READS: [&str; 9] = ["B5", "R1", "R2", "C1", "U1", "U2", "U3", "G1", "S5"];

// Pins: checker/bulk.rs `check_bulk` (its S1 `id reused` failure); the
// lanes' check that catches this fault too is off for it (pins.rs)
#[test]
fn s1_ids_shared_by_two_leads_without_read_back_is_caught() {
    let r = crate::common::run_with(8, halved_ids);
    crate::common::assert_only_unchecked(
        &r,
        &[clause("S1")],
        &[clause("B4")],
        &BY_READS.map(clause),
        "B4 when two valid items share a halved id alone but not among invalid items \
         (or the other way round): their real ids fall differently in the two requests; \
         no lead is read back, so the lead operations are not checked",
    );
}

// Pins: checker/count.rs `check_unchanged` (its S3 `list count` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn s3_malformed_body_refused_400_but_stored_is_caught() {
    // `{"lead": [..]}` (the key misspelt) is refused with the sandbox's 400,
    // but its leads are stored all the same.
    let r = crate::common::run_with(8, |state, req| {
        let reply = crate::common::sandbox_answer(state, req);
        if crate::common::is_bulk(req)
            && authorised(req)
            && reply.status == 400
            && let Some(leads) = req
                .json()
                .and_then(|b| b.get("lead").and_then(|l| l.as_array()).cloned())
        {
            state.lock().bulk_create(&leads);
        }
        reply.into()
    });
    assert_only(&r, &[clause("S3")], "");
}

// Pins: checker/count.rs `check` (its S2 `list count` failure); the other
// checks that catch this fault are off for it (pins.rs)
#[test]
fn s2_s3_ambiguous_count_growth_fails_both() {
    // A copy of a re-engaged lead is stored, but only in requests that also
    // have an item answered `error`: the count's excess could be that copy
    // (S2) or a stored error item (S3), and it is wrong either way.
    let r = run_bulk(|state, items| {
        let mut model = state.lock();
        let out = model.bulk_create(items);
        if out.iter().any(|r| r["action"] == "error") {
            for (item, result) in items.iter().zip(&out) {
                if result["action"] == "reengaged" {
                    let _ = model.insert_unchecked(item);
                }
            }
        }
        results(out)
    });
    assert_only(
        &r,
        &[clause("S2"), clause("S3")],
        "S3: the excess is ambiguous between the two clauses, so both fail",
    );
    let s2 = &r.clause(clause("S2")).failure.as_ref().unwrap().detail;
    assert!(s2.contains("both clauses fail"), "{s2}");
}
