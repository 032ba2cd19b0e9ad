//! One test case's outcome (clauses checked and failed) and the property runner
//! that draws cases, tallies them per clause and shrinks each new failure.

use std::collections::BTreeSet;

use proptest::strategy::{Strategy, ValueTree};

use super::Harness;
use crate::contract::report::{Clause, Failure};
use crate::contract::strategies::GenItem;
use crate::contract::target::Exchange;

/// One parsed result of a bulk answer.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Res {
    pub(super) action: Option<String>,
    pub(super) id: Option<i64>,
    pub(super) error: Option<String>,
}

/// What one test case checked and which clauses failed in it.
#[derive(Debug, Default)]
pub(super) struct CaseOutcome {
    pub(super) checked: BTreeSet<Clause>,
    pub(super) failures: Vec<Failure>,
    pub(super) skipped: bool,
}

impl CaseOutcome {
    pub(super) fn check(&mut self, c: Clause) {
        self.checked.insert(c);
    }

    pub(super) fn fail(
        &mut self,
        clause: Clause,
        detail: String,
        batch: &[GenItem],
        exchanges: Vec<Exchange>,
    ) {
        self.checked.insert(clause);
        // One failure per clause and case is enough evidence.
        if self.failures.iter().any(|f| f.clause == clause) {
            return;
        }
        self.failures.push(Failure {
            clause,
            detail,
            batch: batch
                .iter()
                .map(|g| (format!("{} ({})", g.category, g.kind), g.value.clone()))
                .collect(),
            exchanges,
        });
    }

    pub(super) fn fails(&self, c: Clause) -> bool {
        self.failures.iter().any(|f| f.clause == c)
    }
}

#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) cases: u32,
    pub(super) failed_cases: u32,
    pub(super) failure: Option<Failure>,
}

impl Harness<'_> {
    /// Runs `exec` on `cases` generated values, shrinking each new failure.
    pub(super) fn property<S: Strategy>(
        &mut self,
        strategy: &S,
        exec: impl Fn(&mut Self, &S::Value) -> CaseOutcome,
    ) {
        // Each property gets an equal share of what is left of the cap.
        let left = self.properties_left.max(1);
        self.properties_left = left - 1;
        let room = self.config.max_created.saturating_sub(self.budget_used);
        self.share_limit = self.budget_used + room / left;
        self.exhausted = self.lost.is_some();
        for _ in 0..self.config.cases {
            if self.exhausted {
                self.obs.skipped += 1;
                continue;
            }
            let Ok(mut tree) = strategy.new_tree(&mut self.runner) else {
                continue;
            };
            let outcome = exec(self, &tree.current());
            if outcome.skipped {
                self.obs.skipped += 1;
                continue;
            }
            self.cases_run += 1;
            for c in &outcome.checked {
                let t = self.tallies.get_mut(c).expect("every clause has a tally");
                t.cases += 1;
                if outcome.fails(*c) {
                    t.failed_cases += 1;
                }
            }
            let mut new: Vec<Clause> = Vec::new();
            for f in outcome.failures {
                let t = self.tallies.get_mut(&f.clause).expect("tally");
                if t.failure.is_none() {
                    new.push(f.clause);
                    t.failure = Some(f);
                }
            }
            let Some(&goal) = new.first() else { continue };
            // Shrink towards a minimal batch that still breaks `goal`.
            let mut steps = 0;
            if tree.simplify() {
                while steps < self.config.max_shrink_steps && !self.exhausted {
                    steps += 1;
                    let o = exec(self, &tree.current());
                    match o.failures.into_iter().find(|f| f.clause == goal) {
                        Some(f) => {
                            self.tallies.get_mut(&goal).expect("tally").failure = Some(f);
                            if !tree.simplify() {
                                break;
                            }
                        }
                        None => {
                            if !tree.complicate() {
                                break;
                            }
                        }
                    }
                }
            }
        }
    }
}
