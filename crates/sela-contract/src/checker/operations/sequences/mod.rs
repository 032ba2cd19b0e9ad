//! Stateful sequences (CONTRACT.md "Stateful sequences"): random sequences of
//! operations on the run's own leads (bulk and single create, PATCH, PUT,
//! GET, the list walk, a re-send of a lead's identity or of one moved away
//! from it, a do-not-contact flag set to true), each answer and each read
//! checked against a model of what the account must hold after the steps so
//! far. A failing sequence is shrunk to the shortest that still fails the
//! same clause, and reported with every step and every request as `curl`.
//!
//! - `model`: the reference state machine (`proptest-state-machine`'s
//!   [`ReferenceStateMachine`]) that generates and shrinks the steps;
//! - `steps`: the executor, which judges every step by the clause it tests.
//!
//! Sequences are generated and shrunk by the crate's `Sequential` strategy,
//! but run by the harness's own property runner, not by its
//! `StateMachineTest`: that runner judges by panicking and knows nothing of
//! the harness's client, ledger, settle window, `--max-created` share and
//! per-clause report, which every other property shares.

mod account;
mod group_reads;
mod group_report;
mod group_requests;
mod groups;
mod linear;
mod model;
mod ops;
mod resends;
mod state;
mod steps;

use std::fmt::Debug;

use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use proptest_state_machine::ReferenceStateMachine;
use serde_json::{Value, json};

use super::walk::Walk;
use crate::checker::Harness;
use crate::checker::case::CaseOutcome;
use crate::checker::waves::Sides;
use model::{Sequences, Shape, Step};

/// Longest sequence generated.
const MAX_STEPS: usize = 16;

/// Leads a sequence may create on a faulty target beyond what its steps
/// create on a correct one (counted against `--max-created`).
const SLACK: usize = 2;

impl Harness<'_> {
    /// Property 7: stateful sequences (see the module doc). Runs
    /// `--sequences` sequences (by default an eighth of `--cases`, at least 2).
    pub(crate) fn run_sequences(&mut self) {
        let n = self
            .config
            .sequences
            .unwrap_or_else(|| (self.config.cases / 8).max(2));
        // Every step is judged by reading the lead back.
        if n == 0 || self.readback.state == crate::checker::readback::ReadBack::Unavailable {
            self.quota.skip_property();
            return;
        }
        self.cases(&sequences(), n, Sides::AfterFirst, |h, steps| {
            h.run_sequence(steps)
        });
    }

    /// Runs one sequence until its end or its first failure; every failure
    /// carries the sequence up to the failing step as its evidence.
    fn run_sequence(&mut self, steps: &[Step]) -> CaseOutcome {
        let mut w = Walk::default();
        let creates: usize = steps.iter().map(Step::creates).sum();
        if !self.reserve(creates + SLACK) {
            w.out.skipped = true;
            return w.out;
        }
        let mut acc = account::Account::default();
        let mut ran = 0;
        for step in steps {
            ran += 1;
            // A request that got no answer: the steps are judged by reads, and
            // piling more on a target that stopped answering would only end
            // the run (B3's read-back judges unanswered reads).
            let unanswered = self.net.transport_failures > 0;
            if self.exhausted() || unanswered || self.run_step(&mut w, &mut acc, step).is_none() {
                break;
            }
        }
        if !w.out.failures.is_empty() {
            // The failing step's effect on the list count is unknown.
            self.count.stale();
        }
        let shown: Vec<(String, Value)> = steps[..ran]
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    format!("sequence step {}: {}", i + 1, describe(s)),
                    step_json(s),
                )
            })
            .collect();
        for f in &mut w.out.failures {
            f.detail = format!(
                "{} (at step {ran} of a sequence of {})",
                f.detail,
                steps.len()
            );
            f.batch.clone_from(&shown);
        }
        w.out
    }
}

/// The sequences' strategy: the state machine's steps, from an empty account.
pub fn sequences() -> SequenceStrategy {
    SequenceStrategy
}

/// Generates sequences of [`Step`]s with [`Sequences::sequential_strategy`]
/// and shrinks them with its value tree (steps deleted from the back, then
/// each step simplified, every candidate re-checked against the model's
/// preconditions).
#[derive(Debug, Clone, Copy)]
pub struct SequenceStrategy;

impl Strategy for SequenceStrategy {
    type Tree = SequenceTree;
    type Value = Vec<Step>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let inner = Sequences::sequential_strategy(1..=MAX_STEPS).new_tree(runner)?;
        Ok(SequenceTree {
            inner: Box::new(inner),
            started: false,
        })
    }
}

