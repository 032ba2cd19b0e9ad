//! The settle window (CONTRACT.md "Reads that lag writes"): a read that
//! disagrees with what the run expects is read again, with backoff, until it
//! agrees or `--settle` has passed since the first disagreeing read; only a
//! difference still there then is reported. Deduplication is not a read and
//! never waits. The report says how many reads waited and the longest wait.
//!
//! On a target that has shown no lag at all, a clause that has failed (a
//! difference outlasted the whole window) is not waited for again: later
//! disagreeing reads about it (more cases, shrinking) are taken at once. A
//! failing run is then about as fast as a passing one, and no verdict
//! changes: the clause has failed already, and a target that lags at all
//! keeps the whole window for every read.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::transport::Transport;
use crate::report::Clause;
use crate::target::{Auth, Exchange};

/// First pause before a read is repeated; doubled each time up to
/// [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(25);
const MAX_PAUSE: Duration = Duration::from_millis(400);

/// How reads waited for the settle window over the run, and what the run
/// learnt from it about the target's lag.
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
    /// Clauses that have failed in the run (see [`Waits::note_failed`]).
    failed: BTreeSet<Clause>,
    /// Disagreeing reads about a failed clause, on a target that never
    /// lagged, not waited for.
    shortened: u32,
}

/// One disagreeing read's wait: its clause, its limit and its backoff.
#[derive(Debug)]
pub(super) struct Wait {
    started: Instant,
    limit: Duration,
    /// True when the limit is the whole window.
    full: bool,
    pause: Duration,
    /// True once the read was repeated.
    repeated: bool,
}

impl Wait {
    /// Pauses before the read is repeated; false (and no pause) once the
    /// wait's time is up.
    pub(super) fn pause(&mut self) -> bool {
        let left = self.limit.saturating_sub(self.started.elapsed());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(self.pause.min(left));
        self.pause = (self.pause * 2).min(MAX_PAUSE);
        self.repeated = true;
        true
    }
}

impl Waits {
    /// No read waited yet; reads wait up to `window`.
    pub(crate) fn new(window: Duration) -> Self {
        Waits {
            window,
            settled: 0,
            unsettled: 0,
            longest: Duration::ZERO,
            failed: BTreeSet::new(),
            shortened: 0,
        }
    }

    /// One line for the report's observations.
    pub(crate) fn summary(&self) -> String {
        let mut line = format!(
            "settle window {:.1} s: {} read(s) waited and then agreed (longest wait {:.2} s), \
             {} still disagreed after the window",
            self.window.as_secs_f64(),
            self.settled,
            self.longest.as_secs_f64(),
            self.unsettled
        );
        if self.shortened > 0 {
            let clauses: Vec<&str> = self.failed.iter().map(|c| c.id()).collect();
            line.push_str(&format!(
                "; {} later disagreeing read(s) about a clause already failed ({}) were not \
                 waited for, no read having lagged in this run",
                self.shortened,
                clauses.join(", ")
            ));
        }
        line
    }

    /// True once some read of the run had to wait (reads lag in this run).
    pub(super) fn any(&self) -> bool {
        self.settled + self.unsettled > 0
    }

    /// True once some read of the run agreed after waiting: the target lags.
    fn lagged(&self) -> bool {
        self.settled > 0
    }

    /// Clauses that have failed in the run so far (from the tallies, after
    /// each case): a failure there outlasted the whole window.
    pub(super) fn note_failed(&mut self, clauses: impl IntoIterator<Item = Clause>) {
        self.failed.extend(clauses);
    }

    /// The wait of a read about `clause` that disagreed just now: the whole
    /// window, or none once `clause` has failed on a target that has shown
    /// no lag at all.
    pub(super) fn start(&self, clause: Clause) -> Wait {
        let full = !self.failed.contains(&clause) || self.lagged();
        Wait {
            started: Instant::now(),
            limit: if full { self.window } else { Duration::ZERO },
            full,
            pause: FIRST_PAUSE,
            repeated: false,
        }
    }

    /// Records how `wait` ended: `agreed` when the last read agreed.
    pub(super) fn finish(&mut self, wait: Wait, agreed: bool) {
        match (agreed, wait.full) {
            (true, _) if wait.repeated => {
                self.settled += 1;
                self.longest = self.longest.max(wait.started.elapsed());
            }
            (true, _) => {}
            (false, true) => self.unsettled += 1,
            (false, false) => self.shortened += 1,
        }
    }

    /// `first` is a `GET path` answer read to judge `clause`; when `agrees`
    /// says it does not agree, the read is repeated with backoff until it
    /// does or the wait is over (see [`Waits::start`]). Returns the last
    /// answer (the agreeing one, or the last disagreeing one).
    pub(super) fn settle_read(
        &mut self,
        net: &mut Transport,
        clause: Clause,
        path: &str,
        auth: Auth,
        first: Exchange,
        agrees: impl Fn(&Exchange) -> bool,
    ) -> Exchange {
        if agrees(&first) || first.transport_error.is_some() {
            return first;
        }
        let mut wait = self.start(clause);
        let mut last = first;
        while !net.gone() && wait.pause() {
            last = net.send("GET", path, auth.clone(), None);
            // A read that got no answer is not read again: repeats of it
            // would only pile up transport failures (B3 judges the read).
            if last.transport_error.is_some() {
                return last;
            }
            if agrees(&last) {
                self.finish(wait, true);
                return last;
            }
        }
        self.finish(wait, false);
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_clause_is_not_waited_for_on_a_target_that_never_lagged() {
        let mut waits = Waits::new(Duration::from_millis(30));
        let first = waits.start(Clause::B5);
        assert!(first.full);
        assert_eq!(first.limit, Duration::from_millis(30));
        waits.finish(first, false);
        // A difference that outlasted the window is not a failure yet (a
        // count over a lagging baseline is excused): still the whole window.
        assert!(waits.start(Clause::B5).full);
        waits.note_failed([Clause::B5]);
        let again = waits.start(Clause::B5);
        assert!(!again.full);
        assert_eq!(again.limit, Duration::ZERO);
        waits.finish(again, false);
        assert_eq!((waits.unsettled, waits.shortened), (1, 1));
        // Another clause still gets the whole window.
        assert_eq!(waits.start(Clause::U1).limit, Duration::from_millis(30));
    }

    #[test]
    fn a_target_seen_lagging_keeps_the_whole_window_for_every_read() {
        let mut waits = Waits::new(Duration::from_secs(2));
        waits.note_failed([Clause::L1]);
        assert!(!waits.start(Clause::L1).full);
        waits.settled = 1;
        assert_eq!(waits.start(Clause::L1).limit, Duration::from_secs(2));
    }

    #[test]
    fn a_wait_with_no_time_left_does_not_pause() {
        let waits = Waits::new(Duration::ZERO);
        let mut wait = waits.start(Clause::S2);
        assert!(!wait.pause());
        assert!(!wait.repeated);
    }
}
