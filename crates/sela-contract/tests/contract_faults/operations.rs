//! C1, U1-U3, G1: servers whose single create, PATCH, PUT, identity index or
//! read cache break one promise, the way real ones do, fail that clause alone.

use std::collections::HashMap;
use std::sync::Mutex;

use sela_contract::Report;
use sela_sandbox::{Identity, Reply, SandboxState, identity};
use serde_json::{Value, json};

use crate::common::{
    assert_only, assert_only_unchecked, authorised, clause, is_bulk, leads_of, results, run_with,
    sandbox_answer,
};
use crate::kit::{all_leads, is_single_create, patch_id, with_body};
use crate::server::{Req, Resp};

/// The sandbox, except the requests `pick` takes, answered by it.
fn run_taking(
    pick: impl Fn(&SandboxState, &Req) -> Option<Resp> + Send + Sync + 'static,
) -> Report {
    run_with(8, move |state, req| {
        if authorised(req)
            && let Some(resp) = pick(state, req)
        {
            return resp;
        }
        sandbox_answer(state, req).into()
    })
}

// Pins: checker/operations/scenario.rs `resend_single` (its C1 `known
// identity` failure); the other checks that catch this fault are off for it
// (pins.rs)
#[test]
fn c1_single_create_without_deduplication_is_caught() {
    // POST /api/leads/ inserts whatever it is sent: a known identity twice.
    let r = run_taking(|state, req| {
        let body = req.json().filter(|_| is_single_create(req))?;
        let id = state.lock().insert_unchecked(&body).ok()?;
        Some(Resp::json(201, &state.lock().get(id)?))
    });
    // Loosening right: U3's re-sends count on single creates deduplicating
    // (C1 held), so here U3 is not checked, never held.
    assert_only_unchecked(
        &r,
        &[clause("C1")],
        &[],
        &[clause("U3")],
        "only single creates of known identities create",
    );
}

// Pins: checker/operations/scenario.rs `create_invalid` (its C1 `invalid
// item` failure)
#[test]
fn c1_single_create_accepting_invalid_items_is_caught() {
    // An invalid item answered 201 with a made-up lead (nothing stored).
    let r = run_taking(|_, req| {
        let body = req.json().filter(|_| is_single_create(req))?;
        let phone = body["phone_number"].as_str()?;
        phone.chars().any(|c| c.is_ascii_alphabetic()).then(|| {
            Resp::json(
                201,
                &json!({"id": 9_999_999, "phone_number": phone, "email": body["email"]}),
            )
        })
    });
    assert_only(
        &r,
        &[clause("C1")],
        "only an invalid single create is accepted",
    );
}

// Pins: checker/operations/updates.rs `patch_partial` (its U1 `partial`
// failure)
#[test]
fn u1_patch_forgetting_metadata_is_caught() {
    // save() that forgets a JSON field: metadata sent by PATCH is answered
    // as saved but never stored.
    let r = run_taking(|state, req| {
        patch_id(req)?;
        let mut body = req.json()?;
        let sent = body.as_object_mut()?.remove("metadata")?;
        let mut reply = sandbox_answer(state, &with_body(req, &body));
        reply.body["metadata"] = sent;
        Some(reply.into())
    });
    assert_only(&r, &[clause("U1")], "only metadata sent by PATCH is lost");
}

// Pins: checker/operations/updates.rs `patch_partial` (its U1 `partial`
// failure); the other checks that catch this fault are off for it (pins.rs)
#[test]
fn u1_patch_clearing_fields_not_sent_is_caught() {
    // PATCH handled as a full update: metadata not sent is reset to `{}`.
    let r = run_taking(|state, req| {
        patch_id(req)?;
        let mut body = req.json()?;
        let obj = body.as_object_mut()?;
        if obj.contains_key("metadata") {
            return None;
        }
        obj.insert("metadata".into(), json!({}));
        Some(sandbox_answer(state, &with_body(req, &body)).into())
    });
    assert_only(
        &r,
        &[clause("U1")],
        "only fields a PATCH did not send change",
    );
}

