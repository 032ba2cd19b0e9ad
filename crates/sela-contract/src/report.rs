//! What a run found: per clause the cases checked and, when it failed, the
//! evidence ([`Failure`]); the stored failures replayed; and the
//! observations the contract asks for (`CONTRACT.md`). The writers
//! ([`json`](crate::json), [`junit`](crate::junit),
//! [`regressions`](crate::regressions)) take it from here.

use std::fmt;
use std::time::Duration;

use serde::ser::SerializeStruct as _;
use serde::{Serialize, Serializer};

use crate::budget::BudgetUse;
use crate::clauses::CONTRACT_URL;
pub use crate::clauses::Clause;
pub use crate::failure::{Failure, Shrink};
use crate::stored_failure::{CaseOrigin, ReplayOutcome, Replayed, also_text, summary};

/// A clause's result over the run. As JSON: the clause's id (`clause`), its
/// `title`, one-line `meaning` and `link` (where `CONTRACT.md` has it in
/// full), then the fields below.
#[derive(Clone, Debug)]
pub struct ClauseResult {
    /// The clause.
    pub clause: Clause,
    /// Test cases in which the clause was checked.
    pub cases: u32,
    /// Test cases in which it failed.
    pub failed_cases: u32,
    /// The evidence of the (shrunk) failure, when it failed.
    pub failure: Option<Failure>,
    /// Time spent in the cases that checked it (shrinking included).
    pub time: Duration,
    /// The failing case, to replay it (see [`regressions`](super::regressions)).
    pub origin: Option<CaseOrigin>,
}

impl Serialize for ClauseResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("ClauseResult", 9)?;
        m.serialize_field("clause", &self.clause)?;
        m.serialize_field("title", self.clause.title())?;
        m.serialize_field("meaning", self.clause.meaning())?;
        m.serialize_field("link", &self.clause.link())?;
        m.serialize_field("cases", &self.cases)?;
        m.serialize_field("failed_cases", &self.failed_cases)?;
        m.serialize_field("time_secs", &self.time.as_secs_f64())?;
        m.serialize_field("failure", &self.failure)?;
        m.serialize_field("origin", &self.origin)?;
        m.end()
    }
}

impl ClauseResult {
    /// True when the clause was checked and never failed.
    pub fn held(&self) -> bool {
        self.cases > 0 && self.failed_cases == 0
    }

    /// `held`, `FAILED` or `not checked`.
    pub fn verdict(&self) -> &'static str {
        if self.failed_cases > 0 {
            "FAILED"
        } else if self.cases == 0 {
            "not checked"
        } else {
            "held"
        }
    }
}

/// The outcome of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The target's base URL.
    pub base_url: String,
    /// The seed that reproduces the run (`--seed`).
    pub seed: u64,
    /// Per clause, in CONTRACT.md order.
    pub clauses: Vec<ClauseResult>,
    /// What was seen where the contract asserts nothing.
    pub observations: Vec<String>,
    /// Leads the run saw created.
    pub created: usize,
    /// Requests sent.
    pub requests: usize,
    /// Generated test cases executed (not counting shrinking re-runs or skips).
    pub cases_run: u32,
    /// Requests answered `429` and resent after waiting.
    pub throttled: u32,
    /// Notices given before the results (what the run assumes, e.g. that
    /// nothing else writes to the account while S2's count is followed).
    pub notices: Vec<String>,
    /// Wall time of the run.
    #[serde(rename = "elapsed_secs", serialize_with = "secs")]
    pub elapsed: Duration,
    /// Stored failures replayed before the new cases, and what they gave.
    pub replayed: Vec<Replayed>,
    /// How the run used its time budget, when it had one.
    pub time_budget: Option<BudgetUse>,
}

impl Report {
    /// True when every clause was checked and held and no replayed stored
    /// failure failed again.
    pub fn passed(&self) -> bool {
        self.clauses.iter().all(ClauseResult::held)
            && !self.replayed.iter().any(Replayed::still_fails)
    }

