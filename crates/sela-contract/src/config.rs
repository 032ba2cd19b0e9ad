//! [`Config`]: how a run is made (cases, sizes, the ids that exist on the
//! target, the settle window, the time budget).

use crate::{regressions, strategies};

/// How a run is made.
#[derive(Clone, Debug)]
pub struct Config {
    /// Test cases per property (mixed batches, independence and refusals run
    /// this many; concurrency and sized batches a quarter, at least 4).
    pub cases: u32,
    /// The seed of the generated cases; `None` draws one (printed in the report).
    pub seed: Option<u64>,
    /// Largest mixed batch sent (the size probe and sized batches go up to
    /// `max_size`).
    pub max_batch: usize,
    /// Most leads the run may create; cases that could exceed it are skipped.
    pub max_created: usize,
    /// A lead type id that exists on the target (sent in valid leads only then).
    pub lead_type: Option<i64>,
    /// A representative id that exists on the target (sent only then).
    pub representative: Option<i64>,
    /// Most extra executions spent shrinking one failing clause.
    pub max_shrink_steps: u32,
    /// The account is shared with other writers: S2's list-count growth is not
    /// checked (announced in the report).
    pub shared_account: bool,
    /// Largest batch the size probe sends (the limit is probed up to it).
    pub max_size: usize,
    /// Requests in flight at once in the concurrency property (S4), 2 to 16.
    pub concurrency: usize,
    /// Cases run side by side in the bulk properties (mixed batches,
    /// independence, refusals), concurrency (S4), the operation walks, the
    /// sequences and the concurrent groups (S5; after their first case,
    /// which runs alone), the list count judged over each wave; 1: one at
    /// a time. Against a remote target a case is mostly round trips.
    pub lanes: usize,
    /// Longest total wait for one request answered `429`; past it the run
    /// stops with [`HarnessError::Throttled`](crate::HarnessError::Throttled).
    pub throttle_patience: std::time::Duration,
    /// Once this much time has passed no new case starts (shrinking what
    /// failed still finishes); `None`: no limit.
    pub time_budget: Option<std::time::Duration>,
    /// Stored failures to replay before each property's new cases (see
    /// [`regressions::load`]).
    pub replay: Vec<regressions::Regression>,
    /// How long a read that disagrees with what was written is retried (with
    /// backoff) before the difference is reported (`--settle`, default 2 s):
    /// reads may lag writes behind a replica or a cache.
    pub settle: std::time::Duration,
    /// Stateful sequences to run (`--sequences`); `None`: an eighth of
    /// `cases`, at least 2.
    pub sequences: Option<u32>,
    /// Show progress on standard error (a line redrawn on a terminal, a plain
    /// line per property otherwise).
    pub progress: bool,
    /// Stop at the first failure, unshrunk (`--fail-fast`): the report has
    /// that one clause failed and the clauses not reached yet not checked.
    pub fail_fast: bool,
    /// Checks switched off by name, for the fault tests only: a test that
    /// pins one check switches off the others that would catch the same
    /// fault, and `tests/contract_faults/remove_checks.sh` switches off the
    /// pinned one to see its tests fail (names and sites listed in
    /// `tests/contract_faults/PINS.md`). Empty in every real run.
    #[doc(hidden)]
    pub skip_checks: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cases: 64,
            seed: None,
            max_batch: 8,
            max_created: 2000,
            lead_type: None,
            representative: None,
            max_shrink_steps: 48,
            shared_account: false,
            max_size: 1000,
            concurrency: 6,
            lanes: 8,
            throttle_patience: std::time::Duration::from_secs(30),
            time_budget: None,
            replay: Vec::new(),
            settle: std::time::Duration::from_secs(2),
            sequences: None,
            progress: false,
            fail_fast: false,
            skip_checks: Vec::new(),
        }
    }
}

impl Config {
    /// The strategy options this configuration implies.
    pub fn options(&self) -> strategies::Options {
        strategies::Options {
            max_batch: self.max_batch,
            pool_size: self.pool_size(),
            lead_type: self.lead_type,
            representative: self.representative,
        }
    }

    pub(crate) fn pool_size(&self) -> u8 {
        6
    }
}
