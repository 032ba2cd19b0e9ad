//! S5: requests in flight together are explained by some one-at-a-time
//! order. Each fault server below has a race window between a read and a
//! write, as real servers do; the window is forced open, not hoped for: a
//! request of a group (the harness's `x-sela-group: GROUP/N` header) takes its
//! snapshot, then waits at a gate until all N requests of its group have
//! taken theirs, then writes. Harmless servers (one request at a time,
//! answers coming back out of order) must pass.
//!
//! A race between a racy request and an atomic one (a PUT that saves the
//! lead as it read it against a PATCH; a list page against a create) is
//! lost only when the racy one writes or counts last: that request waits,
//! after the gate, until the group's other requests are served
//! ([`after_the_others`]), so the race is forced too.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use sela_sandbox::SandboxState;
use serde_json::{Value, json};

use crate::common::{
    assert_only_or, assert_passes, clause, is_bulk, leads_of, run_with, sandbox_answer,
};
use crate::kit::{is_list, is_single_create, patch_id, stored, with_body};
use crate::server::{Req, Resp};

/// Holds each request of a group until every request of it has arrived (a
/// safety limit of 20 s only keeps a broken harness from hanging the test:
/// the fault then does not show and the test fails).
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<HashMap<String, usize>>, Condvar)>);

impl Gate {
    fn wait(&self, req: &Req) {
        let Some((group, n)) = req
            .header("x-sela-group")
            .and_then(|h| h.split_once('/'))
            .and_then(|(g, n)| Some((g.to_owned(), n.parse::<usize>().ok()?)))
        else {
            return;
        };
        let (lock, cv) = &*self.0;
        let mut arrived = lock.lock().unwrap();
        *arrived.entry(group.clone()).or_default() += 1;
        cv.notify_all();
        let _ = cv
            .wait_timeout_while(arrived, Duration::from_secs(20), |a| a[&group] < n)
            .unwrap();
    }
}

/// The identity of a re-send (single create or a one-item bulk), if `req`
/// is one.
fn resent(req: &Req) -> Option<Value> {
    if is_single_create(req) {
        return req.json();
    }
    if is_bulk(req) {
        let leads = leads_of(req)?;
        return (leads.len() == 1).then(|| leads[0].clone());
    }
    None
}

/// How a racy server holds a request of a group between its read and its
/// write: the tests' [`Gate`], or a bench's fixed window.
pub trait Hold: Send + Sync + 'static {
    fn hold(&self, req: &Req);
}

impl Hold for Gate {
    fn hold(&self, req: &Req) {
        self.wait(req);
    }
}

/// A race: answers the requests it races on (`None`: the sandbox's answer,
/// after the hold).
pub type Racy = fn(&SandboxState, &Req, &dyn Hold) -> Option<Resp>;

/// A run of the harness with `config` against the sandbox with `racy`.
pub fn run_racy_with(
    config: &sela_contract::Config,
    racy: Racy,
    hold: impl Hold,
) -> sela_contract::Report {
    let server = crate::common::serve(
        crate::common::state(),
        crate::server::Transport::default(),
        move |state, req| {
            if let Some(resp) = racy(state, req, &hold) {
                return resp;
            }
            hold.hold(req);
            sandbox_answer(state, req).into()
        },
    );
    crate::common::run_on(&server, config).expect("the harness runs")
}

fn run_racy(racy: Racy) -> sela_contract::Report {
    let report = run_racy_with(&crate::common::config(8), racy, Gate::default());
    crate::common::assert_no_leak(&report);
    report
}

/// Django's save() without update_fields: the lead as loaded, with the sent
/// fields changed, is written back whole.
pub fn lost_patch(state: &SandboxState, req: &Req, hold: &dyn Hold) -> Option<Resp> {
    let id = patch_id(req)?;
    let before = state.lock().get(id)?;
    hold.hold(req);
    let answer = sandbox_answer(state, req);
    if answer.status != 200 {
        return Some(answer.into());
    }
    let mut whole = before;
    for (k, v) in req.json()?.as_object()? {
        whole[k] = v.clone();
    }
    state.lock().replace(id, whole.clone());
    Some(Resp::json(200, &whole))
}

/// count = count + 1 on the value read before the hold.
pub fn lost_increment(state: &SandboxState, req: &Req, hold: &dyn Hold) -> Option<Resp> {
    let item = resent(req)?;
    let (id, before) = stored(state, &item)?;
    hold.hold(req);
    let answer = sandbox_answer(state, req);
    let mut now = state.lock().get(id)?;
    let count = before["reengagement_count"].as_i64().unwrap_or(0) + 1;
    now["reengagement_count"] = json!(count);
    if now.get("reengagements_count").is_some() {
        now["reengagements_count"] = json!(count);
    }
    state.lock().replace(id, now);
    Some(answer.into())
}

