//! One case run and concluded: every outcome tallied, each clause's first
//! failure shrunk on its own, and stored failures replayed (the properties'
//! cases are drawn, from their own seeds, by `waves`).

use std::collections::BTreeMap;
use std::time::Instant;

use proptest::strategy::{Strategy, ValueTree};

use super::Harness;
use super::case::CaseOutcome;
use super::replay::case_runner;
use super::tally::state_note;
use crate::failure::Failure;
use crate::regressions::{CaseOrigin, Regression, ReplayOutcome, Replayed};
use crate::report::{Clause, Shrink};

impl Harness<'_> {
    /// After one part of the run: prints the failures it confirmed; false
    /// when `--fail-fast` stops the run there.
    pub(crate) fn go_on(&mut self) -> bool {
        self.waits.note_failed(self.tallies.failed());
        self.reporting.announce(&self.tallies);
        !self.reporting.stopped()
    }

    /// Runs one generated case and concludes it.
    pub(super) fn run_case<S: Strategy>(
        &mut self,
        name: &str,
        strategy: &S,
        exec: &impl Fn(&mut Self, &S::Value) -> CaseOutcome,
        case_seed: u64,
        case: &S::Value,
    ) {
        let mark = self.target.recorder().map(|r| r.mark());
        let clock = Instant::now();
        let outcome = exec(self, case);
        self.mark_failing(mark, !outcome.failures.is_empty());
        self.conclude_case(name, strategy, exec, case_seed, outcome, clock)
    }

    /// Tallies one generated case's outcome (its clauses' time counted from
    /// `clock`) and shrinks each clause it failed first.
    pub(super) fn conclude_case<S: Strategy>(
        &mut self,
        name: &str,
        strategy: &S,
        exec: &impl Fn(&mut Self, &S::Value) -> CaseOutcome,
        case_seed: u64,
        outcome: CaseOutcome,
        clock: Instant,
    ) {
        if outcome.skipped {
            self.obs.skipped += 1;
            return;
        }
        self.cases_run += 1;
        for c in &outcome.checked {
            self.tallies.get_mut(c).expect("tally").time += clock.elapsed();
        }
        let goals = self.tallies.record(outcome, true);
        self.waits.note_failed(self.tallies.failed());
        self.reporting.announce(&self.tallies);
        // Clauses that failed first in this case are shrunk one after
        // another; a smaller case that a clause's shrinking met failing
        // the next one is where the next one's shrinking starts.
        let mut met = Met::new(&goals);
        for goal in goals {
            // This case is the clause's evidence now: store where it came
            // from, so that it can be replayed.
            self.tallies.get_mut(&goal).expect("tally").origin = Some(CaseOrigin {
                property: name.to_owned(),
                case_seed,
                shrink_path: String::new(),
            });
            let Ok(mut tree) = strategy.new_tree(&mut case_runner(case_seed)) else {
                continue;
            };
            let start = match met.take(goal) {
                Some((path, failure)) => {
                    walk(&mut tree, &path);
                    self.keep_smaller(goal, failure, &path);
                    path
                }
                None => String::new(),
            };
            self.shrink(tree, goal, exec, start, &mut met);
        }
        self.reporting.case_done(self.net.counts());
    }

    /// Marks the exchanges recorded since `mark` as part of a failing case.
    pub(super) fn mark_failing(&self, mark: Option<usize>, failed: bool) {
        if let (Some(r), Some(mark), true) = (self.target.recorder(), mark, failed) {
            r.mark_failing_since(mark);
        }
    }

    /// `failure`, met at shrinking path `path`, is `goal`'s evidence now.
    fn keep_smaller(&mut self, goal: Clause, mut failure: Failure, path: &str) {
        failure.state_note = state_note(goal);
        let t = self.tallies.get_mut(&goal).expect("tally");
        t.failure = Some(failure);
        if let Some(origin) = &mut t.origin {
            origin.shrink_path = path.to_owned();
        }
    }

    /// Shrinks towards a minimal case that still breaks `goal`, keeping the
    /// smallest failure as the clause's evidence. `tree` stands at shrinking
    /// path `start` (empty: the case as generated), a case that breaks
    /// `goal`. The failures of other clauses in `met` that a step meets are
    /// noted there.
    fn shrink<T: ValueTree>(
        &mut self,
        mut tree: T,
        goal: Clause,
        exec: &impl Fn(&mut Self, &T::Value) -> CaseOutcome,
        start: String,
        met: &mut Met,
    ) {
        let budget = self.config.max_shrink_steps;
        // A start met while another clause shrank counts as one step taken
        // and accepted (the case ran then).
        let met_step = u32::from(!start.is_empty());
        let mut shrink = Shrink {
            generated: true,
            steps: met_step,
            accepted: met_step,
            ..Shrink::default()
        };
        let clock = Instant::now();
        // The steps taken (`s` simplify, `c` complicate), stored with the
        // failure so that a replay walks down to the same minimal case.
        let mut path = start;
        path.push('s');
        let mut more = tree.simplify();
        while more && !self.exhausted() {
            if shrink.steps >= budget || self.reporting.budget.spent() {
                shrink.stopped_on_budget = true;
                break;
            }
            shrink.steps += 1;
            let mark = self.target.recorder().map(|r| r.mark());
            let o = exec(self, &tree.current());
            self.mark_failing(mark, !o.failures.is_empty());
            let mut mine = None;
            for f in o.failures {
                if f.clause == goal {
                    mine.get_or_insert(f);
                } else {
                    met.note(f, &path);
                }
            }
            match mine {
                Some(f) => {
                    shrink.accepted += 1;
                    self.keep_smaller(goal, f, &path);
                    path.push('s');
                    more = tree.simplify();
                }
                None => {
                    path.push('c');
                    more = tree.complicate();
                }
            }
        }
        shrink.millis = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.tallies.get_mut(&goal).expect("tally").time += clock.elapsed();
        if let Some(f) = &mut self.tallies.get_mut(&goal).expect("tally").failure {
            f.shrink = shrink;
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
        for stored in self.reporting.take_stored(name) {
            let outcome = self.replay_one(&stored, strategy, exec);
            self.reporting.push_replayed(Replayed { stored, ..outcome });
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
        if self.exhausted() {
            return not("the run stopped sending (target lost or --max-created)".into());
        }
        let mut runner = case_runner(stored.origin.case_seed);
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            return not("the generator rejected the stored seed".into());
        };
        if let Some(other) = stored
            .origin
            .shrink_path
            .chars()
            .find(|c| !"sc".contains(*c))
        {
            return not(format!("unknown shrinking step {other:?}"));
        }
        walk(&mut tree, &stored.origin.shrink_path);
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
        for goal in self.tallies.record(outcome, true) {
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

/// Walks `tree` down a shrinking path: `s` simplify, `c` complicate (any
/// other step is skipped).
fn walk<T: ValueTree>(tree: &mut T, path: &str) {
    for step in path.chars() {
        match step {
            's' => {
                tree.simplify();
            }
            'c' => {
                tree.complicate();
            }
            _ => {}
        }
    }
}

/// The clauses still to be shrunk after the one being shrunk, and the last
/// failure of each that a shrinking step met, with its path.
struct Met {
    waiting: Vec<Clause>,
    found: BTreeMap<Clause, (String, Failure)>,
}

impl Met {
    fn new(goals: &[Clause]) -> Self {
        Met {
            waiting: goals.to_vec(),
            found: BTreeMap::new(),
        }
    }

    /// A step at `path` broke `failure`'s clause: the latest such case is
    /// where its shrinking starts, if it is still to be shrunk.
    fn note(&mut self, failure: Failure, path: &str) {
        if self.waiting.contains(&failure.clause) {
            self.found
                .insert(failure.clause, (path.to_owned(), failure));
        }
    }

    /// `goal`'s shrinking begins: where it starts, if a step met it.
    fn take(&mut self, goal: Clause) -> Option<(String, Failure)> {
        self.waiting.retain(|c| *c != goal);
        self.found.remove(&goal)
    }
}
