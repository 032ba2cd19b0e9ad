//! What a run found: per clause the cases checked and, when it failed, the
//! evidence (shrunk batch, request and response JSON, a `curl` line); plus the
//! observations CONTRACT.md asks for.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::budget::BudgetUse;
use super::json::{exchanges_json, items_json, secs};
use super::regressions::{CaseOrigin, ReplayOutcome, Replayed, summary};
use super::target::Exchange;

/// A clause of CONTRACT.md, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Clause {
    /// Transport: status 200 or 201.
    T1,
    /// Transport: `application/json`.
    T2,
    /// Transport: the body validates against `BulkCreateLeadResponse`.
    T3,
    /// Batch: one result per item.
    B1,
    /// Batch: per-item shape of a result.
    B2,
    /// Batch: result i describes item i.
    B3,
    /// Batch: valid items' outcomes do not depend on invalid neighbours.
    B4,
    /// Batch: what is read back is exactly what was sent (fidelity).
    B5,
    /// State: distinct ids for created leads.
    S1,
    /// State: no identity created twice.
    S2,
    /// State: a request refused as a whole, or an item answered error, stores
    /// nothing.
    S3,
    /// State: requests in flight at the same time keep the clauses (at most one
    /// creation per identity, each request's results describe its own items).
    S4,
    /// Re-engagement: a `reengaged` answer adds one to the lead's counter and
    /// sets its re-engagement time.
    R1,
    /// Re-engagement: a do-not-contact flag set true stays true after any
    /// re-engagement.
    R2,
    /// Single create: `POST /api/leads/` creates a new identity once, never a
    /// known one, and refuses an invalid item.
    C1,
    /// PATCH is partial: sent fields change, every other field stays.
    U1,
    /// PUT by match changes exactly the lead with that phone and e-mail.
    U2,
    /// An update of phone or e-mail moves the lead's identity.
    U3,
    /// Reads are fresh: a write shows within the settle window and keeps
    /// showing.
    G1,
    /// Listing is exact: every lead once, as many as `count`.
    L1,
    /// Access: no token or a wrong token gets 401/403.
    A1,
    /// Access: a malformed body gets 400 with a JSON body.
    A2,
    /// Access: one account never sees, changes or re-engages another's leads.
    A3,
}

impl Clause {
    /// Every clause, in CONTRACT.md order.
    pub const ALL: [Clause; 23] = [
        Clause::T1,
        Clause::T2,
        Clause::T3,
        Clause::B1,
        Clause::B2,
        Clause::B3,
        Clause::B4,
        Clause::B5,
        Clause::S1,
        Clause::S2,
        Clause::S3,
        Clause::S4,
        Clause::R1,
        Clause::R2,
        Clause::C1,
        Clause::U1,
        Clause::U2,
        Clause::U3,
        Clause::G1,
        Clause::L1,
        Clause::A1,
        Clause::A2,
        Clause::A3,
    ];

