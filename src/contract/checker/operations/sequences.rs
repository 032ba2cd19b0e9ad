//! Stateful sequences (CONTRACT.md "Stateful sequences"): random sequences of
//! operations on the run's own leads, generated and shrunk as a reference
//! state machine (`proptest-state-machine`), each answer checked against a
//! model of what the account must hold after the steps so far. The model
//! asserts only what the clauses assert and follows the target where the
//! contract leaves a choice (re-engaged or refused, 200 or 201, metadata
//! merged or replaced). A failing sequence is shrunk to the shortest that
//! still fails; its evidence lists every step as a `curl` command.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest_state_machine::ReferenceStateMachine;
use serde_json::{Value, json};

use super::reads::Read;
use super::scenario::Walk;
use super::{LEADS_PATH, UPDATE_PATH, counter, lead_path, ok_body, refused};
use crate::contract::checker::Harness;
use crate::contract::checker::case::CaseOutcome;
use crate::contract::checker::stored::same_phone;
use crate::contract::report::Clause;
use crate::contract::strategies::{Category, GenItem, PhoneForm};
use crate::contract::target::Auth;
use crate::rules::identity;

/// One operation of a sequence; `usize` picks one of the leads created so far.
#[derive(Clone, Debug)]
pub enum Step {
    /// Bulk create of this many new identities.
    BulkCreate(usize),
    /// Single create of a new identity.
    SingleCreate,
    /// PATCH of `lead_source` of a lead.
    Patch(usize),
    /// PUT by phone and e-mail of a lead (`lead_source`).
    Put(usize),
    /// GET of a lead.
    Get(usize),
    /// The list walked to find the sequence's leads.
    ListWalk,
    /// A lead's identity re-sent (by bulk when true), in another US format.
    Resend(usize, bool),
    /// `call_dnc` set true (never false).
    SetDnc(usize),
}

/// The reference state: how many leads the sequence has created.
pub struct Machine;

impl ReferenceStateMachine for Machine {
    type State = usize;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<usize> {
        Just(0).boxed()
    }

    fn transitions(state: &usize) -> BoxedStrategy<Step> {
        let n = *state;
        if n == 0 {
            return prop_oneof![
                (1usize..3).prop_map(Step::BulkCreate),
                Just(Step::SingleCreate)
            ]
            .boxed();
        }
        prop_oneof![
            1 => (1usize..3).prop_map(Step::BulkCreate),
            1 => Just(Step::SingleCreate),
            2 => (0..n).prop_map(Step::Patch),
            2 => (0..n).prop_map(Step::Put),
            2 => (0..n).prop_map(Step::Get),
            1 => Just(Step::ListWalk),
            2 => (0..n, any::<bool>()).prop_map(|(i, b)| Step::Resend(i, b)),
            1 => (0..n).prop_map(Step::SetDnc),
        ]
        .boxed()
    }

    fn apply(state: usize, step: &Step) -> usize {
        match step {
            Step::BulkCreate(k) => state + k,
            Step::SingleCreate => state + 1,
            _ => state,
        }
    }

    fn preconditions(state: &usize, step: &Step) -> bool {
        match step {
            Step::Patch(i) | Step::Put(i) | Step::Get(i) | Step::Resend(i, _) | Step::SetDnc(i) => {
                i < state
            }
            _ => true,
        }
    }
}

/// What the model says the account holds for one lead of the sequence.
#[derive(Clone, Debug)]
struct Lead {
    id: i64,
    phone: String,
    email: String,
    lead_source: Option<String>,
    dnc: bool,
    counter: Option<i64>,
}

/// A generated sequence: the reference state, the steps, and the counter of
/// steps run that the shrinker reads.
pub type Sequence = (usize, Vec<Step>, Option<Arc<AtomicUsize>>);

/// The sequences, 1 to 12 steps.
pub fn sequences() -> impl Strategy<Value = Sequence> {
    Machine::sequential_strategy(1..12)
}

