//! Re-sends in a sequence: a lead's identity sent again (by bulk or single
//! create) re-engages that lead or is refused (S2, C1, R1, R2), and an identity
//! moved away from its lead is a new one or the lead it moved to (U3).

use serde_json::{Value, json};

use super::account::{Account, FLAGS};
use crate::checker::Harness;
use crate::checker::operations::reads::Read;
use crate::checker::operations::walk::{Walk, same_identity, stale_detail, starts_at_zero};
use crate::checker::operations::{LEADS_PATH, counter, ok_body, reengaged_at, refused};
use crate::report::Clause;
use crate::target::Auth;
use sela_leads::rules::identity;

impl Harness<'_> {
    /// A re-send of a lead's current identity: it re-engages that lead (its
    /// id) or is refused (S2 by bulk, C1 by single create); each
    /// re-engagement adds one (R1) and keeps a do-not-contact flag set (R2).
    pub(super) fn resend(
        &mut self,
        w: &mut Walk,
        acc: &mut Account,
        slot: usize,
        single: bool,
        form: crate::strategies::PhoneForm,
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
        let read = self.read_lead(&mut w.log, Clause::R2, id, Auth::Token, |l| {
            flags_kept(l) && counted(l)
        });
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
    pub(super) fn resend_moved(
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
                        self.count.stale();
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
                self.count.stale();
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
            self.quota.created += 1;
            self.ledger.ids.insert(other);
            self.count.grew(1);
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
    pub(super) fn resend_old(
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
                self.count.stale();
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
                    self.count.stale();
                    return None;
                }
            };
            let action = r.get("action").and_then(Value::as_str).unwrap_or("");
            if !matches!(action, "created" | "reengaged" | "error") {
                self.count.stale();
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
        self.quota.created += 1;
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
        starts_at_zero(w, id, &lead);
        acc.adopt(&item, id, lead);
        Some(())
    }
}
