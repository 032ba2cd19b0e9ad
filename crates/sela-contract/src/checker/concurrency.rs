//! Property 4 (S4): several requests in flight at the same time, sharing
//! identities (in several phone formats). Across the group each shared
//! identity is `created` at most once (exactly once when it was sent validly),
//! every `reengaged` result carries that id, the list count grows by the
//! number created, and each request's results describe its own items (read
//! back field by field).
//!
//! Every failure seen here counts against its own clause. S4 has its own
//! verdict from the cases with two or more requests answered together: it
//! fails when such a case broke a clause that held in every sequential case
//! (a fault that shows only under concurrency), and holds otherwise.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use proptest::strategy::Strategy;

use super::case::CaseOutcome;
use super::case::Outcomes;
use super::count::Listing;
use super::waves::Sides;
use super::{BULK_PATH, Harness};
use crate::report::Clause;
use crate::strategies::{Category, ConcurrencyCase, GenItem};
use crate::target::Auth;
use sela_leads::rules::{Identity, identity};

/// One result of a shared identity: request, item, action, id.
type Sighting = (usize, usize, Option<String>, Option<i64>, Category);

impl Harness<'_> {
    /// Property 4: requests in flight together (S4).
    pub(crate) fn run_concurrency(&mut self, strategy: &impl Strategy<Value = ConcurrencyCase>) {
        let cases = (self.config.cases / 4).max(4);
        // The clauses that sequential cases checked and that held in every
        // one: a failure of one of them under concurrency is a concurrency
        // fault.
        let held: BTreeSet<Clause> = self
            .tallies
            .iter()
            .filter(|(_, t)| t.cases > 0 && t.failed_cases == 0)
            .map(|(c, _)| *c)
            .collect();
        self.cases(strategy, cases, Sides::Lanes, move |h, case| {
            let (mut out, answered) = h.concurrent_case(case);
            // S4 is checked only by a case with at least two requests
            // answered in flight together.
            if answered >= 2 {
                judge_s4(&mut out, |c| held.contains(&c));
            }
            out
        });
    }

    /// One concurrent case: its outcome and how many of its requests were
    /// answered (with any status) while in flight together.
    fn concurrent_case(&mut self, case: &ConcurrencyCase) -> (CaseOutcome, usize) {
        let mut out = CaseOutcome::default();
        // One render, so that a fresh slot is one identity across requests.
        let all: Vec<_> = case.requests.iter().flatten().cloned().collect();
        let rendered = self.ids.render(&all);
        let mut batches: Vec<Vec<GenItem>> = Vec::new();
        let mut at = 0;
        for r in &case.requests {
            batches.push(rendered[at..at + r.len()].to_vec());
            at += r.len();
        }
        let creatable: Vec<usize> = batches.iter().map(|b| Self::creatable(b)).collect();
        if !self.reserve(creatable.iter().sum()) {
            out.skipped = true;
            return (out, 0);
        }
        let mut seen_in: BTreeMap<Identity, HashSet<usize>> = BTreeMap::new();
        for (r, b) in batches.iter().enumerate() {
            for g in b {
                if let Some(who) = identity(&g.value) {
                    seen_in.entry(who).or_default().insert(r);
                }
            }
        }
        let shared: HashSet<Identity> = seen_in
            .into_iter()
            .filter(|(who, rs)| rs.len() > 1 && self.ledger.created_id(who).is_none())
            .map(|(who, _)| who)
            .collect();
        let before = self.baseline();
        let largest = batches.iter().map(Vec::len).max().unwrap_or(0);
        self.obs.largest_sent = self.obs.largest_sent.max(largest);
        // Sent as a group (marked `x-sela-group`, last bytes released
        // together over plain http), so the requests meet at the server.
        let (exchanges, together) = self.net.send_grouped(
            batches
                .iter()
                .map(|b| {
                    (
                        "POST",
                        BULK_PATH.to_owned(),
                        Auth::Token,
                        Some(Self::bulk_body(b)),
                    )
                })
                .collect(),
        );
        self.concurrent = true;
        self.shared = shared.clone();
        let mut sightings: BTreeMap<Identity, Vec<Sighting>> = BTreeMap::new();
        let mut group = Outcomes::default();
        let mut all_answered = true;
        for (r, (b, ex)) in batches.iter().zip(&exchanges).enumerate() {
            let Some(res) = self.check_bulk(b, ex, &mut out, &[], creatable[r]) else {
                all_answered = false;
                continue;
            };
            for (i, (g, res)) in b.iter().zip(res).enumerate() {
                match res.action.as_deref() {
                    Some("created") => group.created += 1,
                    Some("error") => group.errors += 1,
                    _ => group.reengaged += 1,
                }
                if let Some(who) = identity(&g.value).filter(|w| shared.contains(w)) {
                    sightings
                        .entry(who)
                        .or_default()
                        .push((r, i, res.action, res.id, g.category));
                }
            }
        }
        self.concurrent = false;
        self.shared.clear();
        let evidence = exchanges.clone();
        let flat: Vec<(String, serde_json::Value)> = batches
            .iter()
            .enumerate()
            .flat_map(|(r, b)| {
                b.iter().map(move |g| {
                    (
                        format!("request {r}: {} ({})", g.category, g.kind),
                        g.value.clone(),
                    )
                })
            })
            .collect();
        for (who, seen) in &sightings {
            let created: Vec<&Sighting> = seen
                .iter()
                .filter(|s| s.2.as_deref() == Some("created"))
                .collect();
            out.check(Clause::S2);
            if created.len() > 1 {
                let at: Vec<String> = created
                    .iter()
                    .map(|s| format!("request {} item {} (id {})", s.0, s.1, id_text(s.3)))
                    .collect();
                out.fail_labelled(
                    Clause::S2,
                    "created twice in flight",
                    format!(
                        "identity {} sent in requests in flight together was created {} times: {}",
                        who.phone,
                        created.len(),
                        at.join(", ")
                    ),
                    flat.clone(),
                    evidence.clone(),
                );
                continue;
            }
            let Some(first) = created.first() else {
                let valid = seen.iter().any(|s| s.4 == Category::Valid);
                if valid && all_answered {
                    out.fail_labelled(
                        Clause::B3,
                        "created by none",
                        format!(
                            "identity {} was new and sent validly in requests in flight \
                             together, but none of them created it",
                            who.phone
                        ),
                        flat.clone(),
                        evidence.clone(),
                    );
                }
                continue;
            };
            for s in seen {
                if s.2.as_deref() == Some("reengaged") && s.3 != first.3 {
                    out.fail_labelled(
                        Clause::S2,
                        "reengaged id",
                        format!(
                            "request {} item {} is reengaged with id {}, but its identity was \
                             created with id {} by request {}",
                            s.0,
                            s.1,
                            id_text(s.3),
                            id_text(first.3),
                            first.0
                        ),
                        flat.clone(),
                        evidence.clone(),
                    );
                }
            }
        }
        // The list count grew by exactly the leads created by the group (in
        // a lane: over the wave).
        if all_answered && self.count.in_lane() {
            let items: Vec<GenItem> = batches.iter().flatten().cloned().collect();
            self.count.note(group, &items, &evidence);
        } else if all_answered
            && let (Some(before), Listing::Available(_)) = (before, self.count.listing)
            && let Some((after, list_ex)) = self.refresh_count()
        {
            out.check(Clause::S2);
            let failed = (Clause::S2, out.fails(Clause::S2));
            let (after, list_ex) = self.settle_count(failed, after, list_ex, |after| {
                super::count::growth_differs(before, after, &group)
            });
            let what = format!("{} requests in flight together", batches.len());
            if group.errors > 0 {
                out.check(Clause::S3);
            }
            let verdicts = super::count::judge_growth(before, after, &group, &what);
            self.count.off += u32::from(!verdicts.is_empty());
            for (clause, why) in verdicts {
                let mut all = evidence.clone();
                all.push(list_ex.clone());
                out.fail_labelled(clause, "list count", why, flat.clone(), all);
            }
        } else {
            self.count.stale();
        }
        // In flight together and served: the race could happen, whether or
        // not the answers could be matched to the items (a request answered
        // with another request's results fails B1 and is still one of them).
        (out, together)
    }
}