    /// The id as written in CONTRACT.md (`T1`, ..., `A2`).
    pub fn id(self) -> &'static str {
        match self {
            Clause::T1 => "T1",
            Clause::T2 => "T2",
            Clause::T3 => "T3",
            Clause::B1 => "B1",
            Clause::B2 => "B2",
            Clause::B3 => "B3",
            Clause::B4 => "B4",
            Clause::B5 => "B5",
            Clause::S1 => "S1",
            Clause::S2 => "S2",
            Clause::S3 => "S3",
            Clause::S4 => "S4",
            Clause::R1 => "R1",
            Clause::R2 => "R2",
            Clause::C1 => "C1",
            Clause::U1 => "U1",
            Clause::U2 => "U2",
            Clause::U3 => "U3",
            Clause::G1 => "G1",
            Clause::L1 => "L1",
            Clause::A1 => "A1",
            Clause::A2 => "A2",
            Clause::A3 => "A3",
        }
    }

    /// One line on what the clause means.
    pub fn meaning(self) -> &'static str {
        match self {
            Clause::T1 => "an authorised, well-formed bulk request is answered 200 or 201",
            Clause::T2 => "that answer is application/json",
            Clause::T3 => "its body validates against BulkCreateLeadResponse in openapi.yaml",
            Clause::B1 => "len(results) == len(leads)",
            Clause::B2 => {
                "action is created/reengaged/error; error => id null and a message; \
                 created/reengaged => integer id and no error"
            }
            Clause::B3 => {
                "result i describes item i (invalid items get error, new valid ones are \
                 created, the lead stored under the id holds item i's fields)"
            }
            Clause::B4 => "a valid item's outcome does not depend on invalid items around it",
            Clause::B5 => {
                "what is read back is exactly what was sent: every character (outside the BMP \
                 too), doubles and integers within 2^53 by value, nested shapes, the same instant"
            }
            Clause::S1 => "two created results never carry the same id",
            Clause::S2 => {
                "an identity once created (in any US format) is never created again; \
                 reengaged carries the existing lead's id; the list count grows by the \
                 number created"
            }
            Clause::S3 => {
                "a request refused as a whole (401/403/400/413) or an item answered error \
                 stores nothing"
            }
            Clause::S4 => {
                "requests in flight together create an identity at most once and each \
                 request's results describe its own items"
            }
            Clause::R1 => {
                "a reengaged answer adds exactly one to the lead's re-engagement counter and \
                 sets its re-engagement time; a created lead starts at 0"
            }
            Clause::R2 => {
                "a lead whose call_dnc or sms_dnc was set true keeps it true after any later \
                 re-engagement"
            }
            Clause::C1 => {
                "POST /api/leads/ creates a new identity once (the count grows by one), answers \
                 or refuses a known one without creating, and refuses an invalid item with 400"
            }
            Clause::U1 => {
                "PATCH changes each sent field to the sent value and nothing else; 404 for an \
                 unknown id, 400 and no change for an invalid value"
            }
            Clause::U2 => {
                "PUT /api/leads/update/ changes exactly the lead whose phone and e-mail both \
                 match (not a household neighbour); no match is refused and changes nothing"
            }
            Clause::U3 => {
                "after an update of phone or e-mail the new identity re-engages that lead (or is \
                 refused) and the old identity is created as a new lead"
            }
            Clause::G1 => {
                "GET /api/leads/{id}/ shows an answered write within the settle window and keeps \
                 showing it"
            }
            Clause::L1 => {
                "walking GET /api/leads/ page by page lists every lead of the account exactly \
                 once, as many as count"
            }
            Clause::A1 => {
                "no Authorization, or a wrong token (near misses too), is answered 401 or 403"
            }
            Clause::A2 => {
                "a body that is not JSON, lacks leads, or whose leads is not an array is \
                 answered 400 with a JSON body"
            }
            Clause::A3 => {
                "neither account sees, changes, lists, counts or re-engages the other's leads"
            }
        }
    }

    /// The clause's title in CONTRACT.md (`count`, `per-item shape`, ...).
    pub fn title(self) -> &'static str {
        match self {
            Clause::T1 => "status",
            Clause::T2 => "content type",
            Clause::T3 => "schema",
            Clause::B1 => "count",
            Clause::B2 => "per-item shape",
            Clause::B3 => "correspondence (order)",
            Clause::B4 => "independence",
            Clause::B5 => "fidelity",
            Clause::S1 => "distinct ids",
            Clause::S2 => "no double creation",
            Clause::S3 => "rejected requests and rejected items leave no trace",
            Clause::S4 => "concurrent requests",
            Clause::R1 => "re-engagement is recorded",
            Clause::R2 => "re-engagement keeps do-not-contact",
            Clause::C1 => "single create",
            Clause::U1 => "PATCH is partial",
            Clause::U2 => "PUT matches phone and e-mail",
            Clause::U3 => "an update moves the identity",
            Clause::G1 => "reads are fresh",
            Clause::L1 => "listing is exact",
            Clause::A1 => "auth",
            Clause::A2 => "malformed",
            Clause::A3 => "account isolation",
        }
    }

    /// The clause with this id (`"B3"`), if any.
    pub fn from_id(id: &str) -> Option<Clause> {
        Clause::ALL
            .into_iter()
            .find(|c| c.id().eq_ignore_ascii_case(id))
    }
}

