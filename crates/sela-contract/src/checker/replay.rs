//! What the case runner keeps for the reports: stored failures to replay
//! before a property's new cases and their outcomes, the time budget, the
//! progress line; and the case seeds that make every failing case replayable.

use std::collections::BTreeSet;
use std::time::Instant;

use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

use super::tally::Tallies;
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
    /// Clauses whose failure was printed as soon as it was confirmed.
    announced: BTreeSet<Clause>,
    /// `--fail-fast`: the run stops at its first failure.
    fail_fast: bool,
    /// True once the run stopped at its first failure.
    stopped: bool,
}

impl Reporting {
    /// The time budget is shared by `slices` parts of the run.
    pub(super) fn new(config: &Config, slices: u32) -> Self {
        Reporting {
            started: Instant::now(),
            stored: config.replay.clone(),
            replayed: Vec::new(),
            budget: Budget::start(config.time_budget, slices),
            progress: config.progress.then(Progress::on_stderr),
            announced: BTreeSet::new(),
            fail_fast: config.fail_fast,
            stopped: false,
        }
    }

    /// A lane's (cases run side by side): it reports nothing itself.
    pub(super) fn lane() -> Self {
        Reporting {
            started: Instant::now(),
            stored: Vec::new(),
            replayed: Vec::new(),
            budget: Budget::start(None, 1),
            progress: None,
            announced: BTreeSet::new(),
            fail_fast: false,
            stopped: false,
        }
    }

    /// Prints each clause's failure the first time one is confirmed (on the
    /// progress display, before shrinking); with `--fail-fast` the run stops
    /// at the first.
    pub(super) fn announce(&mut self, tallies: &Tallies) {
        for (clause, tally) in tallies.iter() {
            let Some(f) = &tally.failure else { continue };
            if self.announced.insert(*clause) {
                if let Some(p) = &mut self.progress {
                    p.failed(f);
                }
                self.stopped |= self.fail_fast;
            }
        }
    }

    /// True once `--fail-fast` stopped the run at its first failure: no
    /// case, shrinking step or part of the run starts after it.
    pub(super) fn stopped(&self) -> bool {
        self.stopped
    }

    /// The stored failures of property `name`, taken (replayed before its
    /// new cases).
    pub(super) fn take_stored(&mut self, name: &str) -> Vec<Regression> {
        let (mine, rest): (Vec<Regression>, Vec<Regression>) = std::mem::take(&mut self.stored)
            .into_iter()
            .partition(|r| r.origin.property == name);
        self.stored = rest;
        mine
    }

    /// One stored failure replayed, for the report.
    pub(super) fn push_replayed(&mut self, replayed: Replayed) {
        self.replayed.push(replayed);
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
        TestRng::from_seed(RngAlgorithm::ChaCha, &crate::run::seed_bytes(case_seed)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::{Strategy, ValueTree};

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
