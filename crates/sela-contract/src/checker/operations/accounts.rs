//! A3 account isolation, with the second account's key
//! (`SELA_SECOND_API_KEY`): neither account sees, changes, lists, counts or
//! re-engages the other's leads. Without that key A3 is not checked (the run
//! says so up front). A `2xx` to a cross-account read counts as a leak only
//! when it shows the other account's lead: a target with one id sequence per
//! account may have a lead of its own under the same number.

use serde_json::{Value, json};

use super::reads::lead_of;
use super::walk::Walk;
use super::{BULK, LEADS_PATH, counter, lead_path, ok_body};
use crate::checker::Harness;
use crate::checker::stored::same_phone;
use crate::report::Clause;
use crate::target::{Auth, Exchange};

/// Leads the check may create: two in each account.
const CREATES: usize = 4;

impl Harness<'_> {
    /// A3 once (see the module doc).
    pub(super) fn check_accounts(&mut self) {
        if !self.target.has_second_key() || self.net.gone() || self.reporting.budget.spent() {
            return;
        }
        if !self.reserve(CREATES) {
            return;
        }
        let mut w = Walk::default();
        self.isolation(&mut w);
        self.tallies.record(w.out, false);
    }

    fn isolation(&mut self, w: &mut Walk) -> Option<()> {
        // The second account creates two leads of identities this account
        // never had.
        let mut theirs = Vec::new();
        let own_before = self.baseline();
        for _ in 0..2 {
            let (phone, email) = self.ids.fresh_pair();
            let item = json!({"phone_number": phone, "email": email, "lead_source": "a3-second"});
            let ex = self.call(&mut w.log, "POST", LEADS_PATH, Auth::Second, Some(&item));
            let id = ok_body(&ex).and_then(|b| b.get("id")?.as_i64());
            let Some(id) = id else {
                self.obs_ops().accounts = Some(format!(
                    "A3: not checked: the second account's single create was answered {}",
                    ex.status.unwrap_or(0)
                ));
                return None;
            };
            self.quota.created += 1;
            theirs.push((id, item));
        }
        w.out.check(Clause::A3);
        // Own count unchanged by the other account's creations.
        if let Some(before) = own_before
            && let Some((after, ex)) = self.refresh_count()
        {
            let (after, ex) =
                self.settle_count((Clause::A3, w.out.fails(Clause::A3)), after, ex, |n| {
                    n != before
                });
            w.log.push(ex);
            if after != before {
                w.fail(
                    Clause::A3,
                    "count",
                    format!(
                        "the second account created 2 leads and this account's count went from \
                         {before} to {after}"
                    ),
                );
            }
        }
        let (x_id, x_item) = theirs[0].clone();
        // Neither read nor change the other account's lead.
        let x_before = self.read_other(w, x_id, Auth::Second)?;
        let ex = self.call(&mut w.log, "GET", &lead_path(x_id), Auth::Token, None);
        let own_lead_there = self.leaks(w, &ex, &x_item, x_id, "GET");
        if !own_lead_there {
            // Only when this account has no lead under that id (PATCH only
            // ever touches leads this run created).
            let ex = self.call(
                &mut w.log,
                "PATCH",
                &lead_path(x_id),
                Auth::Token,
                Some(&json!({"lead_source": "a3-intruder"})),
            );
            self.leaks(w, &ex, &x_item, x_id, "PATCH");
            let x_after = self.read_other(w, x_id, Auth::Second)?;
            if x_after.get("lead_source") != x_before.get("lead_source") {
                w.fail(
                    Clause::A3,
                    "change",
                    format!(
                        "a PATCH of the second account's lead {x_id} with this account's key \
                         changed it: lead_source {}",
                        x_after.get("lead_source").unwrap_or(&Value::Null)
                    ),
                );
            }
        }
        // The other way round: the second key reads none of this account's leads.
        if let Some((own_id, own_item)) = self.readback.read_ok.first().cloned() {
            let ex = self.call(&mut w.log, "GET", &lead_path(own_id), Auth::Second, None);
            self.leaks(
                w,
                &ex,
                &own_item,
                own_id,
                "GET with the second account's key",
            );
        }
        // Not listed in this account.
        for (id, item) in &theirs {
            if let Some(l) = self.find_listed(&mut w.log, *id, Auth::Token)
                && shows(&l, item)
            {
                w.fail(
                    Clause::A3,
                    "list",
                    format!("the second account's lead {id} is in this account's list"),
                );
            }
        }
        // Creating an identity that exists only in the other account creates
        // it here, under a new id, and leaves theirs untouched: by bulk, then
        // by single create.
        let x_count = counter(&x_before);
        let body = json!({ "leads": [ {"phone_number": x_item["phone_number"], "email": x_item["email"]} ] });
        let created_before = self.quota.created;
        let ex = self.call(&mut w.log, "POST", BULK, Auth::Token, Some(&body));
        let r = ok_body(&ex).and_then(|b| b.get("results")?.get(0).cloned());
        self.own_creation(w, r.as_ref(), x_id, "a bulk create");
        let (y_id, y_item) = theirs[1].clone();
        let single = json!({"phone_number": y_item["phone_number"], "email": y_item["email"]});
        let ex = self.call(&mut w.log, "POST", LEADS_PATH, Auth::Token, Some(&single));
        let r = ok_body(&ex).map(|b| {
            let action = if ex.status == Some(201) {
                "created"
            } else {
                "answered"
            };
            json!({"id": b.get("id"), "action": action})
        });
        self.own_creation(w, r.as_ref(), y_id, "a single create");
        // The run knows what it created: a re-read of the count could lag.
        self.count
            .grew((self.quota.created - created_before) as u64);
        if let Some(before) = x_count {
            let after = self.read_other(w, x_id, Auth::Second)?;
            if counter(&after) != Some(before) {
                w.fail(
                    Clause::A3,
                    "re-engage",
                    format!(
                        "this account sent the identity of the second account's lead {x_id}, \
                         whose re-engagement counter went from {before} to {}",
                        counter(&after).map_or("none".to_owned(), |c| c.to_string())
                    ),
                );
            }
        }
        Some(())
    }

    /// The other account's lead read with its own key.
    fn read_other(&mut self, w: &mut Walk, id: i64, auth: Auth) -> Option<Value> {
        let first = self.net.send("GET", &lead_path(id), auth.clone(), None);
        let ex = self.settle_read(Clause::A3, &lead_path(id), auth, first, |e| {
            lead_of(e).is_some()
        });
        w.log.push(ex.clone());
        let lead = lead_of(&ex);
        if lead.is_none() {
            self.obs_ops().accounts = Some(format!(
                "A3: the second account's own lead {id} answered {} to its own key",
                ex.status.unwrap_or(0)
            ));
        }
        lead
    }

    /// Fails A3 when a cross-account answer shows (or changed) the other
    /// account's lead; true when the answer is a lead of this account's own
    /// under the same id.
    fn leaks(&mut self, w: &mut Walk, ex: &Exchange, theirs: &Value, id: i64, what: &str) -> bool {
        match ex.status {
            Some(403 | 404) => false,
            Some(s) if (200..300).contains(&s) => {
                let lead = ex.response_value().unwrap_or(Value::Null);
                if shows(&lead, theirs) || what == "PATCH" {
                    w.fail(
                        Clause::A3,
                        "see",
                        format!("{what} of the other account's lead {id} was answered {s} with it"),
                    );
                    false
                } else {
                    true
                }
            }
            other => {
                // Not a leak (nothing of the other account's lead shown), but
                // not the 404 or 403 A3 asks for either: observed.
                self.obs_ops().accounts = Some(format!(
                    "A3: {what} of the other account's lead {id} was answered {}, not 404 or 403",
                    other.unwrap_or(0)
                ));
                false
            }
        }
    }

    /// A create in this account of an identity that exists only in the other
    /// must be a creation under a new id.
    fn own_creation(&mut self, w: &mut Walk, result: Option<&Value>, theirs: i64, what: &str) {
        // No result is no evidence about the other account's lead: the
        // endpoint's own breakage is B1/B3/T*'s to judge, and this part of A3
        // is not checked.
        let Some(r) = result else {
            self.obs_ops().accounts = Some(format!(
                "A3: not checked for {what}: the create of an identity that exists only in \
                 the other account was not answered 2xx with a result"
            ));
            return;
        };
        let id = r.get("id").and_then(Value::as_i64);
        if id.is_some_and(|i| i != theirs)
            && r.get("action").and_then(Value::as_str) != Some("reengaged")
        {
            self.quota.created += 1;
        }
        // The breach is the other account's lead answered here; a wrong
        // action on a lead of this account's own is B3's to judge.
        if id == Some(theirs) {
            w.fail(
                Clause::A3,
                "re-engage",
                format!(
                    "{what} of an identity that exists only in the other account (its lead \
                     {theirs}) was answered {r}: it must be created here under a new id"
                ),
            );
        }
    }
}

/// True when `lead` is the lead of `item` (phone and e-mail).
fn shows(lead: &Value, item: &Value) -> bool {
    let p = |v: &Value| {
        v.get("phone_number")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let e = |v: &Value| {
        v.get("email")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    matches!((p(lead), p(item)), (Some(a), Some(b)) if same_phone(&a, &b)) && e(lead) == e(item)
}
