//! B1-B4: one result per item, its shape, its correspondence with its item
//! (order, verdicts, every field read back) and independence from neighbours.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value, json};

use sela_contract::Config;
use sela_sandbox::SandboxState;
use sela_sandbox::model::validate_item;

use crate::common::{
    TOKEN, assert_only, assert_only_or, assert_only_unchecked, authorised, clause, config, is_bulk,
    lead_id, leads_of, results, results_mut, run_bulk, run_fault, run_fault_one_in_three,
    run_rewriting, run_with, sandbox_answer, try_run,
};
use crate::server::{Req, Resp};

// Pins: checker/bulk.rs `check_bulk` (its B1 `count` failure)
#[test]
fn b1_dropped_result_is_caught() {
    let r = run_fault_one_in_three(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            results.pop();
        }
        reply
    });
    assert_only(&r, &[clause("B1")], "");
}

// Pins: checker/bulk.rs `check_bulk` (its B1 `count` failure)
#[test]
fn b1_extra_result_is_caught() {
    let r = run_fault_one_in_three(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply)
            && !results.is_empty()
        {
            results.push(json!({"id": null, "action": "error", "error": "spurious"}));
        }
        reply
    });
    assert_only(&r, &[clause("B1")], "");
}

// Pins: checker/bulk.rs `check_bulk` (its B2 `shape` failure)
#[test]
fn b2_error_with_an_id_is_caught() {
    let r = run_rewriting("error", |res| res["id"] = json!(4242));
    assert_only(&r, &[clause("B2")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn b3_reversed_results_are_caught() {
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            results.reverse();
        }
        reply
    });
    assert_only(
        &r,
        &[clause("B3"), clause("B4"), clause("S2"), clause("S3")],
        "every clause read from the results sees another item's result: B4: among \
         invalid items, valid items get `error`, which they do not get alone; S2: \
         a duplicate later in a batch gets the first item's `created`; S3: an \
         identity first sent in an item answered `error`, sent again validly, gets \
         a neighbour's `error`",
    );
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_swapped_ids_of_two_valid_items_are_caught() {
    // Count and actions stay right; only read-back shows the swap.
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            let created: Vec<usize> = (0..results.len())
                .filter(|i| results[*i]["action"] == "created")
                .collect();
            if let [a, b, ..] = created[..] {
                let id_a = results[a]["id"].clone();
                results[a]["id"] = results[b]["id"].clone();
                results[b]["id"] = id_a;
            }
        }
        reply
    });
    assert_only(
        &r,
        &[clause("B3"), clause("S2")],
        "S2: a later re-engagement carries the lead's true id, not the swapped id \
         it was created under",
    );
}

/// Lead ids with the fields stored under them instead of the ones sent.
type Stored = Vec<(i64, Map<String, Value>)>;

/// A server that answers every bulk create correctly but has stored, for the
/// leads it created, the fields `alter` gives instead of the ones sent: the
/// results look perfect, only reading a lead back shows it. `alter` gets the
/// created items of one request with their ids.
fn run_stored_altered(
    alter: impl Fn(&[(Value, i64)]) -> Stored + Send + Sync + 'static,
) -> sela_contract::Report {
    run_stored_altered_when(config(8), |_| true, alter)
}

/// As [`run_stored_altered`], with `config`, and only in requests whose items
/// (all of them, as sent) pass `when`.
fn run_stored_altered_when(
    config: Config,
    when: impl Fn(&[Value]) -> bool + Send + Sync + 'static,
    alter: impl Fn(&[(Value, i64)]) -> Stored + Send + Sync + 'static,
) -> sela_contract::Report {
    let stored: Mutex<HashMap<i64, Map<String, Value>>> = Mutex::default();
    let responder = move |state: &SandboxState, req: &Req| -> Resp {
        let mut reply = sandbox_answer(state, req);
        if is_bulk(req)
            && reply.status == 200
            && let Some(items) = leads_of(req)
            && when(&items)
            && let Some(results) = reply.body["results"].as_array()
        {
            let created: Vec<(Value, i64)> = items
                .iter()
                .zip(results)
                .filter(|(_, r)| r["action"] == "created")
                .filter_map(|(item, r)| Some((item.clone(), r["id"].as_i64()?)))
                .collect();
            stored.lock().unwrap().extend(alter(&created));
        }
        if req.method == "GET" && reply.status == 200 {
            let stored = stored.lock().unwrap();
            let overlay = |lead: &mut Value| {
                if let Some(fields) = lead["id"].as_i64().and_then(|id| stored.get(&id))
                    && let Some(lead) = lead.as_object_mut()
                {
                    lead.extend(fields.clone());
                }
            };
            if lead_id(req).is_some() {
                overlay(&mut reply.body);
            } else if let Some(leads) = reply.body.get_mut("results").and_then(Value::as_array_mut)
            {
                leads.iter_mut().for_each(overlay);
            }
        }
        reply.into()
    };
    let report = try_run(&config, crate::common::state(), responder).expect("the harness runs");
    assert!(!report.to_string().contains(TOKEN), "the token leaked");
    report
}

