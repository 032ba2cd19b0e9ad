//! One test case's outcome (clauses checked and failed) and the parsed results
//! of one bulk answer.

use std::cell::RefCell;
use std::collections::BTreeSet;

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

thread_local! {
    /// The failures switched off for the run on this thread, as `CLAUSE
    /// part` (`T1 status`, `R1 counter`): from [`Config::skip_checks`]
    /// (tests only; a run's checks all happen on its own thread).
    ///
    /// [`Config::skip_checks`]: crate::Config::skip_checks
    static SKIPPED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Switches off, for the run on this thread, the checks named in `checks`:
/// `CLAUSE part` drops that failure wherever it is found; other names are
/// consulted by the check sites themselves ([`skips`]).
pub(super) fn skip_failures(checks: &[String]) {
    SKIPPED.with(|s| *s.borrow_mut() = checks.to_vec());
}

/// True when the check named `name` is switched off for this thread's run.
pub(crate) fn skips(name: &str) -> bool {
    SKIPPED.with(|s| s.borrow().iter().any(|n| n == name))
}

/// True when the failures of `clause` in `part` are switched off: named
/// `CLAUSE part` (wherever recorded) or `CLAUSE part@site` (recorded at that
/// file, `checker/bulk.rs`, or line, `checker/bulk.rs:72`).
fn skipped(clause: Clause, part: &str, site: &str) -> bool {
    SKIPPED.with(|s| {
        let s = s.borrow();
        if s.is_empty() {
            return false;
        }
        let label = format!("{clause} {part}");
        let file = site.split(':').next().unwrap_or_default();
        s.iter().any(|n| match n.split_once('@') {
            None => *n == label,
            Some((l, at)) => l == label && (at == site || at == file),
        })
    })
}

/// The caller's place in the harness source, `checker/bulk.rs:72`.
#[track_caller]
fn site() -> String {
    let at = std::panic::Location::caller();
    let file = at.file().replace('\\', "/");
    let file = file.rsplit_once("src/").map_or(file.as_str(), |(_, f)| f);
    format!("{file}:{}", at.line())
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
    #[track_caller]
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
    #[track_caller]
    pub(super) fn fail_labelled(
        &mut self,
        clause: Clause,
        part: &str,
        detail: String,
        batch: Vec<(String, serde_json::Value)>,
        exchanges: Vec<Exchange>,
    ) {
        self.checked.insert(clause);
        // A check switched off by a test: it ran, and its failure is dropped.
        let site = site();
        if skipped(clause, part, &site) {
            return;
        }
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
            site,
        });
    }

    pub(super) fn fails(&self, c: Clause) -> bool {
        self.failures.iter().any(|f| f.clause == c)
    }
}

/// How many results of one answer were of each action.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Outcomes {
    pub(super) created: usize,
    pub(super) reengaged: usize,
    pub(super) errors: usize,
}