/// Re-engagements' write-backs not applied yet (see [`flag_undone`]): the
/// address of their server's state, the lead's id, the lead as read.
static WRITE_BACKS: Mutex<Vec<(usize, i64, Value)>> = Mutex::new(Vec::new());

/// The re-engagement writes back the lead as it read it when it arrived,
/// counter and time updated, as a queued job that runs once the request is
/// answered (here: before the server's next request): a do-not-contact flag
/// set in between is lost. Deterministic: a flag set by a request of the
/// same group is always set before the write-back. The counter is the
/// stored one at the write, so re-engagements never undo each other's
/// increments (that would be R1's fault, not this one).
pub fn flag_undone(state: &SandboxState, req: &Req, hold: &dyn Hold) -> Option<Resp> {
    let server = std::ptr::from_ref(state) as usize;
    write_back(state, server);
    let item = resent(req)?;
    let (id, before) = stored(state, &item)?;
    hold.hold(req);
    let answer = sandbox_answer(state, req);
    WRITE_BACKS.lock().unwrap().push((server, id, before));
    Some(answer.into())
}

/// Runs [`flag_undone`]'s queued write-backs of this server: each lead still
/// with the identity it was read with is saved as read, its counter, times
/// and modification time as stored now.
fn write_back(state: &SandboxState, server: usize) {
    let mine: Vec<(i64, Value)> = {
        let mut queued = WRITE_BACKS.lock().unwrap();
        let (mine, others) = queued.drain(..).partition(|(s, _, _)| *s == server);
        *queued = others;
        mine.into_iter().map(|(_, id, lead)| (id, lead)).collect()
    };
    let mut model = state.lock();
    for (id, before) in mine {
        let Some(now) = model.get(id) else { continue };
        if now.get("phone_number") != before.get("phone_number")
            || now.get("email") != before.get("email")
        {
            continue;
        }
        let mut saved = before;
        for k in [
            "reengagement_count",
            "reengagements_count",
            "reengagement_time",
            "last_reengagement_time",
            "modified_time",
        ] {
            if let Some(v) = now.get(k) {
                saved[k] = v.clone();
            }
        }
        model.replace(id, saved);
    }
}

/// Looks the identity up, then inserts without a lock or a unique
/// constraint (only for requests of a group: alone it is the sandbox).
pub fn create_race(state: &SandboxState, req: &Req, hold: &dyn Hold) -> Option<Resp> {
    if !is_single_create(req) {
        return None;
    }
    let item = req.json()?;
    let known = stored(state, &item).is_some();
    hold.hold(req);
    if known || req.header("x-sela-group").is_none() {
        return Some(sandbox_answer(state, req).into());
    }
    let id = state.lock().insert_unchecked(&item).ok()?;
    let lead = state.lock().get(id)?;
    Some(Resp::json(201, &lead))
}

/// A middleware stores the request's token in a module variable; the
/// handler reads it after the hold, when another request may have set it.
pub fn global_account(state: &SandboxState, req: &Req, hold: &dyn Hold) -> Option<Resp> {
    static CURRENT: Mutex<Option<String>> = Mutex::new(None);
    req.header("x-sela-group")?;
    *CURRENT.lock().unwrap() = req.header("authorization").map(str::to_owned);
    hold.hold(req);
    let token = CURRENT.lock().unwrap().clone();
    let mut as_global = req.clone();
    as_global.headers.retain(|(k, _)| k != "authorization");
    if let Some(t) = token {
        as_global.headers.push(("authorization".into(), t));
    }
    Some(sandbox_answer(state, &as_global).into())
}

/// Requests of each group (by its `x-sela-group` id, unique in the process)
/// served so far, for [`after_the_others`].
static SERVED: (Mutex<BTreeMap<String, usize>>, Condvar) =
    (Mutex::new(BTreeMap::new()), Condvar::new());

/// The group id and size of a request of a group.
fn group_of(req: &Req) -> Option<(String, usize)> {
    let (g, n) = req.header("x-sela-group")?.split_once('/')?;
    Some((g.to_owned(), n.parse().ok()?))
}

