//! Identity and duplicate faults the first suite did not cover: a duplicate
//! rule on part of the identity, dedup only within or only across requests,
//! leads answered `created` but never stored, re-engagements naming another
//! lead, and faults that only start once the account holds some leads.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sela_sandbox::model::{identity, validate_item};
use serde_json::json;

use crate::common::{
    assert_only, assert_only_or, assert_only_unchecked, clause, results, results_mut, run_bulk,
    run_fault, run_rewriting,
};

/// A server whose duplicate rule looks at one part of the identity only
/// (`key` of the phone and e-mail): an item whose key matches an earlier lead
/// is re-engaged as that lead, even with the other part new.
fn run_partial_key(key: fn(&str, &str) -> String) -> sela_contract::Report {
    let seen: Mutex<HashMap<String, i64>> = Mutex::default();
    run_bulk(move |state, items| {
        let mut seen = seen.lock().unwrap();
        let mut model = state.lock();
        let out = items
            .iter()
            .map(|item| {
                let who = validate_item(item).ok().and_then(|()| identity(item));
                let Some(who) = who else {
                    return model.bulk_create(std::slice::from_ref(item)).remove(0);
                };
                let k = key(&who.phone, who.email.as_deref().unwrap_or(""));
                if let Some(id) = seen.get(&k) {
                    return json!({"id": id, "action": "reengaged"});
                }
                let res = model.bulk_create(std::slice::from_ref(item)).remove(0);
                if let Some(id) = res["id"].as_i64() {
                    seen.insert(k, id);
                }
                res
            })
            .collect();
        results(out)
    })
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn b3_duplicate_rule_on_the_phone_only_is_caught() {
    // A new e-mail with a known number is re-engaged as the number's lead.
    let r = run_partial_key(|phone, _| phone.to_owned());
    // Loosening right: R1 fails only if a sequence re-sends a lead twice by
    // bulk, U3 only if it moves a lead's e-mail and re-sends the old identity.
    assert_only_or(
        &r,
        &[clause("B3")],
        &[clause("S2"), clause("S3"), clause("R1"), clause("U3")],
        "S2 when an identity created by single create (which the fault leaves alone) \
         is re-sent by bulk while another lead has its number: it is re-engaged with \
         that lead's id (the walks run side by side draw numbers the bulk cases use); \
         S3 when an identity sent only in refused items shares its number with a \
         created lead: sent validly, it is re-engaged instead of created; R1 when a \
         sequence re-sends a lead twice by bulk: the second re-engagement is answered \
         from the fault's own map and never reaches the lead's counter; U3 when a \
         sequence moves a lead's e-mail and re-sends its old identity by bulk: the \
         lead still holds that number, so the old identity is re-engaged as it \
         instead of created",
    );
}

// Pins: checker/bulk.rs `check_bulk` (its B3 `expected outcome` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn b3_duplicate_rule_on_the_email_only_is_caught() {
    let r = run_partial_key(|_, email| email.to_owned());
    // Loosening right: R1 fails only if a sequence re-sends a lead twice by
    // bulk, U3 only if it moves a lead's number and re-sends the old identity.
    assert_only_or(
        &r,
        &[clause("B3")],
        &[clause("S3"), clause("R1"), clause("U3")],
        "S3 when an identity sent only in refused items shares its e-mail with a \
         created lead; R1 when a sequence re-sends a lead twice by bulk: the second \
         re-engagement is answered from the fault's own map and never reaches the \
         lead's counter; U3 when a sequence moves a lead's phone number and re-sends \
         its old identity by bulk: the lead still holds that e-mail, so the old \
         identity is re-engaged as it instead of created",
    );
}

// Pins: checker/bulk.rs `check_bulk` (its S2 `created again` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn s2_dedup_within_a_batch_only_is_caught() {
    // Each request starts from an empty identity index: a lead of an earlier
    // request is created again.
    let r = run_bulk(|state, items| {
        let mut local: HashMap<_, i64> = HashMap::new();
        let mut model = state.lock();
        let out = items
            .iter()
            .map(
                |item| match validate_item(item).ok().and_then(|()| identity(item)) {
                    Some(who) => match local.get(&who) {
                        Some(id) => json!({"id": id, "action": "reengaged"}),
                        None => {
                            let id = model.insert_unchecked(item).expect("valid");
                            local.insert(who, id);
                            json!({"id": id, "action": "created"})
                        }
                    },
                    None => model.bulk_create(std::slice::from_ref(item)).remove(0),
                },
            )
            .collect();
        results(out)
    });
    assert_only_or(
        &r,
        &[clause("S2")],
        &[clause("B4")],
        "B4 when the valid items sent alone are created again among invalid ones",
    );
}

