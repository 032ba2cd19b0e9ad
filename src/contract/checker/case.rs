//! One test case's outcome (clauses checked and failed) and the property runner
//! that draws cases, tallies them per clause and shrinks each new failure.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use proptest::prelude::Rng;
use proptest::strategy::{Strategy, ValueTree};

use super::Harness;
use super::replay::{case_runner, property_name};
use crate::contract::regressions::CaseOrigin;
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
    /// Time spent in the cases that checked the clause.
    pub(super) time: Duration,
    /// The failing case, to replay it.
    pub(super) origin: Option<CaseOrigin>,
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
        let name = property_name(&exec);
        self.replay_stored(&name, strategy, &exec);
        self.reporting
            .begin(&name, self.config.cases, self.counts());
        for _ in 0..self.config.cases {
            if self.exhausted {
                self.obs.skipped += 1;
                continue;
            }
            if self.reporting.budget.refuse_case() {
                continue;
            }
            // Each case has its own seed, so that a stored failure regenerates it.
            let case_seed = self.runner.rng().next_u64();
            let Ok(mut tree) = strategy.new_tree(&mut case_runner(case_seed)) else {
                continue;
            };
            let mark = self.target.recorder().map(|r| r.mark());
            let clock = Instant::now();
            let outcome = exec(self, &tree.current());
            if outcome.skipped {
                self.obs.skipped += 1;
                continue;
            }
            self.cases_run += 1;
            self.mark_failing(mark, !outcome.failures.is_empty());
            for c in &outcome.checked {
                let t = self.tallies.get_mut(c).expect("every clause has a tally");
                t.cases += 1;
                t.time += clock.elapsed();
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
                    t.origin = Some(CaseOrigin {
                        property: name.clone(),
                        case_seed,
                        shrink_path: String::new(),
                    });
                }
            }
            self.reporting.case_done(self.counts());
            let Some(&goal) = new.first() else { continue };
            // Shrink towards a minimal batch that still breaks `goal`; `path`
            // records the steps so that the stored failure replays this batch.
            let clock = Instant::now();
            let mut steps = 0;
            let mut path = String::from("s");
            if tree.simplify() {
                while steps < self.config.max_shrink_steps && !self.exhausted {
                    steps += 1;
                    let mark = self.target.recorder().map(|r| r.mark());
                    let o = exec(self, &tree.current());
                    self.mark_failing(mark, !o.failures.is_empty());
                    match o.failures.into_iter().find(|f| f.clause == goal) {
                        Some(f) => {
                            let t = self.tallies.get_mut(&goal).expect("tally");
                            t.failure = Some(f);
                            if let Some(origin) = &mut t.origin {
                                origin.shrink_path.clone_from(&path);
                            }
                            path.push('s');
                            if !tree.simplify() {
                                break;
                            }
                        }
                        None => {
                            path.push('c');
                            if !tree.complicate() {
                                break;
                            }
                        }
                    }
                }
            }
            self.tallies.get_mut(&goal).expect("tally").time += clock.elapsed();
        }
        self.reporting.end(self.counts());
    }

    /// Marks the exchanges recorded since `mark` as part of a failing case.
    fn mark_failing(&self, mark: Option<usize>, failed: bool) {
        if let (Some(r), Some(mark), true) = (self.target.recorder(), mark, failed) {
            r.mark_failing_since(mark);
        }
    }
}