// Pins: checker/operations/updates.rs `patch_refused` (its U1 `unknown id`
// failure)
#[test]
fn u1_patch_of_an_unknown_id_answered_200_is_caught() {
    let r = run_taking(|state, req| {
        let id = patch_id(req)?;
        (!state.lock().contains(id)).then(|| Resp::json(200, &json!({"id": id})))
    });
    assert_only(
        &r,
        &[clause("U1"), clause("A3")],
        "A3: the other account's lead is an unknown id to this account, and A3 asks \
         for 404 or 403 to its PATCH too",
    );
}

// Pins: checker/operations/updates.rs `put_match` (its U2 `match` failure)
#[test]
fn u2_put_matching_the_phone_number_only_is_caught() {
    // PUT finds the lead by phone number alone and updates the newest one
    // with it: a household neighbour sharing the line.
    let r = run_taking(|state, req| {
        if req.method != "PUT" {
            return None;
        }
        let body = req.json()?;
        let phone = identity(&body)?.phone;
        let target = all_leads(state)
            .into_iter()
            .filter(|l| l["phone_number"] == json!(phone))
            .filter_map(|l| l["id"].as_i64())
            .max()?;
        let mut update = body.clone();
        update.as_object_mut()?.remove("phone_number");
        update.as_object_mut()?.remove("email");
        let lead = state.lock().patch(target, &update).ok()?;
        Some(Resp::json(200, &lead))
    });
    assert_only(&r, &[clause("U2")], "only PUT's match ignores the e-mail");
}

// Pins: checker/operations/updates.rs `put_match` (its U2 `neighbour`
// failure); the other checks that catch this fault are off for it (pins.rs)
#[test]
fn u2_put_updating_every_lead_with_the_phone_number_is_caught() {
    // PUT updates every lead with the phone number, whatever the e-mail: the
    // household neighbour, and lead A again when a PUT's e-mail matches no
    // lead (answered 200). Only U2 fails: the walk goes on from A as it is.
    let r = run_taking(|state, req| {
        if req.method != "PUT" {
            return None;
        }
        let body = req.json()?;
        let phone = identity(&body)?.phone;
        let targets: Vec<i64> = all_leads(state)
            .into_iter()
            .filter(|l| l["phone_number"] == json!(phone))
            .filter_map(|l| l["id"].as_i64())
            .collect();
        let mut update = body.clone();
        update.as_object_mut()?.remove("phone_number");
        update.as_object_mut()?.remove("email");
        let mut last = None;
        for id in targets {
            last = state.lock().patch(id, &update).ok();
        }
        Some(Resp::json(200, &last?))
    });
    assert_only(&r, &[clause("U2")], "only PUT's match ignores the e-mail");
}

// Pins: checker/operations/updates.rs `put_match` (its U2 `no match`
// failure); the other checks that catch this fault are off for it (pins.rs)
#[test]
fn u2_put_creating_a_lead_when_nothing_matches_is_caught() {
    // An upsert: a PUT that matches nothing creates the lead.
    let r = run_taking(|state, req| {
        if req.method != "PUT" {
            return None;
        }
        let body = req.json()?;
        if state.lock().find(&identity(&body)?).is_some() {
            return None;
        }
        let (lead, _) = state.lock().create(&body).ok()?;
        Some(Resp::json(201, &lead))
    });
    assert_only(
        &r,
        &[clause("U2")],
        "only a PUT that matches nothing stores a lead",
    );
}