// Pins: checker/bulk.rs `check_bulk` (its S2 `created again` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn s2_dedup_across_requests_only_is_caught() {
    // Duplicates are looked up before the batch is inserted: two items of one
    // batch with one identity are both created.
    let r = run_bulk(|state, items| {
        let mut model = state.lock();
        let known: Vec<Option<i64>> = items
            .iter()
            .map(|item| identity(item).and_then(|who| model.find(&who)))
            .collect();
        let out = items
            .iter()
            .zip(known)
            .map(|(item, known)| match (validate_item(item), known) {
                (Ok(()), Some(id)) => json!({"id": id, "action": "reengaged"}),
                (Ok(()), None) => {
                    json!({"id": model.insert_unchecked(item).expect("valid"), "action": "created"})
                }
                _ => model.bulk_create(std::slice::from_ref(item)).remove(0),
            })
            .collect();
        results(out)
    });
    // Loosening right: R1 fails only if a walk re-engages a lead stored twice.
    assert_only_or(
        &r,
        &[clause("S2")],
        &[clause("R1")],
        "R1 when a walk re-engages a lead whose identity was stored twice (the \
         copy's counter moves, not the lead's)",
    );
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn created_but_never_stored_is_caught() {
    // One `created` lead in three is answered but lost: it reads back 404 while
    // the others read back, and the list count grows by less than created.
    let n = AtomicUsize::new(0);
    let r = run_fault(move |state, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            for res in results.iter() {
                if res["action"] == "created"
                    && n.fetch_add(1, Ordering::Relaxed) % 3 == 1
                    && let Some(id) = res["id"].as_i64()
                {
                    state.lock().remove(id);
                }
            }
        }
        reply
    });
    assert_only_or(
        &r,
        &[clause("B3"), clause("S2")],
        &[clause("B4"), clause("U3")],
        "B3: the lost lead reads back 404; S2: the count grows by less than the \
         number created (and a lost identity sent again is created again); B4 \
         when that happens to a valid item sent alone and then among invalid ones; \
         U3 when a sequence's moved-away identity is the lost one",
    );
}

// Pins: checker/bulk.rs `check_bulk` (its S2 `reengaged id` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn s2_reengaged_with_another_leads_id_is_caught() {
    // A re-engagement names the lead created just before the right one.
    let r = run_fault(|state, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            for res in results.iter_mut() {
                if res["action"] == "reengaged"
                    && let Some(id) = res["id"].as_i64()
                    && state.lock().get(id - 1).is_some()
                {
                    res["id"] = json!(id - 1);
                }
            }
        }
        reply
    });
    assert_only(
        &r,
        &[clause("B3"), clause("S2")],
        "S2: the id is not the identity's lead; B3: that lead reads back with \
         another phone and e-mail",
    );
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_swaps_once_the_account_holds_40_leads_are_caught() {
    // Correct while the account is small; past 40 leads, the ids of the first
    // two created results of a batch are swapped.
    let r = run_bulk(|state, items| {
        let mut model = state.lock();
        let big = model.len() >= 40;
        let mut out = model.bulk_create(items);
        if big {
            let created: Vec<usize> = (0..out.len())
                .filter(|&i| out[i]["action"] == "created")
                .take(2)
                .collect();
            if let [a, b] = created[..] {
                let (x, y) = (out[a]["id"].clone(), out[b]["id"].clone());
                out[a]["id"] = y;
                out[b]["id"] = x;
            }
        }
        results(out)
    });
    assert_only_or(
        &r,
        &[clause("B3")],
        &[clause("S2")],
        "S2 when a swapped identity is sent again: its re-engagement carries its true id",
    );
}

// Pins: checker/bulk.rs must_be_created (B3 "expected outcome"; S3 "later
// creation" for identities only refused before), S2's count check.
#[test]
fn b3_new_leads_answered_reengaged_are_caught() {
    // Stored as new leads, but every `created` is reported as `reengaged`.
    let r = run_rewriting("created", |res| res["action"] = json!("reengaged"));
    assert_only_unchecked(
        &r,
        &[clause("B3"), clause("S2"), clause("S3")],
        &[clause("U3")],
        &[clause("S1")],
        "S2: the count grows by leads no result calls created; S3: an identity only \
         refused before is answered `reengaged` when sent validly (the refusals \
         property always does that); S1 is not checked: no result is `created`; U3 \
         when a sequence re-sends a moved-away identity (it is answered `reengaged`)",
    );
}

// Pins: checker/bulk.rs `check_bulk` (its B3 `expected outcome` failure)
#[test]
fn b3_unknown_states_stored_without_the_state_are_caught() {
    // `us_state` is not validated: an item with "ZZ" is created, state dropped.
    let r = run_bulk(|state, items| {
        let fixed: Vec<_> = items
            .iter()
            .map(|item| {
                let mut item = item.clone();
                if let Some(obj) = item.as_object_mut()
                    && obj
                        .get("us_state")
                        .and_then(|s| s.as_str())
                        .is_some_and(|s| !sela_leads::rules::US_STATES.contains(&s))
                {
                    obj.remove("us_state");
                }
                item
            })
            .collect();
        results(state.lock().bulk_create(&fixed))
    });
    assert_only_or(
        &r,
        &[clause("B3")],
        &[clause("S2"), clause("S3")],
        "S3: an item that must be refused was stored; S2 when its identity is \
         sent again",
    );
}
