//! The clauses evaluated on every authorised, well-formed bulk answer: T1-T3,
//! B1, B2, B3 (expected outcomes, then read-back), S1, S2 (with the list
//! count) and S3 (identities only ever refused are created when sent
//! validly), with the ledger kept up to date.

use serde_json::Value;

use super::Harness;
use super::case::{CaseOutcome, Outcomes, Res};
use super::ledger::Ledger;
use super::readback::ReadBack;
use super::text::{short, status_text};
use crate::report::Clause;
use crate::schema::{ACTIONS, check_bulk_response};
use crate::strategies::{Category, GenItem};
use crate::target::Exchange;
use sela_leads::rules::{Identity, NOT_AN_OBJECT, identity};

impl Harness<'_> {
    /// One plain case: reserves room for the batch's possible creations (else
    /// the case is skipped), posts it and checks the answer (T1-T3, B1-B3, S1-S3).
    pub(super) fn post_and_check(&mut self, items: &[GenItem]) -> CaseOutcome {
        let mut out = CaseOutcome::default();
        let n = Self::creatable(items);
        if !self.reserve(n) {
            out.skipped = true;
            return out;
        }
        let ex = self.post_batch(items);
        self.check_bulk(items, &ex, &mut out, &[], n);
        out
    }

    /// Evaluates T1-T3, B1-B3, S1-S3 on one authorised, well-formed bulk
    /// answer and updates the ledger. Returns the parsed results when B1 held.
    /// `before` are earlier exchanges of the case, shown as evidence.
    pub(super) fn check_bulk(
        &mut self,
        items: &[GenItem],
        ex: &Exchange,
        out: &mut CaseOutcome,
        before: &[Exchange],
        reserved: usize,
    ) -> Option<Vec<Res>> {
        let idents: Vec<Option<Identity>> = items.iter().map(|g| identity(&g.value)).collect();
        let evidence = |ex: &Exchange| {
            let mut v = before.to_vec();
            v.push(ex.clone());
            v
        };
        let mark_all_sent = |ledger: &mut Ledger| {
            for who in idents.iter().flatten() {
                ledger.record_sent(who.clone());
            }
        };
        // `check_bulk T1` (tests only): this answer's status not judged.
        let judge_t1 = !super::case::skips("check_bulk T1");
        if judge_t1 {
            out.check(Clause::T1);
        }
        if matches!(ex.status, Some(400 | 413)) && items.len() > self.size_limit {
            // Over the size limit found by the probe: refused as a whole (T1
            // allows it), so S3 applies: nothing of it may be stored.
            self.oversize_refused(items, ex, out);
            self.quota.refund(reserved);
            return None;
        }
        if !matches!(ex.status, Some(200 | 201)) {
            self.count.stale();
            if judge_t1 {
                out.fail(
                    Clause::T1,
                    "status",
                    format!("answered {} instead of 200 or 201", status_text(ex)),
                    items,
                    evidence(ex),
                );
            }
            mark_all_sent(&mut self.ledger);
            return None;
        }
        *self
            .obs
            .success_statuses
            .entry(ex.status.unwrap_or(0))
            .or_default() += 1;
        out.check(Clause::T2);
        if !is_json_content_type(ex.content_type.as_deref()) {
            out.fail(
                Clause::T2,
                "content type",
                format!(
                    "Content-Type is {} instead of application/json",
                    ex.content_type.as_deref().unwrap_or("missing")
                ),
                items,
                evidence(ex),
            );
        }
        out.check(Clause::T3);
        let Some(body) = ex.response_value() else {
            out.fail(
                Clause::T3,
                "body",
                format!("the body is not JSON: {}", short(&ex.response, 80)),
                items,
                evidence(ex),
            );
            mark_all_sent(&mut self.ledger);
            self.count.stale();
            return None;
        };
        if let Err(why) = check_bulk_response(&body) {
            out.fail(Clause::T3, "schema", why, items, evidence(ex));
        }
        let Some(results) = body.get("results").and_then(Value::as_array) else {
            mark_all_sent(&mut self.ledger);
            self.count.stale();
            return None;
        };
        out.check(Clause::B1);
        if results.len() != items.len() {
            self.count.stale();
            out.fail(
                Clause::B1,
                "count",
                format!("{} results for {} leads", results.len(), items.len()),
                items,
                evidence(ex),
            );
            mark_all_sent(&mut self.ledger);
            return None;
        }
        self.obs.largest_accepted = self.obs.largest_accepted.max(items.len());
        let res: Vec<Res> = results
            .iter()
            .map(|r| Res {
                action: r.get("action").and_then(Value::as_str).map(str::to_owned),
                id: r.get("id").and_then(Value::as_i64),
                error: r.get("error").and_then(Value::as_str).map(str::to_owned),
            })
            .collect();

        // B2: per-item shape (checked only when there is a result to judge).
        if !results.is_empty() {
            out.check(Clause::B2);
        }
        for (i, (r, raw)) in res.iter().zip(results).enumerate() {
            if let Some(why) = shape_problem(r, raw) {
                out.fail(
                    Clause::B2,
                    "shape",
                    format!("result {i}: {why}"),
                    items,
                    evidence(ex),
                );
                break;
            }
        }

        // B3 (expected outcomes), S1, S2, S3, in order, with the ledger
        // evolving. B3 counts as checked only where it could fail: an item
        // certainly invalid, a new valid one, or a lead read back.
        let mut tally = Outcomes::default();
        for (i, (g, r)) in items.iter().zip(&res).enumerate() {
            let action = r.action.as_deref();
            let who = idents[i].as_ref();
            let deferred = who.is_some_and(|w| self.shared.contains(w));
            match g.category {
                Category::NonObject | Category::Invalid => {
                    out.check(Clause::B3);
                    if action != Some("error") {
                        out.fail(
                            Clause::B3,
                            "expected outcome",
                            format!(
                                "item {i} is certainly invalid ({}) but result {i} is {}",
                                g.kind,
                                describe(r)
                            ),
                            items,
                            evidence(ex),
                        );
                    } else if let Some(msg) = &r.error {
                        if g.category == Category::NonObject && msg != NOT_AN_OBJECT {
                            self.obs.non_object_other_wording += 1;
                        }
                        self.obs.note_wording(g, msg);
                    }
                }
                Category::Valid => {
                    let expected = who
                        .filter(|_| !deferred)
                        .and_then(|w| self.must_be_created(w));
                    if let Some((clause, part, why)) = expected {
                        out.check(clause);
                        if action != Some("created") {
                            out.fail(
                                clause,
                                part,
                                format!(
                                    "item {i} is certainly valid and its identity {why}, but \
                                     result {i} is {}",
                                    describe(r)
                                ),
                                items,
                                evidence(ex),
                            );
                        }
                    }
                }
                Category::Maybe => {
                    let slot = match action {
                        Some("created") => 0,
                        Some("reengaged") => 1,
                        _ => 2,
                    };
                    self.obs.maybe.entry(g.kind).or_default()[slot] += 1;
                    if let Some(msg) = &r.error {
                        self.obs.note_wording(g, msg);
                    }
                }
            }
            if let Some(first) = who.and_then(|w| self.ledger.created_id(w))
                && !deferred
            {
                out.check(Clause::S2);
                if action == Some("created") {
                    out.fail(
                        Clause::S2,
                        "created again",
                        format!(
                            "item {i}'s identity was created before (id {first}) but is \
                             created again (id {}){}",
                            r.id.map_or("none".into(), |v| v.to_string()),
                            format_note(&g.value)
                        ),
                        items,
                        evidence(ex),
                    );
                } else if action == Some("reengaged") && r.id != Some(first) {
                    out.fail(
                        Clause::S2,
                        "reengaged id",
                        format!(
                            "item {i} is reengaged with id {} but its identity's lead is {first}",
                            r.id.map_or("none".into(), |v| v.to_string())
                        ),
                        items,
                        evidence(ex),
                    );
                }
            }
            match action {
                Some("created") => {
                    tally.created += 1;
                    if let Some(id) = r.id {
                        out.check(Clause::S1);
                        if self.ledger.id_taken(id) {
                            out.fail(
                                Clause::S1,
                                "id reused",
                                format!(
                                    "result {i} is created with id {id}, already given to an \
                                     earlier created lead"
                                ),
                                items,
                                evidence(ex),
                            );
                        }
                        self.ledger.record_created(who.cloned(), id);
                    } else if let Some(who) = who {
                        // No usable id (B2 says so): the identity was still sent
                        // and may be stored, so it is no longer new.
                        self.ledger.record_sent(who.clone());
                    }
                }
                Some("error") => {
                    tally.errors += 1;
                    if let Some(who) = who {
                        self.ledger.record_refused(who.clone());
                    }
                }
                _ => {
                    tally.reengaged += 1;
                    if let Some(who) = who {
                        self.ledger.record_sent(who.clone());
                    }
                }
            }
        }
        self.quota.created += tally.created;
        self.quota.refund(reserved.saturating_sub(tally.created));
        if !self.concurrent {
            let count_path = self.count.to_check();
            self.readback
                .prefetch_after_batch(&mut self.net, &res, count_path);
            self.check_count(&tally, items, &evidence(ex), out);
        }
        if self.readback.state != ReadBack::Unavailable {
            self.readback.read_back(
                &mut self.net,
                &mut self.waits,
                &self.shared,
                items,
                &res,
                ex,
                out,
            );
        }
        // Whatever was read ahead and not taken is of no later use.
        self.net.drop_prefetched();
        Some(res)
    }
}

