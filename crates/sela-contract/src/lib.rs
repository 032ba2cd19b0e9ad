#![doc = include_str!("../README.md")]

pub mod budget;
pub mod checker;
pub mod clauses;
pub mod exchange;
pub mod failure;
pub mod har;
pub mod json;
pub mod junit;
mod progress;
pub mod regressions;
pub mod report;
pub mod schema;
pub mod stored_failure;
pub mod strategies;
pub mod target;
pub mod throttle;

use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

pub use clauses::Clause;
pub use failure::Failure;
pub use report::{ClauseResult, Report};
pub use target::{ApiKey, HarnessError, Target};

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
    /// Longest total wait for one request answered `429`; past it the run
    /// stops with [`HarnessError::Throttled`].
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
            throttle_patience: std::time::Duration::from_secs(30),
            time_budget: None,
            replay: Vec::new(),
            settle: std::time::Duration::from_secs(2),
            sequences: None,
            progress: false,
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

/// Runs every property against `target` and returns the report. Errors only when
/// the target cannot be reached at all, refuses the key outright (401/403 to an
/// authorised empty batch), keeps throttling beyond `throttle_patience`, or the
/// local runtime cannot start; every other
/// oddity in the target's answers is a clause failure or an observation.
///
/// Blocking: it runs its own tokio runtime (on a helper thread when called from
/// inside one).
pub fn run(target: &Target, config: &Config) -> Result<Report, HarnessError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return std::thread::scope(|s| {
            s.spawn(|| run_blocking(target, config))
                .join()
                .unwrap_or_else(|_| Err(HarnessError::Setup("the harness thread panicked".into())))
        });
    }
    run_blocking(target, config)
}

fn run_blocking(target: &Target, config: &Config) -> Result<Report, HarnessError> {
    let entropy = entropy();
    let seed = config.seed.unwrap_or(entropy);
    let runner = TestRunner::new_with_rng(
        proptest::test_runner::Config {
            cases: config.cases,
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed)),
    );
    // The e-mail tag is random even with a fixed seed: a re-run must not collide
    // with what an earlier run left on a persistent target.
    let tag = format!("r{:08x}", (entropy >> 16) as u32);
    let mut h = checker::Harness::new(target, config, runner, &tag, entropy % 1600)?;
    h.probe()?;
    h.start_aging();
    let opts = config.options();
    h.probe_sizes();
    h.run_batches(&strategies::batch(&opts));
    h.run_formats();
    h.run_independence(&strategies::independence_case(&opts));
    h.run_refusals(&strategies::refusal_case(&opts));
    h.run_concurrency(&strategies::concurrency_case(&opts, config.concurrency));
    h.run_sizes();
    h.run_operations();
    h.finish_aging();
    h.recheck_read_back();
    if let Some(e) = h.fatal() {
        return Err(e);
    }
    Ok(h.finish(seed))
}

/// 32 seed bytes for ChaCha from a u64 (splitmix64).
pub(crate) fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut x = seed;
    for chunk in out.chunks_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    out
}

fn entropy() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.finish()
}