impl Serialize for Clause {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The evidence of one clause failure.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The clause that failed.
    pub clause: Clause,
    /// What went wrong, in one line.
    pub detail: String,
    /// The (shrunk) batch, as sent, with each item's category.
    #[serde(serialize_with = "items_json")]
    pub batch: Vec<(String, Value)>,
    /// The requests and answers involved, in order.
    #[serde(serialize_with = "exchanges_json")]
    pub exchanges: Vec<Exchange>,
    /// How shrinking went for this clause.
    pub shrink: Shrink,
    /// Why the example may not reproduce on its own, when the target's state
    /// (leads created earlier in the run) matters to it.
    pub state_note: Option<String>,
}

/// How shrinking went for one failing clause.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Shrink {
    /// True for a generated case (shrinkable); false for a fixed probe of the
    /// run (the size probe, the formats re-send, the final read-back check).
    pub generated: bool,
    /// Re-executions spent shrinking.
    pub steps: u32,
    /// Steps that still broke the clause (the example is smaller than the
    /// first failing case when this is above zero).
    pub accepted: u32,
    /// True when shrinking stopped because it used its whole budget
    /// (`max_shrink_steps`), not because no smaller case failed.
    pub stopped_on_budget: bool,
}

/// A clause's result over the run.
#[derive(Clone, Debug, Serialize)]
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
    #[serde(rename = "time_secs", serialize_with = "secs")]
    pub time: Duration,
    /// The failing case, to replay it (see [`regressions`](super::regressions)).
    pub origin: Option<CaseOrigin>,
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

    /// The table of clauses (clause, cases, result).
    pub fn table(&self) -> String {
        let mut out = String::from("clause  cases  result\n");
        for c in &self.clauses {
            let result = if c.failed_cases > 0 {
                format!(
                    "FAILED in {} case(s): {}",
                    c.failed_cases,
                    c.clause.meaning()
                )
            } else {
                c.verdict().to_owned()
            };
            out.push_str(&format!(
                "{:<6}  {:>5}  {}\n",
                c.clause.id(),
                c.cases,
                result
            ));
        }
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
                let also = super::junit::also_text(&r.also_failed);
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
            for line in fail.evidence().lines() {
                writeln!(f, "   {line}")?;
            }
        }
        Ok(())
    }
}

impl Failure {
    /// The evidence as text (the text report and JUnit's `<failure>` use it):
    /// the detail, how shrinking went, the batch, and each request, response
    /// and `curl` line (the key shown as `$SELA_API_KEY`).
    pub fn evidence(&self) -> String {
        let mut out = format!("{}\n", self.detail);
        let s = &self.shrink;
        let how = match (s.accepted, s.stopped_on_budget) {
            _ if !s.generated => "not shrunk: a fixed probe of the run".to_owned(),
            (0, false) if s.steps == 0 => "already minimal".to_owned(),
            (0, false) => format!("no smaller case failed the same way ({} tried)", s.steps),
            (0, true) => format!("not shrunk: the budget of {} steps ran out", s.steps),
            (n, false) => format!("shrunk in {n} of {} steps to a minimal case", s.steps),
            (n, true) => format!(
                "shrunk in {n} of {} steps; shrinking stopped on its budget, a smaller \
                 case may exist",
                s.steps
            ),
        };
        out.push_str(&format!("shrinking: {how}\n"));
        if let Some(note) = &self.state_note {
            out.push_str(&format!("reproducing: {note}\n"));
        }
        if !self.batch.is_empty() {
            // A stateful sequence's evidence is its steps (`sequence step 1: ...`).
            let steps = self
                .batch
                .iter()
                .all(|(l, _)| l.starts_with("sequence step "));
            let (what, unit) = if steps {
                ("sequence", "steps")
            } else {
                ("batch", "items")
            };
            let label = if s.accepted > 0 {
                format!("shrunk {what}")
            } else {
                what.to_owned()
            };
            out.push_str(&format!("{label} ({} {unit}):\n", self.batch.len()));
            for (i, (category, item)) in self.batch.iter().enumerate() {
                out.push_str(&format!("  [{i}] {category}: {item}\n"));
            }
        }
        for ex in &self.exchanges {
            out.push_str(&format!("request:  {}\n", ex.request_json()));
            out.push_str(&format!("response: {}\n", ex.response_json()));
            out.push_str(&format!("reproduce: {}\n", ex.curl()));
        }
        out
    }
}