// Pins: checker/operations/updates.rs `move_identity` (its U3 `new identity`
// failure); the other checks that catch this fault are off for it (pins.rs)
#[test]
fn u3_identity_index_not_rebuilt_after_an_update_is_caught() {
    // The dedup index keeps the identity a lead was created with: after a
    // PATCH of its phone or e-mail, the old identity still finds it and the
    // new one does not.
    let moved: Mutex<HashMap<Identity, (i64, Identity)>> = Mutex::default();
    let r = run_with(8, move |state, req| {
        if let Some(id) = patch_id(req)
            && authorised(req)
        {
            let before = state.lock().get(id).and_then(|l| identity(&l));
            let reply = sandbox_answer(state, req);
            let after = state.lock().get(id).and_then(|l| identity(&l));
            if let (Some(old), Some(new)) = (before, after)
                && old != new
            {
                let mut m = moved.lock().unwrap();
                let first = m.remove(&old).map_or(old, |(_, first)| first);
                m.insert(first, (id, new));
            }
            return reply.into();
        }
        if is_single_create(req)
            && authorised(req)
            && let Some(body) = req.json()
            && let Some(who) = identity(&body)
        {
            let m = moved.lock().unwrap().clone();
            if let Some((id, _)) = m.get(&who) {
                let lead = state.lock().get(*id);
                return Resp::json(200, &lead.unwrap_or_default());
            }
            if m.values().any(|(_, new)| *new == who) {
                let mut model = state.lock();
                if let Ok(id) = model.insert_unchecked(&body) {
                    return Resp::json(201, &model.get(id).unwrap_or_default());
                }
            }
        }
        if is_bulk(req)
            && authorised(req)
            && let Some(items) = leads_of(req)
        {
            let m = moved.lock().unwrap().clone();
            let stale_old: HashMap<&Identity, i64> =
                m.iter().map(|(old, (id, _))| (old, *id)).collect();
            let fresh_new: Vec<&Identity> = m.values().map(|(_, new)| new).collect();
            let mut model = state.lock();
            let out: Vec<Value> = items
                .iter()
                .map(|item| {
                    let who = identity(item);
                    if let Some(id) = who.as_ref().and_then(|w| stale_old.get(w)) {
                        return json!({"id": id, "action": "reengaged"});
                    }
                    if who.as_ref().is_some_and(|w| fresh_new.contains(&w)) {
                        return match model.insert_unchecked(item) {
                            Ok(id) => json!({"id": id, "action": "created"}),
                            Err(e) => json!({"id": null, "action": "error", "error": e}),
                        };
                    }
                    model.bulk_create(std::slice::from_ref(item)).remove(0)
                })
                .collect();
            let reply: Reply = results(out);
            return reply.into();
        }
        sandbox_answer(state, req).into()
    });
    assert_only(
        &r,
        &[clause("U3")],
        "only identities moved by PATCH are looked up wrongly",
    );
}

// Pins: every G1 `fresh` check (the stale-read arm of each read after a
// write); the other checks that catch this fault are off for it (pins.rs)
#[test]
fn g1_a_read_cache_never_invalidated_is_caught() {
    // GET /api/leads/{id}/ answers from a cache filled on the first read and
    // never invalidated; the list reads the database.
    let cache: Mutex<HashMap<(String, i64), Resp>> = Mutex::default();
    let r = run_with(8, move |state, req| {
        crate::kit::cached_read(&cache, state, req)
            .unwrap_or_else(|| sandbox_answer(state, req).into())
    });
    // R2 and U1 are judged by a read after the write, which the cache
    // answers stale (G1): no read shows the write kept or lost, so they are
    // not held (they were, before verdicts waited for the read).
    // S5's groups read the state after by GET too: once G1 has failed they
    // are not judged, so S5 holds only if a group ran in flight together
    // before that (timing): held or not checked, never failed.
    assert_only_unchecked(
        &r,
        &[clause("G1")],
        &[clause("S5")],
        &[clause("R2"), clause("U1"), clause("U2")],
        "only reads by id are stale; the reads after writes are all stale",
    );
    assert!(!r.failed().contains(&clause("S5")), "{r}");
}
