//! A stored failure (a line of the regressions file, see
//! [`regressions`](crate::regressions)) and what replaying it gave: the data
//! the report holds; [`regressions`](crate::regressions) reads and writes the
//! file.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clauses::Clause;
use crate::failure::Failure;

/// The `format_version` of the lines this version writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Where a failing case came from: enough to generate it again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOrigin {
    /// The property that drew it (`run_batches`, `run_independence`, ...).
    pub property: String,
    /// The seed of the case's own generator.
    pub case_seed: u64,
    /// The shrinking steps from the drawn case to the minimal one: `s` for
    /// simplify, `c` for complicate.
    pub shrink_path: String,
}

/// One item of a stored batch, as sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredItem {
    /// Its category and kind (`valid (plain)`, `non-object (null)`, ...).
    pub category: String,
    /// The item as sent (identities of the run that found it).
    pub item: Value,
}

/// One stored failure: a line of the regressions file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Regression {
    /// Always [`FORMAT_VERSION`] for lines this version writes.
    pub format_version: u32,
    /// The clause id that failed (`B3`).
    pub clause: String,
    /// The case to generate again.
    #[serde(flatten)]
    pub origin: CaseOrigin,
    /// The seed of the run that found it (`--seed` reproduces that whole run).
    pub run_seed: u64,
    /// What went wrong, in one line.
    pub detail: String,
    /// The shrunk batch as it was sent.
    pub batch: Vec<StoredItem>,
    /// The base URL of the target it was found on.
    pub found_on: String,
    /// When it was found (RFC 3339, UTC).
    pub found_at: String,
}

/// What replaying one stored failure gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "snake_case")]
pub enum ReplayOutcome {
    /// The clause held on the replayed case: the fault is fixed.
    Passed,
    /// The clause failed again.
    StillFails,
    /// The case could not be replayed (why): not a failure of the target.
    NotReplayed(String),
}

/// A stored failure and what its replay gave.
#[derive(Clone, Debug, Serialize)]
pub struct Replayed {
    /// The stored failure.
    pub stored: Regression,
    /// What the replay gave.
    pub outcome: ReplayOutcome,
    /// The evidence, when it still fails.
    pub failure: Option<Failure>,
    /// Other clauses that failed on the replayed case.
    pub also_failed: Vec<Clause>,
}

impl Replayed {
    /// True when the stored clause failed again.
    pub fn still_fails(&self) -> bool {
        self.outcome == ReplayOutcome::StillFails
    }
}

/// `replayed N stored failures: M still fail` (and how many could not be).
pub fn summary(replayed: &[Replayed]) -> String {
    let still = replayed.iter().filter(|r| r.still_fails()).count();
    let skipped = replayed
        .iter()
        .filter(|r| matches!(r.outcome, ReplayOutcome::NotReplayed(_)))
        .count();
    let mut s = format!(
        "replayed {} stored failures: {still} still fail",
        replayed.len() - skipped
    );
    if skipped > 0 {
        s.push_str(&format!(", {skipped} could not be replayed"));
    }
    s
}

/// `; the replayed case also failed B3, S2` (empty when it failed nothing else).
pub fn also_text(also: &[Clause]) -> String {
    if also.is_empty() {
        return String::new();
    }
    let ids: Vec<&str> = also.iter().map(|c| c.id()).collect();
    format!("; the replayed case also failed {}", ids.join(", "))
}
