//! The executor: runs one generated sequence of [`Step`]s on the run's own
//! leads and checks every answer and every read against what the account must
//! hold after the steps so far. The model asserts only what the clauses
//! assert; where the contract leaves a choice (re-engaged or refused, metadata
//! merged or replaced, what a PUT does to fields it does not send, 200 or
//! 201) it follows the target: the lead as last read is the expectation.
//! The sequence stops at its first failure: later steps would judge a state
//! the model no longer knows.

use serde_json::{Value, json};

use super::account::Account;
use super::model::{Field, Step};
use crate::checker::Harness;
use crate::checker::count::Listing;
use crate::checker::operations::reads::{Read, may_be_before};
use crate::checker::operations::updates::{may_be_before_patch, patched};
use crate::checker::operations::walk::{
    Walk, same_identity, stale_detail, starts_at_zero, unchanged,
};
use crate::checker::operations::{UPDATE_PATH, fidelity, lead_path};
use crate::report::Clause;
use crate::target::Auth;
use sela_leads::rules::{Identity, identity};

impl Harness<'_> {
    /// Runs `step` against the target; `None` when the sequence cannot go on
    /// (a failure was recorded, or the target's answer left the model without
    /// the lead the step should have made).
    pub(super) fn run_step(&mut self, w: &mut Walk, acc: &mut Account, step: &Step) -> Option<()> {
        match step {
            Step::SingleCreate => {
                let (item, _) = self.new_item(acc);
                let (id, lead) = self.create_new(w, &item)?;
                acc.adopt(&item, id, lead);
            }
            Step::BulkCreate { n } => {
                let items: Vec<Value> = (0..*n).map(|_| self.new_item(acc).0).collect();
                let res = self.bulk(w, items.clone())?;
                for (item, (action, id)) in items.iter().zip(res) {
                    let id = id.filter(|_| action.as_deref() == Some("created"))?;
                    let lead =
                        self.read_as(w, id, Clause::B3, "read-back", |l| same_identity(l, item))?;
                    self.check_fidelity(w, item, &lead);
                    starts_at_zero(w, id, &lead);
                    acc.adopt(item, id, lead);
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
            Step::Group { slot, ops } => self.run_group(w, acc, *slot, ops)?,
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
        self.write(
            w,
            "PATCH",
            &lead_path(id),
            body,
            (clause, "partial"),
            format!("PATCH of lead {id} with {body}"),
        )?;
        let sent: Vec<&str> = body
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let agrees = |l: &Value| patched(body, l).is_none() && unchanged(&was, l, &sent).is_none();
        match self.read_lead_after(&mut w.log, (clause, id, Auth::Token), agrees, |l| {
            may_be_before_patch(body, &was, l)
        }) {
            Read::Unreadable => None,
            Read::Agrees(l) => {
                w.out.check(clause);
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
        for (_, item) in self.readback.read_ok.iter_mut().filter(|(i, _)| *i == id) {
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
        self.write(
            w,
            "PUT",
            UPDATE_PATH,
            &body,
            (Clause::U2, "match"),
            format!("a PUT matching lead {id}'s phone and e-mail"),
        )?;
        let want = json!(source);
        let was = lead.last.clone();
        match self.read_lead_after(
            &mut w.log,
            (Clause::U2, id, Auth::Token),
            |l| l.get("lead_source") == Some(&want),
            |l| may_be_before(&was, l, &["lead_source"]),
        ) {
            Read::Unreadable => None,
            Read::Agrees(l) => {
                w.out.check(Clause::U2);
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
        match self.read_lead(&mut w.log, Clause::G1, id, Auth::Token, |l| {
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
        if !matches!(self.count.listing, Listing::Available(_)) {
            self.ops.obs.lists_in_lanes += u32::from(self.count.in_lane());
            return Some(());
        }
        let lead = &acc.leads[slot];
        let id = lead.id;
        let item = json!({"phone_number": lead.phone, "email": lead.email});
        w.out.check(Clause::L1);
        let mut wait = self.waits.start(Clause::L1);
        loop {
            let mut log = Vec::new();
            let found = self.find_listed(&mut log, id, Auth::Token);
            let ok = found.as_ref().is_some_and(|l| same_identity(l, &item));
            if ok || !wait.pause() {
                w.log.extend(log);
                self.waits.finish(wait, ok);
                if ok {
                    return Some(());
                }
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
        }
    }
}
