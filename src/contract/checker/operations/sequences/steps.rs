//! The executor: runs one generated sequence of [`Step`]s on the run's own
//! leads and checks every answer and every read against what the account must
//! hold after the steps so far. The model asserts only what the clauses
//! assert; where the contract leaves a choice (re-engaged or refused, metadata
//! merged or replaced, what a PUT does to fields it does not send, 200 or
//! 201) it follows the target: the lead as last read is the expectation.
//! The sequence stops at its first failure: later steps would judge a state
//! the model no longer knows.

use serde_json::{Value, json};

use super::model::{Field, Step};
use crate::contract::checker::Harness;
use crate::contract::checker::Listing;
use crate::contract::checker::operations::reads::Read;
use crate::contract::checker::operations::scenario::{
    Walk, same_identity, stale_detail, unchanged,
};
use crate::contract::checker::operations::updates::patched;
use crate::contract::checker::operations::{
    LEADS_PATH, UPDATE_PATH, counter, fidelity, lead_path, ok_body, reengaged_at, refused,
};
use crate::contract::report::Clause;
use crate::contract::target::Auth;
use crate::rules::{Identity, identity};

/// The do-not-contact flags R2 protects.
const FLAGS: [&str; 2] = ["call_dnc", "sms_dnc"];

/// One of the sequence's leads, as the model expects it.
pub(super) struct Lead {
    pub(super) id: i64,
    /// E.164.
    pub(super) phone: String,
    pub(super) email: String,
    /// The lead as last read (the expectation for fields no step changed).
    pub(super) last: Value,
    /// Its re-engagement counter, when the target shows one.
    pub(super) counter: Option<i64>,
    /// Its identity was moved by a PATCH: a re-send of it is U3's.
    pub(super) moved: bool,
}

/// The model's account: the sequence's leads by slot, and the identities moved
/// away from them.
#[derive(Default)]
pub(super) struct Account {
    pub(super) leads: Vec<Lead>,
    pub(super) old: Vec<(String, String, i64)>,
}