/// S4's own verdict on a concurrent case: it fails when the case broke a
/// clause that `held` in every sequential case (a fault that shows only under
/// concurrency), its detail saying which; the failure stays its own clause's
/// too. Failures of clauses that already failed sequentially say nothing of
/// concurrency: S4 holds in them. A case that judged no clause that `held`
/// could not have failed S4: it does not count for S4 at all.
fn judge_s4(out: &mut CaseOutcome, held: impl Fn(Clause) -> bool) {
    if !out.checked.iter().any(|c| *c != Clause::S4 && held(*c)) {
        return;
    }
    out.check(Clause::S4);
    let first = out
        .failures
        .iter()
        .find(|f| f.clause != Clause::S4 && held(f.clause))
        .cloned();
    if let Some(f) = first {
        let also: Vec<&str> = out
            .failures
            .iter()
            .filter(|g| g.clause != Clause::S4 && held(g.clause))
            .map(|g| g.clause.id())
            .collect();
        out.fail_labelled(
            Clause::S4,
            "in flight together",
            format!(
                "requests in flight together broke {} (which held one request at a time): {}",
                also.join(", "),
                f.detail
            ),
            f.batch,
            f.exchanges,
        );
    }
}

fn id_text(id: Option<i64>) -> String {
    id.map_or_else(|| "none".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s4_fails_for_clauses_that_held_sequentially_and_they_fail_too() {
        let mut out = CaseOutcome::default();
        out.fail(Clause::S2, "created again", "x".into(), &[], Vec::new());
        out.fail(Clause::B3, "read-back", "y".into(), &[], Vec::new());
        // B3 already failed sequentially; S2 held: S4 fails, naming S2.
        judge_s4(&mut out, |c| c != Clause::B3);
        let got: Vec<(Clause, &str)> = out
            .failures
            .iter()
            .map(|f| (f.clause, f.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Clause::S2, "S2 created again: x"),
                (Clause::B3, "B3 read-back: y"),
                (
                    Clause::S4,
                    "S4 in flight together: requests in flight together broke S2 (which held \
                     one request at a time): S2 created again: x"
                )
            ]
        );
        // A failure of a clause that already failed, among clauses that
        // held: S4 checked and held.
        let mut out = CaseOutcome::default();
        out.fail(Clause::B3, "read-back", "y".into(), &[], Vec::new());
        out.check(Clause::S2);
        judge_s4(&mut out, |c| c != Clause::B3);
        assert!(out.checked.contains(&Clause::S4) && !out.fails(Clause::S4));
    }

    #[test]
    fn s4_is_not_counted_by_a_case_that_judged_no_clause_that_held() {
        // Only a clause that already failed one request at a time: nothing
        // in this case could have failed S4.
        let mut out = CaseOutcome::default();
        out.fail(Clause::B3, "read-back", "y".into(), &[], Vec::new());
        judge_s4(&mut out, |c| c != Clause::B3);
        assert!(!out.checked.contains(&Clause::S4));
        // Nothing judged at all (every request unanswered): the same.
        let mut out = CaseOutcome::default();
        judge_s4(&mut out, |_| true);
        assert!(!out.checked.contains(&Clause::S4));
    }
}