impl Harness<'_> {
    /// Property 7: stateful sequences.
    pub(crate) fn run_sequences(&mut self) {
        let cases = (self.config.cases / 4).max(4);
        self.property(&sequences(), cases, |h, seq| h.sequence(seq));
    }

    fn sequence(&mut self, (_, steps, seen): &Sequence) -> CaseOutcome {
        let mut w = Walk::default();
        let creates: usize = steps
            .iter()
            .map(|s| match s {
                Step::BulkCreate(k) => *k,
                Step::SingleCreate => 1,
                Step::Resend(..) => 1,
                _ => 0,
            })
            .sum();
        if !self.reserve(creates) {
            w.out.skipped = true;
            return w.out;
        }
        let mut leads: Vec<Lead> = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            if let Some(seen) = seen {
                seen.store(i + 1, Ordering::SeqCst);
            }
            w.note(format!("step {}: {step:?}", i + 1));
            if !self.step(&mut w, &mut leads, step) || !w.out.failures.is_empty() {
                break;
            }
        }
        w.out
    }

    /// Runs one step and checks it; false when the model cannot follow.
    fn step(&mut self, w: &mut Walk, leads: &mut Vec<Lead>, step: &Step) -> bool {
        match *step {
            Step::BulkCreate(k) => {
                let pairs: Vec<(String, String)> = (0..k).map(|_| self.ids.fresh_pair()).collect();
                let items: Vec<GenItem> = pairs
                    .iter()
                    .map(|(p, e)| GenItem {
                        category: Category::Valid,
                        kind: "valid",
                        value: json!({"phone_number": p, "email": e}),
                    })
                    .collect();
                let ex = self.post_batch(&items);
                w.log.push(super::shortened(&ex));
                let Some(res) = self.check_bulk(&items, &ex, &mut w.out, &[], 0) else {
                    return false;
                };
                for (r, (phone, email)) in res.iter().zip(pairs) {
                    let Some(id) = r.id.filter(|_| r.action.as_deref() == Some("created")) else {
                        return false;
                    };
                    leads.push(Lead {
                        id,
                        phone,
                        email,
                        lead_source: None,
                        dnc: false,
                        counter: Some(0),
                    });
                }
                true
            }
            Step::SingleCreate => {
                let (phone, email) = self.ids.fresh_pair();
                let item = json!({"phone_number": phone, "email": email});
                let ex = self.call(&mut w.log, "POST", LEADS_PATH, Auth::Token, Some(&item));
                w.out.check(Clause::C1);
                let Some(id) = ok_body(&ex).and_then(|b| b.get("id")?.as_i64()) else {
                    w.fail(
                        Clause::C1,
                        "new identity",
                        format!(
                            "a single create of a new identity was answered {}",
                            ex.status.unwrap_or(0)
                        ),
                    );
                    return false;
                };
                self.created += 1;
                self.count_grew(1);
                self.ledger.record_created(identity(&item), id);
                leads.push(Lead {
                    id,
                    phone,
                    email,
                    lead_source: None,
                    dnc: false,
                    counter: Some(0),
                });
                true
            }
            Step::Patch(i) => {
                let source = format!("seq-patch-{}", w.log.len());
                let ex = self.call(
                    &mut w.log,
                    "PATCH",
                    &lead_path(leads[i].id),
                    Auth::Token,
                    Some(&json!({"lead_source": source})),
                );
                w.out.check(Clause::U1);
                if ok_body(&ex).is_none() {
                    w.fail(
                        Clause::U1,
                        "partial",
                        format!(
                            "PATCH of lead {} was answered {}",
                            leads[i].id,
                            ex.status.unwrap_or(0)
                        ),
                    );
                    return false;
                }
                leads[i].lead_source = Some(source);
                self.expect_model(w, &leads[i], Clause::U1)
            }
            Step::Put(i) => {
                let source = format!("seq-put-{}", w.log.len());
                let l = &leads[i];
                let body =
                    json!({"phone_number": l.phone, "email": l.email, "lead_source": source});
                let ex = self.call(&mut w.log, "PUT", UPDATE_PATH, Auth::Token, Some(&body));
                w.out.check(Clause::U2);
                if ok_body(&ex).is_none() {
                    w.fail(
                        Clause::U2,
                        "match",
                        format!(
                            "a PUT matching lead {} was answered {}",
                            l.id,
                            ex.status.unwrap_or(0)
                        ),
                    );
                    return false;
                }
                leads[i].lead_source = Some(source);
                self.expect_model(w, &leads[i], Clause::U2)
            }
            Step::Get(i) => self.expect_model(w, &leads[i], Clause::G1),
            Step::ListWalk => {
                w.out.check(Clause::L1);
                let listed = self.listed_ids(&mut w.log);
                for l in leads.iter() {
                    if listed.as_ref().is_some_and(|ids| !ids.contains(&l.id)) {
                        w.fail(
                            Clause::L1,
                            "walk",
                            format!("lead {} of this sequence is on no page of the list", l.id),
                        );
                        return false;
                    }
                }
                true
            }
            Step::Resend(i, by_bulk) => {
                let l = leads[i].clone();
                let item = json!({"phone_number": PhoneForm::Dashed.write(&l.phone[2..]), "email": l.email});
                let reengaged = if by_bulk {
                    let items = [GenItem {
                        category: Category::Valid,
                        kind: "valid",
                        value: item,
                    }];
                    let ex = self.post_batch(&items);
                    w.log.push(super::shortened(&ex));
                    let Some(res) = self.check_bulk(&items, &ex, &mut w.out, &[], 0) else {
                        return false;
                    };
                    if !w.out.failures.is_empty() {
                        // The bulk answer broke a clause: the model cannot follow.
                        return false;
                    }
                    match res[0].action.as_deref() {
                        Some("reengaged") => Some(true),
                        Some("error") => None,
                        _ => return false,
                    }
                } else {
                    let ex = self.call(&mut w.log, "POST", LEADS_PATH, Auth::Token, Some(&item));
                    w.out.check(Clause::C1);
                    match ok_body(&ex).map(|b| b.get("id").and_then(Value::as_i64)) {
                        Some(Some(id)) if id == l.id => Some(true),
                        None if refused(&ex) => None,
                        _ => {
                            w.fail(Clause::C1, "known identity", format!(
                                "a single create of the identity of lead {} was answered {}: it must answer that lead or be refused",
                                l.id, ex.status.unwrap_or(0)));
                            return false;
                        }
                    }
                };
                let lead = &mut leads[i];
                lead.counter = match reengaged {
                    Some(_) => lead.counter.map(|c| c + 1),
                    None => None,
                };
                let lead = lead.clone();
                self.expect_model(w, &lead, if lead.dnc { Clause::R2 } else { Clause::R1 })
            }
            Step::SetDnc(i) => {
                let ex = self.call(
                    &mut w.log,
                    "PATCH",
                    &lead_path(leads[i].id),
                    Auth::Token,
                    Some(&json!({"call_dnc": true})),
                );
                w.out.check(Clause::U1);
                if ok_body(&ex).is_none() {
                    w.fail(
                        Clause::U1,
                        "partial",
                        format!(
                            "PATCH call_dnc true of lead {} was answered {}",
                            leads[i].id,
                            ex.status.unwrap_or(0)
                        ),
                    );
                    return false;
                }
                leads[i].dnc = true;
                self.expect_model(w, &leads[i], Clause::U1)
            }
        }
    }

    /// Reads the lead and compares it with the model; a difference fails
    /// `clause` (R2 when the flag is lost, R1 when the counter is off, G1 when
    /// only the read is stale).
    fn expect_model(&mut self, w: &mut Walk, m: &Lead, clause: Clause) -> bool {
        let want = m.clone();
        let agrees = move |l: &Value| model_differs(&want, l).is_none();
        w.out.check(clause);
        match self.read_lead(&mut w.log, m.id, Auth::Token, agrees) {
            Read::Unreadable => false,
            Read::Agrees(l) => {
                if m.counter.is_none() {
                    // Follow the target after a refusal.
                    let _ = counter(&l);
                }
                true
            }
            Read::Stale(_) => {
                w.fail(Clause::G1, "fresh", format!(
                    "GET /api/leads/{}/ did not show the sequence's writes within the settle window, while the listing does", m.id));
                false
            }
            Read::Differs(l, _) => {
                let why = l
                    .as_ref()
                    .and_then(|l| model_differs(m, l))
                    .unwrap_or_else(|| "cannot be read".to_owned());
                let clause = match l.as_ref() {
                    Some(l)
                        if m.dnc
                            && l.get("call_dnc") != Some(&Value::Bool(true))
                            && clause == Clause::R2 =>
                    {
                        Clause::R2
                    }
                    Some(l)
                        if m.counter.is_some()
                            && counter(l) != m.counter
                            && clause != Clause::U1
                            && clause != Clause::U2 =>
                    {
                        Clause::R1
                    }
                    _ => clause,
                };
                w.fail(clause, "model", format!("lead {}: {why}", m.id));
                false
            }
        }
    }
}