impl Harness<'_> {
    /// Runs `step` against the target; `None` when the sequence cannot go on
    /// (a failure was recorded, or the target's answer left the model without
    /// the lead the step should have made).
    pub(super) fn run_step(&mut self, w: &mut Walk, acc: &mut Account, step: &Step) -> Option<()> {
        match step {
            Step::SingleCreate => {
                let (item, _) = self.new_item(acc);
                let (id, lead) = self.create_new(w, &item)?;
                self.adopt(acc, &item, id, lead);
            }
            Step::BulkCreate { n } => {
                let items: Vec<Value> = (0..*n).map(|_| self.new_item(acc).0).collect();
                let res = self.bulk(w, items.clone())?;
                for (item, (action, id)) in items.iter().zip(res) {
                    let id = id.filter(|_| action.as_deref() == Some("created"))?;
                    let lead =
                        self.read_as(w, id, Clause::B3, "read-back", |l| same_identity(l, item))?;
                    self.check_fidelity(w, item, &lead);
                    self.starts_at_zero(w, id, &lead);
                    self.adopt(acc, item, id, lead);
                }
            }
            Step::Resend { slot, single, form } => self.resend(w, acc, *slot, *single, *form)?,
            Step::ResendOld { old, single } => self.resend_old(w, acc, *old, *single)?,
            Step::Patch { slot, field, n } => {
                let body = match field {
                    Field::Source => json!({"lead_source": format!("seq-patched-{n}")}),
                    Field::State => {
                        let state = ["NY", "TX", "WA", "MT"][usize::from(*n) % 4];
                        json!({ "us_state": state })
                    }
                    Field::Metadata => json!({"metadata": {"seq_patch": n}}),
                };
                self.patch(w, acc, *slot, &body, Clause::U1)?;
            }
            Step::Dnc { slot, flag } => {
                self.patch(w, acc, *slot, &json!({ flag.field(): true }), Clause::U1)?;
            }
            Step::Move { slot, email } => self.move_lead(w, acc, *slot, *email)?,
            Step::Put { slot, n } => self.put(w, acc, *slot, *n)?,
            Step::Get { slot } => self.get(w, acc, *slot)?,
            Step::List { slot } => self.listed(w, acc, *slot)?,
        }
        w.out.failures.is_empty().then_some(())
    }

    /// A certainly valid item of a new identity (fidelity values included, so
    /// that B5 is checked on the sequence's leads too).
    fn new_item(&mut self, acc: &Account) -> (Value, Identity) {
        let (phone, email) = self.ids.fresh_pair();
        let all = fidelity::challenges();
        let (meta, time) = all[acc.leads.len() % all.len()].clone();
        let ext = format!("seq-{}", email.split('@').next().unwrap_or("x"));
        let item = json!({
            "phone_number": phone, "email": email, "external_id": ext,
            "lead_source": "contract-sequence", "us_state": "CA",
            "metadata": meta, "call_schedule_start_time": time,
        });
        let who = identity(&item).expect("a certainly valid item has an identity");
        (item, who)
    }

    /// R1: a created lead starts at 0.
    fn starts_at_zero(&mut self, w: &mut Walk, id: i64, lead: &Value) {
        if let Some(c) = counter(lead) {
            w.out.check(Clause::R1);
            if c != 0 {
                w.fail(
                    Clause::R1,
                    "starts at 0",
                    format!("lead {id} was just created but its re-engagement counter is {c}"),
                );
            }
        }
    }

    fn adopt(&mut self, acc: &mut Account, item: &Value, id: i64, lead: Value) {
        acc.leads.push(Lead {
            id,
            phone: item["phone_number"].as_str().unwrap_or_default().to_owned(),
            email: item["email"].as_str().unwrap_or_default().to_owned(),
            counter: counter(&lead),
            last: lead,
            moved: false,
        });
    }

    /// A re-send of a lead's current identity: it re-engages that lead (its
    /// id) or is refused (S2 by bulk, C1 by single create); each
    /// re-engagement adds one (R1) and keeps a do-not-contact flag set (R2).
    fn resend(
        &mut self,
        w: &mut Walk,
        acc: &mut Account,
        slot: usize,
        single: bool,
        form: crate::contract::strategies::PhoneForm,
    ) -> Option<()> {
        let lead = &acc.leads[slot];
        let id = lead.id;
        let item = json!({"phone_number": form.write(&lead.phone[2..]), "email": lead.email});
        // `None`: refused; whether a refusal touches the counter is not
        // asserted, so the model then follows the target's counter.
        let reengaged: Option<i64> = if acc.leads[slot].moved {
            self.resend_moved(w, &item, id, single)?
        } else if single {
            self.resend_single(w, &item, id, 1)
        } else {
            let res = self.bulk(w, vec![item.clone()])?;
            match &res[0] {
                (Some(a), Some(got)) if a == "reengaged" && *got == id => Some(1),
                (Some(a), _) if a == "error" => None,
                // Created again, or answered with another lead: bulk's S2
                // (and B3) judged it already, whether or not the identity
                // was moved here.
                _ => return None,
            }
        };
        if !w.out.failures.is_empty() {
            return None;
        }
        let lead = &acc.leads[slot];
        let want = lead.counter.and_then(|c| Some(c + reengaged?));
        let kept: Vec<&str> = FLAGS
            .into_iter()
            .filter(|f| lead.last.get(*f) == Some(&Value::Bool(true)))
            .collect();
        let added = reengaged.unwrap_or(0);
        let judged = |w: &mut Walk| {
            if added > 0 && want.is_some() {
                w.out.check(Clause::R1);
            }
            if added > 0 && !kept.is_empty() {
                w.out.check(Clause::R2);
            }
        };
        // A refusal re-engages nothing: the flags are R2's only when the
        // target answered with the lead.
        let flags_kept =
            |l: &Value| added == 0 || kept.iter().all(|f| l.get(*f) == Some(&Value::Bool(true)));
        let counted = |l: &Value| {
            want.is_none_or(|n| counter(l) == Some(n)) && (added == 0 || reengaged_at(l).is_some())
        };
        let before = lead.counter;
        let read = self.read_lead(&mut w.log, id, Auth::Token, |l| flags_kept(l) && counted(l));
        if !matches!(read, Read::Unreadable) {
            judged(w);
        }
        match read {
            // Not judged: B3's read-back judges a lead that cannot be read.
            Read::Unreadable => None,
            Read::Agrees(l) => {
                w.out.check(Clause::G1);
                acc.leads[slot].counter = if want.is_some() { want } else { counter(&l) };
                acc.leads[slot].last = l;
                Some(())
            }
            Read::Stale(_) => {
                w.fail(Clause::G1, "fresh", stale_detail(id, "its re-engagement"));
                None
            }
            Read::Differs(l, ex) => {
                let Some(l) = l else {
                    w.fail(
                        Clause::G1,
                        "keeps showing",
                        format!(
                            "lead {id} answered {} after a re-send",
                            ex.status.unwrap_or(0)
                        ),
                    );
                    return None;
                };
                if let Some(flag) = kept.iter().find(|f| l.get(**f) != Some(&Value::Bool(true))) {
                    w.fail(
                        Clause::R2,
                        "keeps do-not-contact",
                        format!(
                            "lead {id} had {flag} set true; after a re-engagement ({}) of an item \
                             that does not mention it, it reads back {flag} {}",
                            if single { "single create" } else { "bulk" },
                            l.get(*flag).unwrap_or(&Value::Null)
                        ),
                    );
                } else {
                    w.fail(
                        Clause::R1,
                        "counter",
                        format!(
                            "lead {id} was re-engaged {added} time(s) from counter {} but \
                             reads back counter {} and re-engagement time {}",
                            before.map_or("none".to_owned(), |c| c.to_string()),
                            counter(&l).map_or("none".to_owned(), |c| c.to_string()),
                            reengaged_at(&l).unwrap_or("none")
                        ),
                    );
                }
                None
            }
        }
    }

    /// U3: a re-send of a lead's identity after a PATCH moved it re-engages
    /// that lead or is refused. Created again or answered with another lead,
    /// it fails U3 while the endpoint's own duplicate clause (S2 for bulk, C1
    /// for single create) has held in the run, else that clause: a server
    /// that never deduplicates breaks it, not the move. `Some(None)`: refused.
    fn resend_moved(
        &mut self,
        w: &mut Walk,
        item: &Value,
        id: i64,
        single: bool,
    ) -> Option<Option<i64>> {
        let (path, body) = if single {
            (LEADS_PATH, item.clone())
        } else {
            (super::super::BULK, json!({ "leads": [item] }))
        };
        let before = self.baseline();
        let ex = self.call(&mut w.log, "POST", path, Auth::Token, Some(&body));
        let (action, got) = match ok_body(&ex) {
            Some(b) if single => ("answered", b.get("id").and_then(Value::as_i64)),
            Some(b) => {
                let r = b.get("results").and_then(|r| r.get(0)).cloned();
                let r = r.unwrap_or(Value::Null);
                let action = match r.get("action").and_then(Value::as_str) {
                    Some("reengaged") => "reengaged",
                    Some("error") => {
                        self.expect_count(w, before, 0, Clause::S2, "a refused bulk re-send");
                        return Some(None);
                    }
                    Some("created") => "created",
                    // Off the schema: T3's and B2's, not judged here.
                    _ => {
                        self.count_stale();
                        return None;
                    }
                };
                (action, r.get("id").and_then(Value::as_i64))
            }
            None if refused(&ex) => {
                self.expect_count(w, before, 0, Clause::C1, "a refused single create");
                return Some(None);
            }
            // No verdict on the item (a 5xx, no JSON): T1-T3's.
            None => {
                self.count_stale();
                return None;
            }
        };
        let plain = if single { Clause::C1 } else { Clause::S2 };
        let held = self
            .tallies
            .get(&plain)
            .is_some_and(|t| t.cases > 0 && t.failed_cases == 0);
        let clause = if held { Clause::U3 } else { plain };
        w.out.check(clause);
        if got == Some(id) && action != "created" {
            let what = if single {
                "a single create of a moved identity"
            } else {
                "a bulk re-send of a moved identity"
            };
            self.expect_count(w, before, 0, plain, what);
            return Some(Some(1));
        }
        if let Some(other) = got.filter(|g| *g != id) {
            self.created += 1;
            self.ledger.ids.insert(other);
            self.count_grew(1);
        }
        w.fail(
            clause,
            "new identity",
            format!(
                "lead {id}'s identity was moved by PATCH; a re-send of the new identity by {} \
                 must re-engage lead {id} or be refused, but was {action} {} (id {})",
                if single { "single create" } else { "bulk" },
                ex.status.unwrap_or(0),
                got.map_or("none".to_owned(), |g| g.to_string())
            ),
        );
        None
    }

    /// U3: an identity moved away from a lead is created as a new lead when it
    /// is sent again (never answered with the lead it was moved from).
    fn resend_old(
        &mut self,
        w: &mut Walk,
        acc: &mut Account,
        old: usize,
        single: bool,
    ) -> Option<()> {
        let (phone, email, from) = acc.old.remove(old);
        let item = json!({"phone_number": phone, "email": email});
        let before = self.baseline();
        // An answer that is no verdict on the item (a 5xx, a body off the
        // schema) is T1-T3's and B1's, judged on every other bulk answer:
        // the step is then not judged.
        let got = if single {
            let ex = self.call(&mut w.log, "POST", LEADS_PATH, Auth::Token, Some(&item));
            let id = ok_body(&ex).and_then(|b| b.get("id").and_then(Value::as_i64));
            if id.is_none() && !refused(&ex) {
                self.count_stale();
                return None;
            }
            let answer = format!("answered {}", ex.status.unwrap_or(0));
            (
                id,
                if refused(&ex) {
                    "refused".to_owned()
                } else {
                    answer
                },
            )
        } else {
            let body = json!({ "leads": [item.clone()] });
            let ex = self.call(
                &mut w.log,
                "POST",
                super::super::BULK,
                Auth::Token,
                Some(&body),
            );
            let results = ok_body(&ex).and_then(|b| b.get("results")?.as_array().cloned());
            let r = match results.as_deref() {
                Some([r]) => r.clone(),
                _ => {
                    self.count_stale();
                    return None;
                }
            };
            let action = r.get("action").and_then(Value::as_str).unwrap_or("");
            if !matches!(action, "created" | "reengaged" | "error") {
                self.count_stale();
                return None;
            }
            (r.get("id").and_then(Value::as_i64), action.to_owned())
        };
        w.out.check(Clause::U3);
        let known = |id: i64| acc.leads.iter().any(|l| l.id == id);
        let fresh = single || got.1 == "created";
        let Some(id) = got.0.filter(|id| fresh && !known(*id)) else {
            w.fail(
                Clause::U3,
                "old identity",
                format!(
                    "lead {from}'s identity was moved by PATCH; an item with its old identity \
                     must be created as a new lead, but was {} (id {})",
                    got.1,
                    got.0.map_or("none".to_owned(), |i| i.to_string())
                ),
            );
            return None;
        };
        self.created += 1;
        self.ledger.record_created(identity(&item), id);
        let (clause, what) = if single {
            (Clause::U3, "a single create of a moved-away identity")
        } else {
            (Clause::S2, "a bulk create of a moved-away identity")
        };
        self.expect_count(w, before, 1, clause, what);
        let lead = self.read_as(w, id, Clause::U3, "old identity", |l| {
            same_identity(l, &item)
        })?;
        self.starts_at_zero(w, id, &lead);
        self.adopt(acc, &item, id, lead);
        Some(())
    }

    /// `PATCH` of lead `slot` with `body`: the sent fields read back as sent,
    /// every other field as last read (U1); metadata keys not sent may be kept
    /// or dropped (observed).
    fn patch(
        &mut self,
        w: &mut Walk,
        acc: &mut Account,
        slot: usize,
        body: &Value,
        clause: Clause,
    ) -> Option<Value> {
        let (id, was) = (acc.leads[slot].id, acc.leads[slot].last.clone());
        let ex = self.call(&mut w.log, "PATCH", &lead_path(id), Auth::Token, Some(body));
        w.out.check(clause);
        if ok_body(&ex).is_none() {
            w.fail(
                clause,
                "partial",
                format!(
                    "PATCH of lead {id} with {body} was answered {}",
                    ex.status.unwrap_or(0)
                ),
            );
            return None;
        }
        let sent: Vec<&str> = body
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let agrees = |l: &Value| patched(body, l).is_none() && unchanged(&was, l, &sent).is_none();
        match self.read_lead(&mut w.log, id, Auth::Token, agrees) {
            Read::Unreadable => None,
            Read::Agrees(l) => {
                w.out.check(Clause::G1);
                self.note_metadata_merge(body, &was, &l);
                acc.leads[slot].last = l.clone();
                Some(l)
            }
            Read::Stale(_) => {
                w.fail(Clause::G1, "fresh", stale_detail(id, "a PATCH"));
                None
            }
            Read::Differs(l, _) => {
                let why = l.map_or("it cannot be read".to_owned(), |l| {
                    patched(body, &l)
                        .or_else(|| unchanged(&was, &l, &sent))
                        .unwrap_or_default()
                });
                w.fail(
                    clause,
                    "partial",
                    format!("after PATCH {body} of lead {id}: {why}"),
                );
                None
            }
        }
    }

    /// U1 then U3's bookkeeping: the lead's e-mail or phone number moves to a
    /// fresh one; the old identity is free again (a re-send creates a lead).
    fn move_lead(
        &mut self,
        w: &mut Walk,
        acc: &mut Account,
        slot: usize,
        email: bool,
    ) -> Option<()> {
        let (new_phone, new_email) = self.ids.fresh_pair();
        let body = if email {
            json!({"email": new_email})
        } else {
            json!({"phone_number": new_phone})
        };
        self.patch(w, acc, slot, &body, Clause::U1)?;
        let lead = &mut acc.leads[slot];
        let old = Identity {
            phone: lead.phone.clone(),
            email: Some(lead.email.clone()),
        };
        if email {
            lead.email = new_email;
        } else {
            lead.phone = new_phone;
        }
        lead.moved = true;
        let new = Identity {
            phone: lead.phone.clone(),
            email: Some(lead.email.clone()),
        };
        let id = lead.id;
        // The run's final read-back (B3) expects the lead's identity now.
        for (_, item) in self.read_ok.iter_mut().filter(|(i, _)| *i == id) {
            item["phone_number"] = json!(new.phone);
            item["email"] = json!(new.email);
        }
        acc.old
            .push((old.phone.clone(), old.email.clone().unwrap_or_default(), id));
        self.ledger.created.remove(&old);
        self.ledger.created.insert(new.clone(), id);
        self.ledger.ids.insert(id);
        Some(())
    }

    /// U2: a PUT matching the lead's phone and e-mail changes it; what it does
    /// to fields it does not send is the target's choice, so the model takes
    /// the lead as read afterwards.
    fn put(&mut self, w: &mut Walk, acc: &mut Account, slot: usize, n: u16) -> Option<()> {
        let lead = &acc.leads[slot];
        let (id, source) = (lead.id, format!("seq-put-{n}"));
        let body = json!({"phone_number": lead.phone, "email": lead.email, "lead_source": source});
        let ex = self.call(&mut w.log, "PUT", UPDATE_PATH, Auth::Token, Some(&body));
        w.out.check(Clause::U2);
        if ok_body(&ex).is_none() {
            w.fail(
                Clause::U2,
                "match",
                format!(
                    "a PUT matching lead {id}'s phone and e-mail was answered {}",
                    ex.status.unwrap_or(0)
                ),
            );
            return None;
        }
        let want = json!(source);
        match self.read_lead(&mut w.log, id, Auth::Token, |l| {
            l.get("lead_source") == Some(&want)
        }) {
            Read::Unreadable => None,
            Read::Agrees(l) => {
                w.out.check(Clause::G1);
                acc.leads[slot].last = l;
                Some(())
            }
            Read::Stale(_) => {
                w.fail(Clause::G1, "fresh", stale_detail(id, "a PUT"));
                None
            }
            Read::Differs(l, _) => {
                w.fail(
                    Clause::U2,
                    "match",
                    format!(
                        "after a PUT of lead_source {want} matching lead {id}, it reads back \
                         lead_source {}",
                        l.as_ref()
                            .and_then(|l| l.get("lead_source"))
                            .unwrap_or(&Value::Null)
                    ),
                );
                None
            }
        }
    }

    /// G1: a read shows every write so far, and no older state.
    fn get(&mut self, w: &mut Walk, acc: &mut Account, slot: usize) -> Option<()> {
        let (id, was) = (acc.leads[slot].id, acc.leads[slot].last.clone());
        match self.read_lead(&mut w.log, id, Auth::Token, |l| {
            unchanged(&was, l, &[]).is_none()
        }) {
            Read::Unreadable => None,
            Read::Agrees(l) => {
                w.out.check(Clause::G1);
                acc.leads[slot].last = l;
                Some(())
            }
            Read::Stale(_) => {
                w.fail(Clause::G1, "fresh", stale_detail(id, "the writes so far"));
                None
            }
            Read::Differs(l, ex) => {
                w.fail(
                    Clause::G1,
                    "keeps showing",
                    format!(
                        "lead {id} showed the sequence's writes when last read; read again with \
                         nothing written since, it {}",
                        l.map_or_else(
                            || format!("answered {}", ex.status.unwrap_or(0)),
                            |l| unchanged(&was, &l, &[]).unwrap_or_default()
                        )
                    ),
                );
                None
            }
        }
    }

    /// L1: the lead is listed (walking `next`) with its current identity,
    /// within the settle window.
    fn listed(&mut self, w: &mut Walk, acc: &mut Account, slot: usize) -> Option<()> {
        if !matches!(self.listing, Listing::Available(_)) {
            return Some(());
        }
        let lead = &acc.leads[slot];
        let id = lead.id;
        let item = json!({"phone_number": lead.phone, "email": lead.email});
        w.out.check(Clause::L1);
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(25);
        let mut waited = false;
        loop {
            let mut log = Vec::new();
            let found = self.find_listed(&mut log, id, Auth::Token);
            let ok = found.as_ref().is_some_and(|l| same_identity(l, &item));
            if ok || started.elapsed() >= self.config.settle {
                w.log.extend(log);
                if ok {
                    if waited {
                        self.waits.settled += 1;
                        self.waits.longest = self.waits.longest.max(started.elapsed());
                    }
                    return Some(());
                }
                self.waits.unsettled += 1;
                w.fail(
                    Clause::L1,
                    "walk",
                    match found {
                        None => format!("lead {id} is not in the list walked by `next`"),
                        Some(l) => format!(
                            "lead {id} is listed with phone {} and e-mail {}, but holds {} and {}",
                            l.get("phone_number").unwrap_or(&Value::Null),
                            l.get("email").unwrap_or(&Value::Null),
                            item["phone_number"],
                            item["email"]
                        ),
                    },
                );
                return None;
            }
            waited = true;
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(400));
        }
    }
}