/// One more request of `req`'s group is served (or waits in
/// [`after_the_others`]).
fn served(req: &Req) {
    if let Some((group, _)) = group_of(req) {
        let (lock, cv) = &SERVED;
        *lock.lock().unwrap().entry(group).or_default() += 1;
        cv.notify_all();
    }
}

/// Waits until every request of `req`'s group is served or waiting here (a
/// safety limit of 20 s, as the gate's).
fn after_the_others(req: &Req) {
    let Some((group, n)) = group_of(req) else {
        return;
    };
    served(req);
    let (lock, cv) = &SERVED;
    let done = lock.lock().unwrap();
    let _ = cv
        .wait_timeout_while(done, Duration::from_secs(20), |d| d[&group] < n)
        .unwrap();
}

/// A request of a group that a race does not change: held, then the
/// sandbox's answer, then counted as served.
fn plain(state: &SandboxState, req: &Req, hold: &dyn Hold) -> Option<Resp> {
    req.header("x-sela-group")?;
    hold.hold(req);
    let answer = sandbox_answer(state, req);
    served(req);
    Some(answer.into())
}

/// A PUT by match that loads the lead, waits, and saves it whole as it read
/// it with the PUT's fields: a do-not-contact flag set by a PATCH in
/// between is lost (its write lands after the group's other requests).
pub fn put_as_read(state: &SandboxState, req: &Req, hold: &dyn Hold) -> Option<Resp> {
    if req.method != "PUT" {
        return plain(state, req, hold);
    }
    let body = req.json()?;
    let (id, before) = stored(state, &body)?;
    hold.hold(req);
    after_the_others(req);
    let answer = sandbox_answer(state, req);
    if answer.status != 200 {
        return Some(answer.into());
    }
    let mut whole = before;
    for (k, v) in body.as_object()? {
        whole[k] = v.clone();
    }
    state.lock().replace(id, whole.clone());
    Some(Resp::json(200, &whole))
}

/// A list page whose results come from a snapshot taken before it waits,
/// and whose `count` is taken after the group's other requests (a create)
/// are served: results and count of two different moments (only for
/// requests of a group: alone it is the sandbox).
pub fn torn_list(state: &SandboxState, req: &Req, hold: &dyn Hold) -> Option<Resp> {
    if !is_list(req) {
        return plain(state, req, hold);
    }
    req.header("x-sela-group")?;
    let mut snapshot = sandbox_answer(state, req);
    hold.hold(req);
    after_the_others(req);
    let now = sandbox_answer(state, req);
    if snapshot.status == 200 && now.status == 200 {
        snapshot.body["count"] = now.body["count"].clone();
    }
    Some(snapshot.into())
}

// Pins: sequences/groups.rs `run_group` with linear.rs `explain` (two
// PATCHes of different fields must both take effect).
#[test]
fn s5_a_patch_that_saves_the_whole_lead_is_caught() {
    assert_only_or(
        &run_racy(lost_patch),
        &[clause("S5")],
        &[clause("U1"), clause("G1"), clause("R2")],
        "a concurrent PATCH of another field is undone",
    );
}

// Pins: linear.rs `explain` (n re-engagements add n).
#[test]
fn s5_a_re_engagement_counted_in_application_code_is_caught() {
    assert_only_or(
        &run_racy(lost_increment),
        &[clause("S5")],
        &[clause("R1"), clause("G1")],
        "two concurrent re-engagements count once",
    );
}

// Pins: linear.rs `explain` (a flag set while the lead is re-engaged stays).
#[test]
fn s5_a_re_engagement_that_saves_the_lead_as_read_is_caught() {
    assert_only_or(
        &run_racy(flag_undone),
        &[clause("S5")],
        &[clause("R2"), clause("R1"), clause("U1"), clause("G1")],
        "a do-not-contact flag set during a re-engagement is undone",
    );
}

// Pins: linear.rs `explain` (concurrent creates of one identity create once).
#[test]
fn s5_a_single_create_without_a_unique_constraint_is_caught() {
    assert_only_or(
        &run_racy(create_race),
        &[clause("S5")],
        &[clause("S2"), clause("C1"), clause("L1")],
        "two creates of one identity in flight together both create",
    );
}

// Pins: groups.rs's read of the other account's lead (its create acted in
// this account), and linear.rs `explain` (this account's answers).
#[test]
fn s5_the_account_kept_in_a_global_is_caught() {
    assert_only_or(
        &run_racy(global_account),
        &[clause("S5")],
        &[clause("A3"), clause("G1"), clause("U1"), clause("S2")],
        "a request of one account acts in the other",
    );
}

