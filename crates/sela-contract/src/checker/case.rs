//! One test case's outcome (clauses checked and failed) and the property runner
//! that draws cases, tallies them per clause and shrinks each new failure.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use proptest::prelude::Rng;
use proptest::strategy::{Strategy, ValueTree};

use super::Harness;
use super::replay::{case_runner, property_name};
use crate::regressions::CaseOrigin;
use crate::report::{Clause, Failure, Shrink};
use crate::strategies::GenItem;
use crate::target::Exchange;

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

    /// Records a failure of `clause` in its `part` (`read-back`, `list count`,
    /// ...); the detail shown is `B3 read-back: ...`.
    pub(super) fn fail(
        &mut self,
        clause: Clause,
        part: &str,
        detail: String,
        batch: &[GenItem],
        exchanges: Vec<Exchange>,
    ) {
        let batch = batch
            .iter()
            .map(|g| (format!("{} ({})", g.category, g.kind), g.value.clone()))
            .collect();
        self.fail_labelled(clause, part, detail, batch, exchanges);
    }

    /// [`fail`](Self::fail) with the batch already labelled (for several
    /// requests: `request 2: valid (valid)`).
    pub(super) fn fail_labelled(
        &mut self,
        clause: Clause,
        part: &str,
        detail: String,
        batch: Vec<(String, serde_json::Value)>,
        exchanges: Vec<Exchange>,
    ) {
        self.checked.insert(clause);
        // One failure per clause and case is enough evidence.
        if self.failures.iter().any(|f| f.clause == clause) {
            return;
        }
        self.failures.push(Failure {
            clause,
            detail: format!("{clause} {part}: {detail}"),
            batch,
            exchanges,
            shrink: Shrink::default(),
            state_note: None,
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

/// What a failure of `clause` says about reproducing it alone: the target
/// keeps the leads the run created, so a stateful clause may not reproduce.
fn state_note(clause: Clause) -> Option<String> {
    matches!(
        clause,
        Clause::B3 | Clause::B4 | Clause::S1 | Clause::S2 | Clause::S3 | Clause::S4
    )
    .then(|| {
        "the target keeps the leads this run created, so re-sending this request now may be \
         answered differently (reengaged instead of created); re-run the harness with the \
         report's --seed against a fresh target to reproduce it"
            .to_owned()
    })
}

impl Harness<'_> {
    /// Adds one case's outcome to the per-clause tallies; returns the clauses
    /// whose evidence it becomes: their first failure, or their first in a
    /// generated case (`generated`), which can be shrunk, after failures only
    /// seen in the run's fixed probes.
    pub(super) fn tally_outcome(&mut self, outcome: CaseOutcome, generated: bool) -> Vec<Clause> {
        for c in &outcome.checked {
            let t = self.tallies.get_mut(c).expect("every clause has a tally");
            t.cases += 1;
            if outcome.fails(*c) {
                t.failed_cases += 1;
            }
        }
        let mut new = Vec::new();
        for mut f in outcome.failures {
            let t = self.tallies.get_mut(&f.clause).expect("tally");
            let replace = match &t.failure {
                None => true,
                Some(old) => generated && !old.shrink.generated,
            };
            if replace {
                new.push(f.clause);
                f.state_note = state_note(f.clause);
                f.shrink.generated = generated;
                t.failure = Some(f);
            }
        }
        new
    }

    /// Runs `exec` on `cases` generated values; every clause that fails for the
    /// first time is shrunk on its own (the case regenerated from the same
    /// runner state), so each failing clause gets its own minimal example.
    pub(super) fn property<S: Strategy>(
        &mut self,
        strategy: &S,
        cases: u32,
        exec: impl Fn(&mut Self, &S::Value) -> CaseOutcome,
    ) {
        // Each property gets an equal share of what is left of the cap.
        let left = self.properties_left.max(1);
        self.properties_left = left - 1;
        let room = self.config.max_created.saturating_sub(self.budget_used);
        self.share_limit = self.budget_used + room / left;
        self.exhausted = self.lost.is_some() || self.fatal.is_some();
        let name = property_name(&exec);
        self.reporting.budget.begin_slice();
        self.replay_stored(&name, strategy, &exec);
        self.reporting.begin(&name, cases, self.counts());
        for _ in 0..cases {
            if self.exhausted {
                self.obs.skipped += 1;
                continue;
            }
            if self.reporting.budget.refuse_case() {
                continue;
            }
            // Each case has its own seed: shrinking regenerates the case from
            // it, and so does a stored failure's replay.
            let case_seed = self.runner.rng().next_u64();
            let Ok(tree) = strategy.new_tree(&mut case_runner(case_seed)) else {
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
                self.tallies.get_mut(c).expect("tally").time += clock.elapsed();
            }
            for goal in self.tally_outcome(outcome, true) {
                // This case is the clause's evidence now: store where it came
                // from, so that it can be replayed.
                self.tallies.get_mut(&goal).expect("tally").origin = Some(CaseOrigin {
                    property: name.clone(),
                    case_seed,
                    shrink_path: String::new(),
                });
                if let Ok(tree) = strategy.new_tree(&mut case_runner(case_seed)) {
                    self.shrink(tree, goal, &exec);
                }
            }
            self.reporting.case_done(self.counts());
        }
        self.reporting.end(self.counts());
    }

    /// Marks the exchanges recorded since `mark` as part of a failing case.
    fn mark_failing(&self, mark: Option<usize>, failed: bool) {
        if let (Some(r), Some(mark), true) = (self.target.recorder(), mark, failed) {
            r.mark_failing_since(mark);
        }
    }

    /// Shrinks towards a minimal case that still breaks `goal`, keeping the
    /// smallest failure as the clause's evidence.
    fn shrink<T: ValueTree>(
        &mut self,
        mut tree: T,
        goal: Clause,
        exec: &impl Fn(&mut Self, &T::Value) -> CaseOutcome,
    ) {
        let budget = self.config.max_shrink_steps;
        let mut shrink = Shrink {
            generated: true,
            ..Shrink::default()
        };
        let clock = Instant::now();
        // The steps taken (`s` simplify, `c` complicate), stored with the
        // failure so that a replay walks down to the same minimal case.
        let mut path = String::from("s");
        let mut more = tree.simplify();
        while more && !self.exhausted {
            if shrink.steps >= budget || self.reporting.budget.overrun() {
                shrink.stopped_on_budget = true;
                break;
            }
            shrink.steps += 1;
            let mark = self.target.recorder().map(|r| r.mark());
            let o = exec(self, &tree.current());
            self.mark_failing(mark, !o.failures.is_empty());
            match o.failures.into_iter().find(|f| f.clause == goal) {
                Some(mut f) => {
                    shrink.accepted += 1;
                    f.state_note = state_note(goal);
                    let t = self.tallies.get_mut(&goal).expect("tally");
                    t.failure = Some(f);
                    if let Some(origin) = &mut t.origin {
                        origin.shrink_path.clone_from(&path);
                    }
                    path.push('s');
                    more = tree.simplify();
                }
                None => {
                    path.push('c');
                    more = tree.complicate();
                }
            }
        }
        self.tallies.get_mut(&goal).expect("tally").time += clock.elapsed();
        if let Some(f) = &mut self.tallies.get_mut(&goal).expect("tally").failure {
            f.shrink = shrink;
        }
    }
}
