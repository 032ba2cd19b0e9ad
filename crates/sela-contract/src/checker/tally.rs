//! The verdict counters: per clause, the cases that checked it and failed it,
//! its evidence (the first or smallest failure) and where that case came from.

use std::collections::BTreeMap;
use std::time::Duration;

use super::case::CaseOutcome;
use crate::regressions::CaseOrigin;
use crate::report::{Clause, ClauseResult, Failure};

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
pub(super) fn state_note(clause: Clause) -> Option<String> {
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

/// Every clause's tally.
#[derive(Debug)]
pub(super) struct Tallies(BTreeMap<Clause, Tally>);

impl Tallies {
    /// A tally for every clause, all empty.
    pub(super) fn new() -> Self {
        Tallies(Clause::ALL.iter().map(|c| (*c, Tally::default())).collect())
    }

    /// Each clause's counts so far, without evidence: what a lane consults
    /// (which clauses held or failed before its wave). Never merged back: a
    /// lane's verdicts come back in its cases' outcomes.
    pub(super) fn verdicts(&self) -> Self {
        Tallies(
            self.0
                .iter()
                .map(|(c, t)| {
                    let counts = Tally {
                        cases: t.cases,
                        failed_cases: t.failed_cases,
                        ..Tally::default()
                    };
                    (*c, counts)
                })
                .collect(),
        )
    }

    pub(super) fn get(&self, c: &Clause) -> Option<&Tally> {
        self.0.get(c)
    }

    pub(super) fn get_mut(&mut self, c: &Clause) -> Option<&mut Tally> {
        self.0.get_mut(c)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&Clause, &Tally)> {
        self.0.iter()
    }

    /// The clauses that have failed so far.
    pub(super) fn failed(&self) -> impl Iterator<Item = Clause> + '_ {
        self.0
            .iter()
            .filter(|(_, t)| t.failed_cases > 0)
            .map(|(c, _)| *c)
    }

    /// Adds one case's outcome to the per-clause tallies; returns the clauses
    /// whose evidence it becomes: their first failure, or their first in a
    /// generated case (`generated`), which can be shrunk, after failures only
    /// seen in the run's fixed probes.
    pub(super) fn record(&mut self, outcome: CaseOutcome, generated: bool) -> Vec<Clause> {
        for c in &outcome.checked {
            let t = self.0.get_mut(c).expect("every clause has a tally");
            t.cases += 1;
            if outcome.fails(*c) {
                t.failed_cases += 1;
            }
        }
        let mut new = Vec::new();
        for mut f in outcome.failures {
            let t = self.0.get_mut(&f.clause).expect("tally");
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

    /// The report's clause table.
    pub(super) fn into_results(self) -> Vec<ClauseResult> {
        self.0
            .into_iter()
            .map(|(clause, t)| ClauseResult {
                clause,
                cases: t.cases,
                failed_cases: t.failed_cases,
                failure: t.failure,
                time: t.time,
                origin: t.origin,
            })
            .collect()
    }
}
