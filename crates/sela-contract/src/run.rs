//! [`run`]: one run of every property against a target, with its seed.

use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

use crate::{Config, HarnessError, Report, Target, checker, strategies};

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
    // The parts of the run, in order; `--fail-fast` stops between them too.
    let parts: [fn(&mut checker::Harness<'_>, &strategies::Options, &Config); 10] = [
        |h, _, _| h.probe_sizes(),
        |h, o, _| h.run_batches(&strategies::batch(o)),
        |h, _, _| h.run_formats(),
        |h, o, _| h.run_independence(&strategies::independence_case(o)),
        |h, o, _| h.run_refusals(&strategies::refusal_case(o)),
        |h, o, c| h.run_concurrency(&strategies::concurrency_case(o, c.concurrency)),
        |h, _, _| h.run_sizes(),
        |h, _, _| h.run_operations(),
        |h, _, _| h.finish_aging(),
        |h, _, _| h.recheck_read_back(),
    ];
    if h.go_on() {
        for part in parts {
            part(&mut h, &opts, config);
            if !h.go_on() {
                break;
            }
        }
    }
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
