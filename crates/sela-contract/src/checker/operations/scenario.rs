//! One generated walk of a new lead through every operation (C1, R1, R2, U1,
//! U2, U3, G1, B5), each answer and each read checked against what the
//! clauses assert; where the contract leaves a choice (re-engaged or refused,
//! 200 or 201, metadata merged or replaced) the walk follows the target.

use serde_json::{Value, json};

use super::fidelity::{self, challenges};
use super::reads::Read;
use super::walk::{Walk, same_identity, stale_detail, starts_at_zero, unchanged};
use super::{LEADS_PATH, Scenario, counter, lead_path, ok_body, reengaged_at, refused};
use crate::checker::Harness;
use crate::checker::case::CaseOutcome;
use crate::report::Clause;
use crate::strategies::{Category, GenItem, PhoneForm};
use crate::target::Auth;
use sela_leads::rules::identity;

/// Leads one walk may create on a faulty target (counted against
/// `--max-created`).
const WALK_CREATES: usize = 10;

impl Harness<'_> {
    /// One walk (see the module doc).
    pub(super) fn walk(&mut self, sc: &Scenario) -> CaseOutcome {
        let mut w = Walk::default();
        if !self.reserve(WALK_CREATES) {
            w.out.skipped = true;
            return w.out;
        }
        self.walk_steps(sc, &mut w);
        w.out
    }

    fn walk_steps(&mut self, sc: &Scenario, w: &mut Walk) -> Option<()> {
        let (phone, email) = self.ids.fresh_pair();
        let (_, email_h) = self.ids.fresh_pair();
        let (meta, time) = challenges()[sc.fidelity % challenges().len()].clone();
        let ext = format!("op-{}", email.split('@').next().unwrap_or("x"));
        let item_a = json!({
            "phone_number": phone, "email": email, "external_id": ext,
            "lead_source": "contract-harness ✓", "us_state": "CA",
            "metadata": meta, "call_schedule_start_time": time,
        });

        // C1: a new identity is created once, and the count grows by one.
        let (a_id, a_lead) = self.create_new(w, &item_a)?;
        let mut a_count = counter(&a_lead);

        // C1, R1: re-sends of the known identity create nothing; each
        // re-engagement adds one (concurrent ones too).
        let national = &phone[2..];
        let resend = json!({"phone_number": sc.resend_form.write(national), "email": email});
        let again = self.resend_single(w, &resend, a_id, sc.concurrent);
        let a_lead = self.expect_counter(w, a_id, &mut a_count, again, a_lead);

        // C1: a certainly invalid item is refused with 400 and stores nothing.
        self.create_invalid(w);

        // The household neighbour: same phone, another e-mail; a new identity.
        let (_, h_time) = challenges()[(sc.fidelity + 1) % challenges().len()].clone();
        let item_h = json!({
            "phone_number": PhoneForm::Dashed.write(national), "email": email_h,
            "external_id": format!("{ext}-h"), "metadata": {"first_name": "Ada 😀", "loan_rate": 7.1},
            "call_schedule_start_time": h_time,
        });
        let (h_id, h_lead) = self.create_new(w, &item_h)?;
        let h_resend = json!({"phone_number": phone, "email": email_h});
        let mut h_count = counter(&h_lead);
        let again = self.resend_single(w, &h_resend, h_id, 1);
        let h_lead = self.expect_counter(w, h_id, &mut h_count, again, h_lead);

        // U2: PUT by phone and e-mail changes A, not the neighbour H.
        // After a failed step the walk goes on from the lead as it is now
        // (the listing's view first, since a failing read may be stale).
        let a_lead = match self.put_match(w, (a_id, &a_lead), &phone, &email, h_id, &h_lead) {
            Some(l) => l,
            None => self.current(w, a_id)?,
        };

        // U1: PATCH is partial; unknown id 404; invalid value 400.
        let a_lead = match self.patch_partial(w, a_id, &sc.patch, &ext, a_lead) {
            Some(l) => l,
            None => self.current(w, a_id)?,
        };

        // R2: the flag set true survives a re-engagement by single create.
        let a_lead = match self.dnc_survives(w, sc, a_id, &resend, &mut a_count, a_lead) {
            Some(l) => l,
            None => {
                a_count = None;
                self.current(w, a_id)?
            }
        };

        // U3: moving H's identity; judged only where single creates
        // deduplicated in this walk (else the target's identity rule is not
        // one the model can follow).
        if !w.dedup_broken {
            let ex = self.call(&mut w.log, "GET", &lead_path(h_id), Auth::Token, None);
            let h_lead = super::reads::lead_of(&ex).unwrap_or(h_lead);
            self.move_identity(w, sc, h_id, &phone, &email_h, h_lead);
        }

        // G1: a later read never answers an older state.
        let ex = self.call(&mut w.log, "GET", &lead_path(a_id), Auth::Token, None);
        w.out.check(Clause::G1);
        match super::reads::lead_of(&ex) {
            Some(l) if unchanged(&a_lead, &l, &[]).is_none() => {}
            got => w.fail(
                Clause::G1,
                "keeps showing",
                format!(
                    "lead {a_id} read earlier showed the walk's writes, a later read {}",
                    got.map_or_else(
                        || format!("answered {}", ex.status.unwrap_or(0)),
                        |l| unchanged(&a_lead, &l, &[]).unwrap_or_default()
                    )
                ),
            ),
        }

        // Last, by bulk (a broken bulk endpoint cannot hide the checks above):
        // A re-sent (S2 across endpoints; R2 when its flag is set), and a new
        // identity K created by bulk, then sent by single create (C1).
        let (k_phone, k_email) = self.ids.fresh_pair();
        let k_item = json!({"phone_number": k_phone, "email": k_email});
        let res = self.bulk(w, vec![resend.clone(), k_item.clone()])?;
        if !w.out.failures.is_empty() {
            return None;
        }
        if res[0].0.as_deref() == Some("reengaged") {
            // R2 (and R1) count only once a read judged them: an unreadable
            // lead proves nothing.
            let flag = sc.flag;
            let want = a_count.map(|c| c + 1);
            match self.read_lead(&mut w.log, Clause::R2, a_id, Auth::Token, |l| {
                l.get(flag) == Some(&Value::Bool(true)) && (want.is_none() || counter(l) == want)
            }) {
                Read::Unreadable => {}
                Read::Agrees(_) => {
                    w.out.check(Clause::R2);
                    if want.is_some() {
                        w.out.check(Clause::R1);
                    }
                }
                Read::Stale(_) => {
                    w.fail(Clause::G1, "fresh", stale_detail(a_id, "its re-engagement"))
                }
                Read::Differs(l, _) => {
                    let l = l.unwrap_or(Value::Null);
                    if l.get(flag) != Some(&Value::Bool(true)) {
                        w.fail(
                            Clause::R2,
                            "keeps do-not-contact",
                            format!(
                                "lead {a_id} had {flag} set true; after a bulk re-engagement of an \
                                 item that does not mention it, it reads back {flag} {}",
                                l.get(flag).unwrap_or(&Value::Null)
                            ),
                        );
                    } else {
                        // The flag was kept: R2 judged and held.
                        w.out.check(Clause::R2);
                        w.out.check(Clause::R1);
                        w.fail(
                            Clause::R1,
                            "counter",
                            format!(
                                "lead {a_id} was answered reengaged by bulk but its counter reads \
                                 {} (expected {})",
                                counter(&l).map_or("none".to_owned(), |c| c.to_string()),
                                want.map_or("none".to_owned(), |c| c.to_string())
                            ),
                        );
                    }
                }
            }
        }
        if let (Some("created"), Some(k_id)) = (res[1].0.as_deref(), res[1].1) {
            self.resend_single(w, &k_item, k_id, 1);
        }
        Some(())
    }

    /// Lead `id` as it is now: as the listing shows it, else as read.
    pub(super) fn current(&mut self, w: &mut Walk, id: i64) -> Option<Value> {
        if let Some(l) = self.find_listed(&mut w.log, id, Auth::Token) {
            return Some(l);
        }
        let ex = self.call(&mut w.log, "GET", &lead_path(id), Auth::Token, None);
        super::reads::lead_of(&ex)
    }

    /// POST /api/leads/ with a new identity: created (200/201 with the lead),
    /// the count grows by one; the lead reads back with its fields (B5) and
    /// a re-engagement counter of 0 (R1).
    pub(super) fn create_new(&mut self, w: &mut Walk, item: &Value) -> Option<(i64, Value)> {
        let before = self.baseline();
        let ex = self.call(&mut w.log, "POST", LEADS_PATH, Auth::Token, Some(item));
        w.out.check(Clause::C1);
        let body = ok_body(&ex);
        let id = body
            .as_ref()
            .and_then(|b| b.get("id"))
            .and_then(Value::as_i64);
        let Some(id) = id.filter(|_| body.as_ref().is_some_and(|b| same_identity(b, item))) else {
            self.count.stale();
            w.fail(
                Clause::C1,
                "new identity",
                format!(
                    "a certainly valid item of a new identity was answered {} {}, not 200/201 \
                     with the stored lead (its id, phone and e-mail)",
                    ex.status.unwrap_or(0),
                    crate::checker::text::short(&ex.response, 160)
                ),
            );
            return None;
        };
        self.quota.created += 1;
        self.ledger.record_created(identity(item), id);
        self.prefetch_count_and_lead(before, id);
        self.expect_count(
            w,
            before,
            1,
            Clause::C1,
            "a single create of a new identity",
        );
        let lead = self.read_as(w, id, Clause::C1, "read-back", |l| same_identity(l, item))?;
        self.check_fidelity(w, item, &lead);
        if !starts_at_zero(w, id, &lead) {
            self.obs_ops().no_counter += 1;
        }
        Some((id, lead))
    }

    /// B5 on a lead read back: exactly what was sent.
    pub(super) fn check_fidelity(&mut self, w: &mut Walk, sent: &Value, lead: &Value) {
        let f = fidelity::compare(sent, lead);
        w.out.check(Clause::B5);
        let o = self.obs_ops();
        o.huge.0 += f.huge.0;
        o.huge.1 += f.huge.1;
        if let Some(why) = f.mismatch {
            let id = lead.get("id").cloned().unwrap_or(Value::Null);
            w.fail(Clause::B5, "fidelity", format!("lead {id}: {why}"));
        }
    }

    /// Reads the list count (when [`Harness::expect_count`] will, from
    /// `before`) and lead `id` together, for the two checks that follow a
    /// write to take (one round trip instead of two).
    pub(super) fn prefetch_count_and_lead(&mut self, before: Option<u64>, id: i64) {
        if let (Some(_), Some(count)) = (before, self.count.to_check()) {
            self.net.prefetch(vec![count.to_owned(), lead_path(id)]);
        }
    }

    /// The list count grew by `grew` since `before` (within the settle
    /// window), else `clause` fails.
    pub(super) fn expect_count(
        &mut self,
        w: &mut Walk,
        before: Option<u64>,
        grew: u64,
        clause: Clause,
        what: &str,
    ) {
        // In a lane the count is judged over the wave.
        if self.count.claim(
            grew,
            w.log.last().map(std::slice::from_ref).unwrap_or_default(),
        ) {
            return;
        }
        let Some(before) = before else { return };
        let Some((after, ex)) = self.refresh_count() else {
            return;
        };
        let want = before + grew;
        let failed = (clause, w.out.fails(clause));
        let (after, ex) = self.settle_count(failed, after, ex, |n| n != want);
        w.log.push(ex);
        if after != want
            && !self
                .count
                .unsure_excess(&mut self.waits, clause, after, want)
        {
            self.count.off += 1;
            w.fail(
                clause,
                "list count",
                format!(
                    "the list count went from {before} to {after} over {what}: it must grow by \
                     exactly {grew}"
                ),
            );
        }
    }

    /// Sends `n` single creates of a known identity at once: each must answer
    /// that lead (its id) or refuse the item, and the count must not grow.
    /// Returns how many were answered with the lead (re-engagements), or
    /// `None` when one was refused (its effect on the counter is not asserted).
    pub(super) fn resend_single(
        &mut self,
        w: &mut Walk,
        item: &Value,
        id: i64,
        n: usize,
    ) -> Option<i64> {
        let before = self.baseline();
        let body = item.to_string();
        // Sent as a group (marked `x-sela-group`), so the re-sends meet at
        // the server.
        let (answers, _) = self.net.send_grouped(
            (0..n.max(1))
                .map(|_| {
                    (
                        "POST",
                        LEADS_PATH.to_owned(),
                        Auth::Token,
                        Some(body.clone()),
                    )
                })
                .collect(),
        );
        w.log.extend(answers.iter().cloned());
        w.out.check(Clause::C1);
        let mut reengaged = 0;
        let mut any_refused = false;
        for ex in &answers {
            match ok_body(ex) {
                Some(b) if b.get("id").and_then(Value::as_i64) == Some(id) => reengaged += 1,
                Some(b) => {
                    let other = b.get("id").and_then(Value::as_i64);
                    if let Some(other) = other {
                        self.quota.created += 1;
                        self.ledger.ids.insert(other);
                    }
                    w.dedup_broken = true;
                    w.fail(
                        Clause::C1,
                        "known identity",
                        format!(
                            "a single create of the identity of lead {id} was answered {} with \
                             id {}: a known identity must answer its lead or be refused",
                            ex.status.unwrap_or(0),
                            other.map_or("none".to_owned(), |o| o.to_string())
                        ),
                    );
                }
                None if refused(ex) => any_refused = true,
                None => w.fail(
                    Clause::C1,
                    "known identity",
                    format!(
                        "a single create of a known identity was answered {}",
                        ex.status.unwrap_or(0)
                    ),
                ),
            }
        }
        self.prefetch_count_and_lead(before, id);
        self.expect_count(
            w,
            before,
            0,
            Clause::C1,
            "single creates of a known identity",
        );
        (!any_refused).then_some(reengaged)
    }

    /// R1 after `added` re-engagements of lead `id`: its counter is `count +
    /// added` and its re-engagement time is set. Returns the lead as read.
    fn expect_counter(
        &mut self,
        w: &mut Walk,
        id: i64,
        count: &mut Option<i64>,
        added: Option<i64>,
        lead: Value,
    ) -> Value {
        let Some(before) = *count else { return lead };
        let Some(added) = added else {
            // A refusal may or may not touch the counter: follow the target.
            let ex = self.call(&mut w.log, "GET", &lead_path(id), Auth::Token, None);
            let now = super::reads::lead_of(&ex);
            *count = now.as_ref().and_then(counter);
            return now.unwrap_or(lead);
        };
        let want = before + added;
        *count = Some(want);
        if added == 0 {
            return lead;
        }
        // R1 counts only once a read judged it: an unreadable lead proves
        // nothing.
        let ok = |l: &Value| counter(l) == Some(want) && reengaged_at(l).is_some();
        match self.read_lead(&mut w.log, Clause::R1, id, Auth::Token, ok) {
            Read::Unreadable => {
                *count = None;
                lead
            }
            Read::Agrees(l) => {
                w.out.check(Clause::R1);
                w.out.check(Clause::G1);
                l
            }
            Read::Stale(_) => {
                w.fail(Clause::G1, "fresh", stale_detail(id, "its re-engagement"));
                lead
            }
            Read::Differs(l, _) => {
                let got = l.as_ref().and_then(counter);
                let at = l.as_ref().and_then(reengaged_at).map(str::to_owned);
                w.fail(
                    Clause::R1,
                    "counter",
                    format!(
                        "lead {id} was answered as re-engaged {added} time(s) with counter \
                         {before} before, but reads back counter {} and re-engagement time {}",
                        got.map_or("none".to_owned(), |c| c.to_string()),
                        at.unwrap_or_else(|| "none".to_owned())
                    ),
                );
                l.unwrap_or(lead)
            }
        }
    }

    /// C1: a certainly invalid item is answered 400 and stores nothing.
    fn create_invalid(&mut self, w: &mut Walk) {
        let (_, email) = self.ids.fresh_pair();
        let before = self.baseline();
        let item = json!({"phone_number": "not-a-phone", "email": email});
        let ex = self.call(&mut w.log, "POST", LEADS_PATH, Auth::Token, Some(&item));
        w.out.check(Clause::C1);
        if ex.status != Some(400) {
            if ok_body(&ex).is_some() {
                self.quota.created += 1;
            }
            w.fail(
                Clause::C1,
                "invalid item",
                format!(
                    "a certainly invalid item (phone_number \"not-a-phone\") was answered {}, \
                     not 400",
                    ex.status.unwrap_or(0)
                ),
            );
        }
        self.expect_count(w, before, 0, Clause::C1, "a refused single create");
    }

    /// Posts certainly valid items as one bulk request, checked as every bulk
    /// answer is; returns each result's action and id.
    pub(super) fn bulk(
        &mut self,
        w: &mut Walk,
        items: Vec<Value>,
    ) -> Option<Vec<(Option<String>, Option<i64>)>> {
        let items: Vec<GenItem> = items
            .into_iter()
            .map(|value| GenItem {
                category: Category::Valid,
                kind: "valid",
                value,
            })
            .collect();
        // The walk reserved its possible creations already.
        let ex = self.post_batch(&items);
        w.log.push(ex.clone());
        let res = self.check_bulk(&items, &ex, &mut w.out, &[], 0)?;
        Some(res.into_iter().map(|r| (r.action, r.id)).collect())
    }

    /// Reads lead `id` until `agrees`; a lost write fails `clause`, a stale
    /// read G1.
    pub(super) fn read_as(
        &mut self,
        w: &mut Walk,
        id: i64,
        clause: Clause,
        part: &str,
        agrees: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        match self.read_lead(&mut w.log, clause, id, Auth::Token, agrees) {
            Read::Unreadable => None,
            Read::Agrees(l) => {
                w.out.check(clause);
                w.out.check(Clause::G1);
                Some(l)
            }
            Read::Stale(listed) => {
                w.fail(Clause::G1, "fresh", stale_detail(id, "the write"));
                Some(listed)
            }
            Read::Differs(_, ex) => {
                w.fail(
                    clause,
                    part,
                    format!(
                        "lead {id} does not read back as written (answered {})",
                        ex.status.unwrap_or(0)
                    ),
                );
                None
            }
        }
    }
}