impl Harness<'_> {
    /// Why a certainly valid item with this identity must be `created`, if it
    /// must: never sent before (B3), or only ever refused (S3). Clause, part
    /// and reason.
    fn must_be_created(&self, who: &Identity) -> Option<(Clause, &'static str, &'static str)> {
        if self.ledger.created_id(who).is_some() {
            None
        } else if self.ledger.only_refused(who) {
            Some((
                Clause::S3,
                "later creation",
                "was only sent before in refused requests or items answered error",
            ))
        } else if !self.ledger.was_sent(who) {
            Some((Clause::B3, "expected outcome", "was never sent before"))
        } else {
            None
        }
    }
}

/// ` (sent as "(804) 555-0123")` when the item's number is not in E.164: the
/// sign of a server that deduplicates on the text as sent.
fn format_note(item: &Value) -> String {
    match item.get("phone_number").and_then(Value::as_str) {
        Some(p) if !p.starts_with('+') || p.contains(' ') => {
            format!(" (its number sent as {p:?}: one identity in any US format)")
        }
        _ => String::new(),
    }
}

/// What is wrong with one result's shape (B2), if anything.
fn shape_problem(r: &Res, raw: &Value) -> Option<String> {
    let id = raw.get("id");
    let id_null = matches!(id, None | Some(Value::Null));
    match r.action.as_deref() {
        Some("error") => {
            if !id_null {
                return Some(format!(
                    "action error with id {}",
                    id.unwrap_or(&Value::Null)
                ));
            }
            match &r.error {
                Some(e) if !e.trim().is_empty() => None,
                _ => Some("action error without an error message".to_owned()),
            }
        }
        Some(a @ ("created" | "reengaged")) => {
            if r.id.is_none() {
                return Some(format!(
                    "action {a} with id {} instead of an integer",
                    id.unwrap_or(&Value::Null)
                ));
            }
            match raw.get("error") {
                None | Some(Value::Null) => None,
                Some(e) => Some(format!("action {a} with error {e}")),
            }
        }
        _ => Some(format!(
            "action {} is not one of {ACTIONS:?}",
            raw.get("action").unwrap_or(&Value::Null)
        )),
    }
}

