//! The settle window (CONTRACT.md "Reads that lag writes"): a read that
//! disagrees with what the run expects is read again, with backoff, until it
//! agrees or `--settle` has passed since the first disagreeing read; only a
//! difference still there then is reported. Deduplication is not a read and
//! never waits. The report says how many reads waited and the longest wait.

use std::time::{Duration, Instant};

use super::transport::Transport;
use crate::target::{Auth, Exchange};

/// First pause before a read is repeated; doubled each time up to
/// [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(25);
const MAX_PAUSE: Duration = Duration::from_millis(400);

/// How reads waited for the settle window over the run.
#[derive(Clone, Debug)]
pub(crate) struct Waits {
    /// How long a read may lag a write (`--settle`).
    pub(crate) window: Duration,
    /// Reads that disagreed at first and agreed within the window.
    pub(crate) settled: u32,
    /// Reads that still disagreed when the window had passed.
    pub(crate) unsettled: u32,
    /// The longest wait of a read that then agreed.
    pub(crate) longest: Duration,
}

impl Waits {
    /// One line for the report's observations.
    /// No read waited yet; reads wait up to `window`.
    pub(crate) fn new(window: Duration) -> Self {
        Waits {
            window,
            settled: 0,
            unsettled: 0,
            longest: Duration::ZERO,
        }
    }

    /// One line for the report's observations.
    pub(crate) fn summary(&self) -> String {
        format!(
            "settle window {:.1} s: {} read(s) waited and then agreed (longest wait {:.2} s), \
             {} still disagreed after the window",
            self.window.as_secs_f64(),
            self.settled,
            self.longest.as_secs_f64(),
            self.unsettled
        )
    }
}

impl Waits {
    /// True once some read of the run had to wait (reads lag in this run).
    pub(super) fn any(&self) -> bool {
        self.settled + self.unsettled > 0
    }

    /// `first` is a `GET path` answer; when `agrees` says it does not agree,
    /// the read is repeated with backoff until it does or the window has
    /// passed. Returns the last answer (the agreeing one, or the last
    /// disagreeing one after the window).
    pub(super) fn settle_read(
        &mut self,
        net: &mut Transport,
        path: &str,
        auth: Auth,
        first: Exchange,
        agrees: impl Fn(&Exchange) -> bool,
    ) -> Exchange {
        if agrees(&first) || first.transport_error.is_some() {
            return first;
        }
        let window = self.window;
        let started = Instant::now();
        let mut pause = FIRST_PAUSE;
        let mut last = first;
        while started.elapsed() < window && !net.gone() {
            let left = window.saturating_sub(started.elapsed());
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(MAX_PAUSE);
            last = net.send("GET", path, auth.clone(), None);
            // A read that got no answer is not read again: repeats of it
            // would only pile up transport failures (B3 judges the read).
            if last.transport_error.is_some() {
                return last;
            }
            if agrees(&last) {
                self.settled += 1;
                self.longest = self.longest.max(started.elapsed());
                return last;
            }
        }
        self.unsettled += 1;
        last
    }
}