/// Each created lead stored with the next created lead's `field` (in the same
/// request), where the two differ.
fn neighbours(field: &'static str) -> impl Fn(&[(Value, i64)]) -> Stored {
    move |created| {
        let n = created.len();
        (0..n)
            .filter_map(|k| {
                let (item, id) = &created[k];
                let next = created[(k + 1) % n].0.get(field)?;
                (n >= 2 && item.get(field) != Some(next))
                    .then(|| (*id, Map::from_iter([(field.to_owned(), next.clone())])))
            })
            .collect()
    }
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_neighbours_external_id_stored_is_caught() {
    let r = run_stored_altered(neighbours("external_id"));
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_neighbours_metadata_stored_is_caught() {
    let r = run_stored_altered(neighbours("metadata"));
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_metadata_numbers_stored_as_strings_are_caught() {
    let r = run_stored_altered(|created| {
        created
            .iter()
            .filter_map(|(item, id)| {
                let mut meta = item.get("metadata")?.as_object()?.clone();
                let mut changed = false;
                for value in meta.values_mut() {
                    if value.is_number() {
                        *value = Value::String(value.to_string());
                        changed = true;
                    }
                }
                changed.then(|| {
                    (
                        *id,
                        Map::from_iter([("metadata".to_owned(), Value::Object(meta))]),
                    )
                })
            })
            .collect()
    });
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_neighbours_external_id_only_in_all_valid_batches_is_caught() {
    // Read-back must happen in every kind of case, not only in mixed batches:
    // this server only goes wrong in requests whose items, as sent, are all
    // valid (as the valid items sent alone for B4, or the re-sends after
    // refusals); a request with any invalid or non-object item is stored
    // faithfully.
    let r = run_stored_altered_when(
        config(8),
        |items| items.len() >= 2 && items.iter().all(|i| validate_item(i).is_ok()),
        neighbours("external_id"),
    );
    assert_only(&r, &[clause("B3")], "");
}

/// The harness configured with a lead type and a representative that exist
/// on the sandbox, so that valid leads carry them.
fn with_type_and_representative() -> Config {
    Config {
        lead_type: Some(2),
        representative: Some(7),
        ..config(8)
    }
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_lead_type_not_stored_is_caught() {
    let r = run_stored_altered_when(
        with_type_and_representative(),
        |_| true,
        each_stored(|item| {
            item.get("lead_type")?;
            Some(Map::from_iter([("lead_type".to_owned(), Value::Null)]))
        }),
    );
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_representative_of_a_neighbour_stored_is_caught() {
    // Each lead stored with the representative id plus one, as from an
    // off-by-one lookup.
    let r = run_stored_altered_when(
        with_type_and_representative(),
        |_| true,
        each_stored(|item| {
            let id = item.get("representative")?.as_i64()?;
            Some(Map::from_iter([(
                "representative".to_owned(),
                json!(id + 1),
            )]))
        }),
    );
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/bulk.rs `check_bulk` (its B2 `shape` failure)
#[test]
fn b2_created_with_an_error_message_is_caught() {
    let r = run_rewriting("created", |res| {
        res["error"] = json!("normalised the number")
    });
    assert_only(&r, &[clause("B2")], "");
}

// Pins: checker/bulk.rs `check_bulk` (its B2 `shape` failure)
#[test]
fn b2_unknown_action_is_caught() {
    let r = run_rewriting("reengaged", |res| res["action"] = json!("updated"));
    assert_only(
        &r,
        &[clause("B2"), clause("T3")],
        "T3: the schema's `action` is an enum of created, reengaged and error",
    );
}

/// `+1` and more than ten digits cut to `+1` and the first ten.
fn cut_to_ten(item: &Value) -> Value {
    let mut item = item.clone();
    if let Some(phone) = item.get("phone_number").and_then(Value::as_str)
        && let Some(rest) = phone.trim().strip_prefix('+')
    {
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        if digits.len() > 11 && digits.starts_with('1') {
            item["phone_number"] = json!(format!("+{}", &digits[..11]));
        }
    }
    item
}

// Pins: checker/bulk.rs `check_bulk` (its B3 `expected outcome` failure); the
// other checks that catch this fault are off for it (pins.rs)
#[test]
fn b3_overlong_number_cut_to_ten_is_caught() {
    let r = run_bulk(|state, items| {
        let stored: Vec<Value> = items.iter().map(cut_to_ten).collect();
        results(state.lock().bulk_create(&stored))
    });
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/independence.rs `run_independence` (its B4 `independence`
// failure)
#[test]
fn b4_outcome_changed_by_invalid_neighbours_is_caught() {
    // With an invalid item in the batch, duplicates are refused instead of
    // re-engaged: allowed by S2 on its own, but not independent of neighbours.
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply)
            && results.iter().any(|r| r["action"] == "error")
        {
            for res in results.iter_mut() {
                if res["action"] == "reengaged" {
                    *res = json!({"id": null, "action": "error", "error": "Duplicate lead."});
                }
            }
        }
        reply
    });
    assert_only(&r, &[clause("B4")], "");
}

// Pins: checker/independence.rs `run_independence` (its B4 `independence`
// failure)
#[test]
fn b4_whole_batch_rejected_for_one_bad_item_is_caught() {
    let r = run_with(8, |state, req| {
        let bad = is_bulk(req)
            && authorised(req)
            && leads_of(req).is_some_and(|leads| leads.iter().any(|l| validate_item(l).is_err()));
        if bad {
            // Nothing stored, the whole batch refused for one bad item.
            Resp::json(400, &json!({"leads": ["One or more leads are invalid."]}))
        } else {
            sandbox_answer(state, req).into()
        }
    });
    assert_only(
        &r,
        &[clause("T1"), clause("B4")],
        "T1: a well-formed batch smaller than batches the target accepts is \
         refused with 400, which no size limit explains",
    );
}

/// Each created lead stored with `f` applied to the item sent (its fields
/// replacing the stored ones).
fn each_stored(f: fn(&Value) -> Option<Map<String, Value>>) -> impl Fn(&[(Value, i64)]) -> Stored {
    move |created| {
        created
            .iter()
            .filter_map(|(item, id)| Some((*id, f(item)?)))
            .collect()
    }
}

/// The item's metadata with `f` applied to every value, when that changes it.
fn metadata_mapped(item: &Value, f: fn(&Value) -> Option<Value>) -> Option<Map<String, Value>> {
    let mut meta = item.get("metadata")?.as_object()?.clone();
    let mut changed = false;
    for v in meta.values_mut() {
        if let Some(new) = f(v) {
            *v = new;
            changed = true;
        }
    }
    changed.then(|| Map::from_iter([("metadata".to_owned(), Value::Object(meta))]))
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_us_state_not_stored_is_caught() {
    let r = run_stored_altered(each_stored(|item| {
        item.get("us_state")?;
        Some(Map::from_iter([("us_state".to_owned(), Value::Null)]))
    }));
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_neighbours_lead_source_stored_is_caught() {
    let r = run_stored_altered(neighbours("lead_source"));
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_email_not_stored_is_caught() {
    let r = run_stored_altered(each_stored(|_| {
        Some(Map::from_iter([("email".to_owned(), Value::Null)]))
    }));
    assert_only_or(
        &r,
        &[clause("B3")],
        &[clause("U3")],
        "U3 when a sequence re-sends a moved-away identity: its new lead has no e-mail",
    );
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_nested_metadata_flattened_is_caught() {
    // {"crm": {"stage": ..}} stored as {"crm.stage": ..}.
    let r = run_stored_altered(each_stored(|item| {
        let meta = item.get("metadata")?.as_object()?;
        meta.values().any(Value::is_object).then_some(())?;
        let mut flat = Map::new();
        for (k, v) in meta {
            match v.as_object() {
                Some(inner) => flat.extend(
                    inner
                        .iter()
                        .map(|(ik, iv)| (format!("{k}.{ik}"), iv.clone())),
                ),
                None => {
                    flat.insert(k.clone(), v.clone());
                }
            }
        }
        Some(Map::from_iter([(
            "metadata".to_owned(),
            Value::Object(flat),
        )]))
    }));
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_metadata_booleans_stored_as_strings_are_caught() {
    let r = run_stored_altered(each_stored(|item| {
        metadata_mapped(item, |v| v.as_bool().map(|b| json!(b.to_string())))
    }));
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/readback.rs `read_back` (its B3 `read-back` failure)
#[test]
fn b3_metadata_fractions_rounded_are_caught() {
    let r = run_stored_altered(each_stored(|item| {
        metadata_mapped(item, |v| {
            let f = v.as_f64().filter(|f| f.fract() != 0.0)?;
            Some(json!(f.round() as i64))
        })
    }));
    assert_only(&r, &[clause("B3")], "");
}

// Pins: checker/bulk.rs check_bulk's schema check (T3, schema.rs) and
// shape_problem (B2); S2 fails on every re-engagement's id.
#[test]
fn b2_and_t3_ids_as_strings_are_caught() {
    // `"id": "12"`: the schema says int64 (T3) and B2 says an integer.
    let r = run_fault(|_, _, mut reply| {
        if let Some(results) = results_mut(&mut reply) {
            for res in results.iter_mut() {
                if let Some(id) = res["id"].as_i64() {
                    res["id"] = json!(id.to_string());
                }
            }
        }
        reply
    });
    assert_only_unchecked(
        &r,
        &[clause("T3"), clause("B2"), clause("S2")],
        &[],
        &[clause("S1")],
        "S2: a known identity (the run re-sends every created one in other formats) \
         is answered reengaged with an id that is not an integer; T3: the schema \
         types `id` as int64; S1 is not checked: no result carries an integer id",
    );
}

// Pins: checker/bulk.rs `check_bulk` (its B2 `shape` failure)
#[test]
fn b2_empty_error_message_is_caught() {
    let r = run_rewriting("error", |res| res["error"] = json!(""));
    assert_only(&r, &[clause("B2")], "");
}