fn is_json_content_type(ct: Option<&str>) -> bool {
    ct.and_then(|c| c.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

fn describe(r: &Res) -> String {
    match (r.action.as_deref(), r.id, &r.error) {
        (Some(a), Some(id), _) => format!("{a} (id {id})"),
        (Some(a), None, Some(e)) => format!("{a} ({:?})", short(e, 60)),
        (Some(a), None, None) => a.to_owned(),
        (None, _, _) => "without an action".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn b2_shapes() {
        let res = |v: Value| Res {
            action: v.get("action").and_then(Value::as_str).map(str::to_owned),
            id: v.get("id").and_then(Value::as_i64),
            error: v.get("error").and_then(Value::as_str).map(str::to_owned),
        };
        for ok in [
            json!({"id": 1, "action": "created"}),
            json!({"id": 1, "action": "reengaged", "error": null}),
            json!({"id": null, "action": "error", "error": "x"}),
            json!({"action": "error", "error": "x"}),
        ] {
            assert_eq!(shape_problem(&res(ok.clone()), &ok), None, "{ok}");
        }
        for bad in [
            json!({"id": 1, "action": "error", "error": "x"}),
            json!({"id": null, "action": "error", "error": ""}),
            json!({"id": null, "action": "error"}),
            json!({"id": null, "action": "created"}),
            json!({"id": 2, "action": "created", "error": "x"}),
            json!({"id": 2, "action": "made"}),
        ] {
            assert!(shape_problem(&res(bad.clone()), &bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type(Some(
            "application/json; charset=utf-8"
        )));
        assert!(!is_json_content_type(Some("text/plain")));
    }
}
