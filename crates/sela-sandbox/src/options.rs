//! Optional, harmless real-world behaviour of the sandbox: a bulk size limit,
//! periodic throttling, reads that lag writes and
//! network latency. All are off by default; the
//! contract accepts them (T1, the settle window), so a correct client and the
//! harness must cope with them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How the sandbox deviates from the plain model. `Default` deviates in nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxOptions {
    /// Largest bulk batch accepted; a larger one is refused whole with
    /// [`SandboxOptions::oversize_status`] and nothing of it is stored.
    /// `None`: no limit.
    pub max_batch: Option<usize>,
    /// The status of an oversize refusal: 400 (the default) or 413.
    pub oversize_status: u16,
    /// Answers every Nth authenticated request with `429` (counted over every
    /// route), before it is acted on. `None`: never throttles.
    pub throttle_every: Option<u64>,
    /// The `Retry-After` seconds sent with a `429`; `None` sends no header.
    pub retry_after: Option<u64>,
    /// Reads (`GET /api/leads/{id}/`, the list and its `count`) answer each
    /// account's state as it was this long ago, as a read replica does; writes
    /// and de-duplication always see the current state. `None`: reads are fresh.
    pub read_lag: Option<Duration>,
    /// Every answer is sent this long after its request arrived, as over a
    /// network to a distant server; answers to requests in flight together
    /// overlap (the wait does not hold up other connections). `None`: at once.
    pub latency: Option<Duration>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            max_batch: None,
            oversize_status: 400,
            throttle_every: None,
            retry_after: Some(1),
            read_lag: None,
            latency: None,
        }
    }
}

impl SandboxOptions {
    /// The refusal message of a batch of `len` items over the limit, if it is.
    pub(crate) fn oversize(&self, len: usize) -> Option<(u16, String)> {
        let max = self.max_batch?;
        (len > max).then(|| {
            (
                self.oversize_status,
                format!("Ensure this field has no more than {max} elements."),
            )
        })
    }
}

/// Counts authenticated requests for [`SandboxOptions::throttle_every`].
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    seen: AtomicU64,
}

impl Throttle {
    /// True when this request is to be answered `429`.
    pub(crate) fn hit(&self, options: &SandboxOptions) -> bool {
        let Some(every) = options.throttle_every.filter(|n| *n > 0) else {
            return false;
        };
        let n = self.seen.fetch_add(1, Ordering::Relaxed) + 1;
        n.is_multiple_of(every)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_every_nth_request_only() {
        let options = SandboxOptions {
            throttle_every: Some(3),
            ..SandboxOptions::default()
        };
        let t = Throttle::default();
        let hits: Vec<bool> = (0..7).map(|_| t.hit(&options)).collect();
        assert_eq!(hits, [false, false, true, false, false, true, false]);
        let never = Throttle::default();
        assert!((0..10).all(|_| !never.hit(&SandboxOptions::default())));
    }

    #[test]
    fn oversize_only_past_the_limit() {
        let options = SandboxOptions {
            max_batch: Some(100),
            oversize_status: 413,
            ..SandboxOptions::default()
        };
        assert_eq!(options.oversize(100), None);
        let (status, message) = options.oversize(101).unwrap();
        assert_eq!(status, 413);
        assert!(message.contains("100"), "{message}");
        assert_eq!(SandboxOptions::default().oversize(1_000_000), None);
    }
}
