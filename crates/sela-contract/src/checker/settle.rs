//! The settle window (CONTRACT.md "Reads that lag writes"): a read that
//! disagrees with what the run expects is read again, with backoff, until it
//! agrees or `--settle` has passed since the first disagreeing read; only a
//! difference still there then is reported. Deduplication is not a read and
//! never waits. The report says how many reads waited and the longest wait.
//!
//! The window is waited out in full at most once per clause: once a
//! difference about a clause has outlasted it, that clause has failed, and
//! later reads about it (more cases, shrinking) wait only as long as the
//! target has been seen to lag (not at all on a target that never lagged).
//! A failing run is then about as fast as a passing one, and no verdict
//! changes: a clause fails only on a difference that outlasted the window.

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
    /// Clauses a difference has outlasted the whole window for.
    outlasted: BTreeSet<Clause>,
    /// Disagreeing reads about an outlasted clause, waited for only as long
    /// as the target was seen to lag.
    shortened: u32,
}

/// One disagreeing read's wait: its clause, its limit and its backoff.
#[derive(Debug)]
pub(super) struct Wait {
    clause: Clause,
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
            outlasted: BTreeSet::new(),
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
            let clauses: Vec<&str> = self.outlasted.iter().map(|c| c.id()).collect();
            line.push_str(&format!(
                "; {} later disagreeing read(s) about a clause already failed after the whole \
                 window ({}) waited only as long as reads were seen to lag ({:.2} s)",
                self.shortened,
                clauses.join(", "),
                self.longest.as_secs_f64()
            ));
        }
        line
    }

    /// True once some read of the run had to wait (reads lag in this run).
    pub(super) fn any(&self) -> bool {
        self.settled + self.unsettled > 0
    }

    /// The wait of a read about `clause` that disagreed just now: the whole
    /// window, or, once a difference about `clause` has outlasted it, the
    /// longest lag seen so far (none on a target that never lagged).
    pub(super) fn start(&self, clause: Clause) -> Wait {
        let full = !self.outlasted.contains(&clause);
        Wait {
            clause,
            started: Instant::now(),
            limit: if full { self.window } else { self.learnt() },
            full,
            pause: FIRST_PAUSE,
            repeated: false,
        }
    }

    /// How long a read may still be waited for once its clause has failed:
    /// a little over the longest lag seen, within the window.
    fn learnt(&self) -> Duration {
        if self.longest.is_zero() {
            Duration::ZERO
        } else {
            (self.longest * 2).min(self.window)
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
            (false, true) => {
                self.unsettled += 1;
                self.outlasted.insert(wait.clause);
            }
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
    fn a_clause_waits_the_whole_window_until_a_difference_outlasts_it() {
        let mut waits = Waits::new(Duration::from_millis(30));
        let first = waits.start(Clause::B5);
        assert!(first.full);
        assert_eq!(first.limit, Duration::from_millis(30));
        waits.finish(first, false);
        assert_eq!(waits.unsettled, 1);
        // B5 has failed on a target that never lagged: no more waiting for it.
        let again = waits.start(Clause::B5);
        assert!(!again.full);
        assert_eq!(again.limit, Duration::ZERO);
        waits.finish(again, false);
        assert_eq!((waits.unsettled, waits.shortened), (1, 1));
        // Another clause still gets the whole window.
        assert_eq!(waits.start(Clause::U1).limit, Duration::from_millis(30));
    }

    #[test]
    fn a_target_seen_lagging_keeps_twice_its_longest_lag() {
        let mut waits = Waits::new(Duration::from_secs(2));
        waits.longest = Duration::from_millis(100);
        waits.settled = 1;
        waits.outlasted.insert(Clause::L1);
        assert_eq!(waits.start(Clause::L1).limit, Duration::from_millis(200));
        waits.longest = Duration::from_millis(1500);
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