/// How the stored lead differs from what the model holds, if it does.
fn model_differs(m: &Lead, l: &Value) -> Option<String> {
    let phone = l.get("phone_number").and_then(Value::as_str).unwrap_or("");
    if !same_phone(&m.phone, phone) {
        return Some(format!(
            "phone_number {phone:?}, the model holds {:?}",
            m.phone
        ));
    }
    if l.get("email")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        != Some(m.email.clone())
    {
        return Some(format!(
            "email {}, the model holds {:?}",
            l.get("email").unwrap_or(&Value::Null),
            m.email
        ));
    }
    if let Some(src) = &m.lead_source
        && l.get("lead_source").and_then(Value::as_str) != Some(src)
    {
        return Some(format!(
            "lead_source {}, the model holds {src:?}",
            l.get("lead_source").unwrap_or(&Value::Null)
        ));
    }
    if m.dnc && l.get("call_dnc") != Some(&Value::Bool(true)) {
        return Some(format!(
            "call_dnc {}, set true earlier in the sequence",
            l.get("call_dnc").unwrap_or(&Value::Null)
        ));
    }
    if let (Some(want), Some(got)) = (m.counter, counter(l))
        && want != got
    {
        return Some(format!(
            "re-engagement counter {got}, the model holds {want}"
        ));
    }
    None
}
