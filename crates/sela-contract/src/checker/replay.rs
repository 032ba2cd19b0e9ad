//! What the case runner keeps for the reports: stored failures replayed before
//! a property's new cases, the time budget, the progress line, and the case
//! seeds that make every failing case replayable.

use std::time::Instant;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

use super::Harness;
use super::case::CaseOutcome;
use crate::Config;
use crate::budget::{Budget, BudgetUse};
use crate::progress::{Counts, Progress};
use crate::regressions::{Regression, ReplayOutcome, Replayed};
use crate::report::Clause;

/// The run's report-side state, kept by the harness.
#[derive(Debug)]
pub(super) struct Reporting {
    started: Instant,
    stored: Vec<Regression>,
    replayed: Vec<Replayed>,
    pub(super) budget: Budget,
    progress: Option<Progress>,
}

impl Reporting {
    pub(super) fn new(config: &Config) -> Self {
        Reporting {
            started: Instant::now(),
            stored: config.replay.clone(),
            replayed: Vec::new(),
            budget: Budget::start(config.time_budget, super::SLICES),
            progress: config.progress.then(Progress::on_stderr),
        }
    }

    pub(super) fn begin(&mut self, property: &str, planned: u32, counts: Counts) {
        if let Some(p) = &mut self.progress {
            p.begin(property, planned, counts);
        }
    }

    pub(super) fn case_done(&mut self, counts: Counts) {
        if let Some(p) = &mut self.progress {
            p.case_done(counts);
        }
    }

    pub(super) fn end(&mut self, counts: Counts) {
        if let Some(p) = &mut self.progress {
            p.end(counts);
        }
    }

    /// The replays, the budget's use and the run's wall time, for the report.
    /// Stored failures of a property this harness does not have are reported
    /// as not replayed.
    pub(super) fn finish(mut self) -> (Vec<Replayed>, Option<BudgetUse>, std::time::Duration) {
        for stored in std::mem::take(&mut self.stored) {
            let why = format!(
                "this harness has no property {:?} (stored by another version?)",
                stored.origin.property
            );
            self.replayed.push(Replayed {
                stored,
                outcome: ReplayOutcome::NotReplayed(why),
                failure: None,
                also_failed: Vec::new(),
            });
        }
        (self.replayed, self.budget.usage(), self.started.elapsed())
    }
}

/// The name of the property whose closure `exec` is: the method it is written
/// in (`run_batches`), taken from the closure's type name so that no call site
/// has to name itself.
pub(super) fn property_name<F>(exec: &F) -> String {
    // `..::mixed::<impl ..Harness>::run_batches<BoxedStrategy<..>>::{{closure}}`:
    // drop every `<..>` group, then take the last segment before the closure.
    let full = std::any::type_name_of_val(exec);
    let mut plain = String::with_capacity(full.len());
    let mut depth = 0usize;
    for ch in full.chars() {
        match ch {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(ch),
            _ => {}
        }
    }
    plain
        .split("::")
        .take_while(|seg| !seg.starts_with("{{closure"))
        .filter(|seg| !seg.is_empty())
        .last()
        .unwrap_or("property")
        .to_owned()
}

/// The generator of one case, from the case's own seed.
pub(super) fn case_runner(case_seed: u64) -> TestRunner {
    TestRunner::new_with_rng(
        proptest::test_runner::Config {
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &crate::seed_bytes(case_seed)),
    )
}

impl Harness<'_> {
    pub(super) fn counts(&self) -> Counts {
        Counts {
            requests: self.requests,
            throttled: self.throttled,
        }
    }

    /// Replays the stored failures of property `name` (before its new cases):
    /// each case is generated again from its seed, walked down the same
    /// shrinking steps, rendered with this run's fresh identities and run once.
    pub(super) fn replay_stored<S: Strategy>(
        &mut self,
        name: &str,
        strategy: &S,
        exec: &impl Fn(&mut Self, &S::Value) -> CaseOutcome,
    ) {
        let (mine, rest): (Vec<Regression>, Vec<Regression>) =
            std::mem::take(&mut self.reporting.stored)
                .into_iter()
                .partition(|r| r.origin.property == name);
        self.reporting.stored = rest;
        for stored in mine {
            let outcome = self.replay_one(&stored, strategy, exec);
            self.reporting.replayed.push(Replayed { stored, ..outcome });
        }
    }

    fn replay_one<S: Strategy>(
        &mut self,
        stored: &Regression,
        strategy: &S,
        exec: &impl Fn(&mut Self, &S::Value) -> CaseOutcome,
    ) -> Replayed {
        let not = |why: String| Replayed {
            stored: stored.clone(),
            outcome: ReplayOutcome::NotReplayed(why),
            failure: None,
            also_failed: Vec::new(),
        };
        let Some(clause) = Clause::from_id(&stored.clause) else {
            return not(format!("unknown clause {:?}", stored.clause));
        };
        if self.exhausted {
            return not("the run stopped sending (target lost or --max-created)".into());
        }
        let mut runner = case_runner(stored.origin.case_seed);
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            return not("the generator rejected the stored seed".into());
        };
        for step in stored.origin.shrink_path.chars() {
            match step {
                's' => {
                    tree.simplify();
                }
                'c' => {
                    tree.complicate();
                }
                other => return not(format!("unknown shrinking step {other:?}")),
            }
        }
        let mark = self.target.recorder().map(|r| r.mark());
        let clock = Instant::now();
        let outcome = exec(self, &tree.current());
        if outcome.skipped {
            return not("skipped: --max-created leaves no room for it".into());
        }
        self.cases_run += 1;
        if let (Some(r), Some(mark), false) =
            (self.target.recorder(), mark, outcome.failures.is_empty())
        {
            r.mark_failing_since(mark);
        }
        for c in &outcome.checked {
            self.tallies.get_mut(c).expect("tally").time += clock.elapsed();
        }
        // The stored case is already the minimal one: not shrunk again.
        let failure = outcome
            .failures
            .iter()
            .find(|f| f.clause == clause)
            .cloned()
            .map(|mut f| {
                f.shrink.generated = true;
                f
            });
        let also_failed: Vec<Clause> = outcome
            .failures
            .iter()
            .map(|f| f.clause)
            .filter(|c| *c != clause)
            .collect();
        // A replay is a case like any other: what it checked and broke counts
        // in the clause table (and so in JUnit, JSON and the exit status), its
        // failures being their clauses' evidence, replayable from the same
        // stored case.
        for goal in self.tally_outcome(outcome, true) {
            self.tallies.get_mut(&goal).expect("tally").origin = Some(stored.origin.clone());
        }
        Replayed {
            stored: stored.clone(),
            outcome: if failure.is_some() {
                ReplayOutcome::StillFails
            } else {
                ReplayOutcome::Passed
            },
            failure,
            also_failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_property_is_named_after_its_method() {
        struct H;
        impl H {
            fn run_something<T: Default>(&self) -> String {
                let exec = |x: T| x;
                property_name(&exec)
            }
        }
        assert_eq!(H.run_something::<Vec<u8>>(), "run_something");
    }

    #[test]
    fn a_case_seed_regenerates_the_same_case() {
        let s = proptest::collection::vec(0u32..1000, 1..20);
        let a = s.new_tree(&mut case_runner(42)).unwrap().current();
        let b = s.new_tree(&mut case_runner(42)).unwrap().current();
        let c = s.new_tree(&mut case_runner(43)).unwrap().current();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
