//! Faults that only show past some batch size, as in servers that insert in
//! chunks: the harness must probe and use large batches, not only small ones.

use serde_json::json;

use crate::common::{assert_only, assert_only_or, clause, results, run_bulk};

// Pins: checker/bulk.rs `check_bulk` (its B3 `expected outcome` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn b3_misordered_results_past_100_items_are_caught() {
    // A server that answers the chunks of 100 in the wrong order.
    let r = run_bulk(|state, items| {
        let mut out = state.lock().bulk_create(items);
        if out.len() > 100 {
            out.rotate_left(100);
        }
        results(out)
    });
    assert_only_or(
        &r,
        &[clause("B3")],
        &[clause("S2")],
        "S2 may fail too: the misordered answer gave an identity another lead's \
         id, and if the run sends it again, its re-engagement carries its true id",
    );
}

// Pins: checker/bulk.rs `check_bulk` (its B1 `count` failure)
#[test]
fn b1_results_truncated_past_250_items_are_caught() {
    // Items past 250 are neither acted on nor answered.
    let r =
        run_bulk(|state, items| results(state.lock().bulk_create(&items[..items.len().min(250)])));
    assert_only(&r, &[clause("B1")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn partial_store_past_100_items_is_caught() {
    // Every item answered as the model would, but only the first chunk of 100
    // kept: the leads created by items 101+ are lost.
    let r = run_bulk(|state, items| {
        let mut model = state.lock();
        let out = model.bulk_create(items);
        for result in out.iter().skip(100) {
            if result["action"] == "created"
                && let Some(id) = result["id"].as_i64()
            {
                model.remove(id);
            }
        }
        results(out)
    });
    assert_only(
        &r,
        &[clause("B3"), clause("S2")],
        "B3: the id of a created result reads back 404; S2: the list count grows by \
         fewer leads than were answered created",
    );
}

// Pins: checker/bulk.rs `check_bulk` (its B3 `expected outcome` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn b3_reversed_results_past_500_items_are_caught() {
    // Correct up to 500 items; a larger batch gets its results in reverse.
    let r = run_bulk(|state, items| {
        let mut out = state.lock().bulk_create(items);
        if out.len() > 500 {
            out.reverse();
        }
        results(out)
    });
    assert_only_or(
        &r,
        &[clause("B3")],
        &[clause("S2")],
        "S2 may fail too: a misplaced result gave an identity another lead's id",
    );
}

// Pins: checker/bulk.rs `check_bulk` (its B3 `expected outcome` failure)
#[test]
fn b3_items_past_50_answered_error_are_caught() {
    // A batch is never refused, but only its first 50 items are acted on: the
    // rest are answered `error` ("too many leads"), valid ones included.
    let r = run_bulk(|state, items| {
        let cut = items.len().min(50);
        let mut out = state.lock().bulk_create(&items[..cut]);
        out.extend(items[cut..].iter().map(
            |_| json!({"id": null, "action": "error", "error": "At most 50 leads per request."}),
        ));
        results(out)
    });
    assert_only(&r, &[clause("B3")], "");
}