type Inner = dyn ValueTree<
    Value = (
        Shape,
        Vec<Step>,
        Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
    ),
>;

/// The state machine's value tree, giving the steps only. Before the first
/// shrink it tells the tree that every step was seen: the harness regenerates
/// a failing case before shrinking it, so the tree cannot know how far the
/// run went, and would otherwise drop every step at once.
pub struct SequenceTree {
    inner: Box<Inner>,
    started: bool,
}

impl Debug for SequenceTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceTree")
            .field("steps", &self.current())
            .finish()
    }
}

impl ValueTree for SequenceTree {
    type Value = Vec<Step>;

    fn current(&self) -> Vec<Step> {
        self.inner.current().1
    }

    fn simplify(&mut self) -> bool {
        if !self.started {
            self.started = true;
            let (_, steps, seen) = self.inner.current();
            if let Some(seen) = seen {
                seen.store(steps.len(), std::sync::atomic::Ordering::SeqCst);
            }
        }
        self.inner.simplify()
    }

    fn complicate(&mut self) -> bool {
        self.inner.complicate()
    }
}

/// One line saying what a step does.
fn describe(step: &Step) -> String {
    match step {
        Step::BulkCreate { n } => format!("bulk create of {n} new lead(s)"),
        Step::SingleCreate => "single create of a new lead".to_owned(),
        Step::Resend { slot, single, form } => format!(
            "re-send of lead #{slot}'s identity ({} number) by {}",
            format!("{form:?}").to_lowercase(),
            if *single { "single create" } else { "bulk" }
        ),
        Step::ResendOld { old, single } => format!(
            "re-send of moved-away identity #{old} by {}",
            if *single { "single create" } else { "bulk" }
        ),
        Step::Patch { slot, field, .. } => {
            format!(
                "PATCH of lead #{slot}'s {}",
                format!("{field:?}").to_lowercase()
            )
        }
        Step::Move { slot, email } => format!(
            "PATCH of lead #{slot}'s {} (moves its identity)",
            if *email { "e-mail" } else { "phone number" }
        ),
        Step::Dnc { slot, flag } => format!("PATCH of lead #{slot}'s {} to true", flag.field()),
        Step::Put { slot, .. } => format!("PUT matching lead #{slot}'s phone and e-mail"),
        Step::Get { slot } => format!("GET of lead #{slot}"),
        Step::List { slot } => format!("lead #{slot} in the list walk"),
        Step::Group { slot, ops } => {
            let ops: Vec<String> = ops.iter().map(|o| format!("{o:?}")).collect();
            format!(
                "{} requests in flight together on lead #{slot}: {}",
                ops.len(),
                ops.join(", ")
            )
        }
    }
}

/// The step as JSON for the report.
fn step_json(step: &Step) -> Value {
    json!(format!("{step:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequences' groups draw PUTs and list pages among their requests,
    /// as the groups property does (S5 judges them the same way).
    #[test]
    fn sequence_groups_draw_puts_and_list_pages() {
        use model::GroupOp;
        let mut runner = TestRunner::deterministic();
        let (mut puts, mut lists) = (0, 0);
        for _ in 0..200 {
            let steps = sequences().new_tree(&mut runner).unwrap().current();
            for step in steps {
                if let Step::Group { ops, .. } = step {
                    puts += ops
                        .iter()
                        .filter(|o| matches!(o, GroupOp::Put { .. }))
                        .count();
                    lists += ops.iter().filter(|o| **o == GroupOp::List).count();
                }
            }
        }
        assert!(puts > 0 && lists > 0, "{puts} PUTs, {lists} list pages");
    }

    /// Every generated sequence, and every one shrinking reaches, names only
    /// leads that exist at its step; the first shrink drops one step, never
    /// all of them.
    #[test]
    fn generated_and_shrunk_sequences_name_existing_leads() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..50 {
            let mut tree = sequences().new_tree(&mut runner).unwrap();
            let first = tree.current().len();
            let mut shrinks = 0;
            loop {
                let steps = tree.current();
                let mut s = Shape::default();
                for step in &steps {
                    assert!(Sequences::preconditions(&s, step), "{step:?} on {s:?}");
                    s = Sequences::apply(s, step);
                }
                if shrinks == 1 {
                    assert!(
                        steps.len() + 1 >= first,
                        "{first} steps, then {}",
                        steps.len()
                    );
                }
                if shrinks == 30 || !tree.simplify() {
                    break;
                }
                shrinks += 1;
            }
        }
    }
}