// Pins: group_requests.rs's PUT in a group (canonical [Put, Dnc] in
// groups.rs) with ops.rs `step` for `Op::Put` (a flag it was not sent is
// kept), and groups.rs's question to the target (`put_keeps_flags`).
#[test]
fn s5_a_put_that_saves_the_lead_as_read_is_caught() {
    let report = run_racy(put_as_read);
    assert_only_or(
        &report,
        &[clause("S5")],
        &[clause("U2"), clause("G1"), clause("R2"), clause("U1")],
        "a do-not-contact flag set alongside a PUT is undone by it",
    );
    let s5 = format!("{report}");
    assert!(s5.contains("PUT by phone and e-mail"), "{report}");
}

// Pins: group_requests.rs's list page in a group (canonical [CreateFresh,
// List, OtherList] in groups.rs), group_reads.rs `list_before`, and ops.rs
// `listed_now` (count and results of one point of the order).
#[test]
fn s5_a_list_page_counted_after_a_create_it_does_not_show_is_caught() {
    let report = run_racy(torn_list);
    assert_only_or(
        &report,
        &[clause("S5")],
        &[clause("L1"), clause("S2")],
        "a list page's count includes a create its results do not show",
    );
    assert!(
        format!("{report}").contains("the list, one page"),
        "{report}"
    );
}

#[test]
fn atomic_puts_and_list_pages_held_together_pass() {
    // Every request of a group held at the gate until all have arrived, then
    // answered by the sandbox, one request at a time each: PUTs and list
    // pages overlap the group's other requests and are linear.
    fn atomic(state: &SandboxState, req: &Req, hold: &dyn Hold) -> Option<Resp> {
        plain(state, req, hold)
    }
    let report = run_racy(atomic);
    assert_passes(&report);
    assert!(report.clause(clause("S5")).held(), "{report}");
}

// Pins: groups.rs's question to the target when only a PUT that resets
// flags explains a group (group_reads.rs `put_keeps_flags`), and ops.rs
// following `put_resets` after it.
#[test]
fn a_put_that_resets_the_flags_it_is_not_sent_passes() {
    // PUT as a full replacement: the do-not-contact flags it does not send
    // go back to false, in one step under the store's lock (held at the
    // gate first). The contract leaves it to the target (U2): S5 learns it
    // by a PUT alone and follows it, and holds.
    fn replacing(state: &SandboxState, req: &Req, hold: &dyn Hold) -> Option<Resp> {
        if req.method != "PUT" || !crate::common::authorised(req) {
            return None;
        }
        let body = req.json()?;
        hold.hold(req);
        let mut model = state.lock();
        let Ok(mut lead) = model.put_by_match(&body) else {
            drop(model);
            return Some(sandbox_answer(state, req).into());
        };
        for flag in ["call_dnc", "sms_dnc"] {
            if body.get(flag).is_none() {
                lead[flag] = json!(false);
            }
        }
        model.replace(lead["id"].as_i64()?, lead.clone());
        Some(Resp::json(200, &lead))
    }
    let report = run_racy(replacing);
    assert_passes(&report);
    assert!(report.clause(clause("S5")).held(), "{report}");
}

/// The same body as sent, for servers that only reorder.
fn same(req: &Req) -> Req {
    with_body(req, &req.json().unwrap_or(Value::Null))
}

#[test]
fn one_request_at_a_time_passes() {
    let one: Arc<Mutex<()>> = Arc::default();
    let report = run_with(8, move |state, req| {
        let _only = one.lock().unwrap();
        sandbox_answer(state, req).into()
    });
    assert_passes(&report);
    // Its requests were all in flight together, served one by one: linear.
    assert!(report.clause(clause("S5")).held(), "{report}");
}

#[test]
fn answers_coming_back_out_of_order_pass() {
    // Each request of a group is handled at once, and answered after a delay
    // that depends on its place in the group's arrival: the last to arrive
    // is answered first.
    let gate = Gate::default();
    let arrivals: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let report = run_with(8, move |state, req| {
        let answer = sandbox_answer(state, &same(req));
        if let Some(group) = req.header("x-sela-group") {
            let place = {
                let mut a = arrivals.lock().unwrap();
                let n = a.entry(group.to_owned()).or_default();
                *n += 1;
                *n
            };
            gate.wait(req);
            std::thread::sleep(Duration::from_millis(30 / place));
        }
        answer.into()
    });
    assert_passes(&report);
    assert!(report.clause(clause("S5")).held(), "{report}");
}