    /// True when the run could check nothing: no clause got a case and no
    /// stored failure was replayed.
    pub fn checked_nothing(&self) -> bool {
        self.clauses.iter().all(|c| c.cases == 0)
            && self
                .replayed
                .iter()
                .all(|r| matches!(r.outcome, ReplayOutcome::NotReplayed(_)))
    }

    /// Why clauses may have gone unchecked, for a `not checked` verdict.
    pub fn not_checked_reason(&self) -> String {
        if let Some(b) = self.time_budget.as_ref().filter(|b| b.spent) {
            return format!(
                "the time budget of {} s ran out ({} cases not started) before a case checked it",
                b.limit_secs, b.cases_not_started
            );
        }
        "no case of the run checked it (see the observations: cases skipped for \
         --max-created, or answers that never reached this clause)"
            .to_owned()
    }

    /// The clauses that failed.
    pub fn failed(&self) -> Vec<Clause> {
        self.clauses
            .iter()
            .filter(|c| c.failed_cases > 0)
            .map(|c| c.clause)
            .collect()
    }

    /// The result for one clause.
    pub fn clause(&self, clause: Clause) -> &ClauseResult {
        self.clauses
            .iter()
            .find(|c| c.clause == clause)
            .expect("every clause has a result")
    }

    /// The table of clauses: id, cases, result and the clause's one-line
    /// meaning, then where each clause is written in full.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<6}  {:>5}  {:<20}  meaning\n",
            "clause", "cases", "result"
        );
        for c in &self.clauses {
            let result = if c.failed_cases > 0 {
                format!("FAILED in {} case(s)", c.failed_cases)
            } else {
                c.verdict().to_owned()
            };
            out.push_str(&format!(
                "{:<6}  {:>5}  {result:<20}  {}\n",
                c.clause.id(),
                c.cases,
                c.clause.meaning()
            ));
        }
        out.push_str(&format!(
            "each clause in full: {CONTRACT_URL}, under its heading (B3: #{})\n",
            Clause::B3.anchor()
        ));
        out
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "contract run against {} (seed {})",
            self.base_url, self.seed
        )?;
        for n in &self.notices {
            writeln!(f, "note: {n}")?;
        }
        writeln!(f)?;
        f.write_str(&self.table())?;
        if let Some(b) = &self.time_budget {
            writeln!(
                f,
                "time budget {} s: {}",
                b.limit_secs,
                if b.spent {
                    format!("spent, {} planned cases not started", b.cases_not_started)
                } else {
                    "not spent".to_owned()
                }
            )?;
        }
        if !self.replayed.is_empty() {
            writeln!(f)?;
            writeln!(f, "{}", summary(&self.replayed))?;
            for r in &self.replayed {
                let also = also_text(&r.also_failed);
                let what = match &r.outcome {
                    ReplayOutcome::Passed => format!("held now{also}"),
                    ReplayOutcome::StillFails => format!("STILL FAILS{also}"),
                    ReplayOutcome::NotReplayed(why) => format!("not replayed: {why}"),
                };
                writeln!(
                    f,
                    "  {} ({}, case seed {}, found {}): {what}",
                    r.stored.clause,
                    r.stored.origin.property,
                    r.stored.origin.case_seed,
                    r.stored.found_at
                )?;
                if let Some(fail) = &r.failure {
                    for line in fail.evidence().lines() {
                        writeln!(f, "     {line}")?;
                    }
                }
            }
        }
        writeln!(f)?;
        writeln!(f, "observations (not asserted):")?;
        for o in &self.observations {
            writeln!(f, "  - {o}")?;
        }
        writeln!(
            f,
            "  - {} requests sent, {} leads created, {} answered 429 and resent",
            self.requests, self.created, self.throttled
        )?;
        for c in &self.clauses {
            let Some(fail) = &c.failure else { continue };
            writeln!(f)?;
            writeln!(
                f,
                "== {} FAILED: {}",
                fail.clause.id(),
                fail.clause.meaning()
            )?;
            writeln!(f, "   the clause in full: {}", fail.clause.link())?;
            for line in fail.evidence().lines() {
                writeln!(f, "   {line}")?;
            }
        }
        Ok(())
    }
}

/// A duration as seconds (a JSON number).
fn secs<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}
