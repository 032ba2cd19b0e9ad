//! Property 4 (S4): several requests in flight at the same time, sharing
//! identities (in several phone formats). Across the group each shared
//! identity is `created` at most once (exactly once when it was sent validly),
//! every `reengaged` result carries that id, the list count grows by the
//! number created, and each request's results describe its own items (read
//! back field by field).
//!
//! A failure seen here counts against S4 when its clause held in every
//! sequential request so far (a concurrency fault); otherwise it counts
//! against its own clause (a fault that shows without concurrency too).

use std::collections::{BTreeMap, HashSet};

use proptest::strategy::Strategy;

use super::bulk::Outcomes;
use super::case::CaseOutcome;
use super::{BULK_PATH, Harness, Listing};
use crate::contract::report::Clause;
use crate::contract::strategies::{Category, ConcurrencyCase, GenItem};
use crate::contract::target::Auth;
use crate::rules::{Identity, identity};

/// One result of a shared identity: request, item, action, id.
type Sighting = (usize, usize, Option<String>, Option<i64>, Category);

impl Harness<'_> {
    /// Property 4: requests in flight together (S4).
    pub(crate) fn run_concurrency(&mut self, strategy: &impl Strategy<Value = ConcurrencyCase>) {
        let cases = (self.config.cases / 4).max(4);
        self.property(strategy, cases, |h, case| {
            let mut out = h.concurrent_case(case);
            out.check(Clause::S4);
            h.attribute_to_s4(&mut out);
            out
        });
    }

    fn concurrent_case(&mut self, case: &ConcurrencyCase) -> CaseOutcome {
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
            return out;
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
        let before = self.count_before();
        let largest = batches.iter().map(Vec::len).max().unwrap_or(0);
        self.obs.largest_sent = self.obs.largest_sent.max(largest);
        let exchanges = self.send_all(
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
        // The list count grew by exactly the leads created by the group.
        if all_answered
            && let (Some(before), Listing::Available(_)) = (before, self.listing)
            && let Some((after, list_ex)) = self.refresh_count()
        {
            out.check(Clause::S2);
            let (after, list_ex) = self.settle_count(after, list_ex, |after| {
                super::count::growth_differs(before, after, &group)
            });
            let what = format!("{} requests in flight together", batches.len());
            if let Some((clause, why)) = self.judge_growth(before, after, &group, &what) {
                let mut all = evidence.clone();
                all.push(list_ex);
                out.fail_labelled(clause, "list count", why, flat.clone(), all);
            }
        } else {
            self.count_stale();
        }
        out
    }

    /// A failure under concurrency counts against S4 when its clause held in
    /// every sequential request so far.
    fn attribute_to_s4(&self, out: &mut CaseOutcome) {
        attribute(out, |c| {
            self.tallies.get(&c).is_some_and(|t| t.failed_cases == 0)
        });
    }
}

/// Moves the failures of clauses that `held` sequentially to S4 (the first
/// one becomes S4's evidence, its detail saying it was under concurrency).
fn attribute(out: &mut CaseOutcome, held: impl Fn(Clause) -> bool) {
    let mut moved = Vec::new();
    out.failures.retain(|f| {
        if f.clause != Clause::S4 && held(f.clause) {
            moved.push(f.clone());
            false
        } else {
            true
        }
    });
    for mut f in moved {
        if out.failures.iter().any(|g| g.clause == Clause::S4) {
            continue;
        }
        f.detail = format!("under concurrency, {}", f.detail);
        f.clause = Clause::S4;
        out.failures.push(f);
    }
}

fn id_text(id: Option<i64>) -> String {
    id.map_or_else(|| "none".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_of_clauses_that_held_sequentially_move_to_s4() {
        let mut out = CaseOutcome::default();
        out.fail(Clause::S2, "created again", "x".into(), &[], Vec::new());
        out.fail(Clause::B3, "read-back", "y".into(), &[], Vec::new());
        // B3 already failed sequentially: it stays B3; S2 held: it is S4's.
        attribute(&mut out, |c| c != Clause::B3);
        let got: Vec<(Clause, &str)> = out
            .failures
            .iter()
            .map(|f| (f.clause, f.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Clause::B3, "B3 read-back: y"),
                (Clause::S4, "under concurrency, S2 created again: x")
            ]
        );
        assert!(out.fails(Clause::S4) && !out.fails(Clause::S2));
    }
}
