//! The settle window (CONTRACT.md "Reads that lag writes"): a read that
//! disagrees with what the run expects is read again, with backoff, until it
//! agrees or `--settle` has passed since the first disagreeing read; only a
//! difference still there then is reported. Deduplication is not a read and
//! never waits. The report says how many reads waited and the longest wait.
//!
//! What the run learns about the target's lag shortens later waits, so that
//! a failing run is about as fast as a passing one (issue 26):
//! - once a difference has outlasted the whole window on a target that has
//!   shown no lag at all (no read ever agreed after waiting), later
//!   disagreeing reads are re-read only for a short probe
//!   ([`Waits::probe`]), not the whole window;
//! - a clause with a difference that outlasted its wait (the window, or a
//!   probe on such a target), or that has failed, is not waited for again:
//!   later disagreeing reads about it are taken at once, within the case
//!   and in later cases and shrinking.
//!
//! A target that lags at all (some read agreed after waiting) keeps the
//! whole window for every read, so no lagging read is judged early; the
//! report says how many reads were judged on a shortened wait.

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
    /// Clauses with a difference that outlasted its wait while no read had
    /// lagged (see [`Waits::finish`]): while there is one, later waits are
    /// probes.
    outlasted: BTreeSet<Clause>,
    /// Disagreeing reads re-read only for a probe, and still disagreeing.
    probed: u32,
    /// Disagreeing reads about a clause not waited for again, taken at once.
    shortened: u32,
}

/// How long one disagreeing read is re-read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Span {
    /// The whole settle window.
    Window,
    /// A short probe: a difference has outlasted the window on a target
    /// that never lagged.
    Probe,
    /// Not at all: the clause is not waited for again.
    None,
}

/// One disagreeing read's wait: its clause, its limit and its backoff.
#[derive(Debug)]
pub(super) struct Wait {
    clause: Clause,
    started: Instant,
    limit: Duration,
    span: Span,
    pause: Duration,
    /// True once the read was repeated.
    repeated: bool,
}

impl Wait {
    /// The time left of this wait.
    fn left(&self) -> Duration {
        self.limit.saturating_sub(self.started.elapsed())
    }

    /// Pauses before the read is repeated; false (and no pause) once the
    /// wait's time is up.
    pub(super) fn pause(&mut self) -> bool {
        let left = self.left();
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
            outlasted: BTreeSet::new(),
            probed: 0,
            shortened: 0,
        }
    }

    /// The probe of a target that has shown no lag: a sixteenth of the
    /// window, at least two re-reads' worth of backoff (one at 25 ms, one
    /// 50 ms later), never more than the window.
    pub(crate) fn probe(&self) -> Duration {
        (self.window / 16).max(FIRST_PAUSE * 3).min(self.window)
    }

    /// Takes in what a lane's reads waited for since it was cloned from
    /// `start` (cases run side by side).
    pub(super) fn absorb(&mut self, start: &Waits, lane: Waits) {
        self.settled += lane.settled - start.settled;
        self.unsettled += lane.unsettled - start.unsettled;
        self.probed += lane.probed - start.probed;
        self.shortened += lane.shortened - start.shortened;
        self.longest = self.longest.max(lane.longest);
        self.failed.extend(lane.failed);
        self.outlasted.extend(lane.outlasted);
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
        if self.probed + self.shortened > 0 {
            let clauses: Vec<&str> = self.failed.union(&self.outlasted).map(|c| c.id()).collect();
            line.push_str(&format!(
                "; no read having lagged in this run, {} later disagreeing read(s) were \
                 re-read for only {:.2} s and {} about a clause already failed or \
                 disagreeing ({}) were taken at once",
                self.probed,
                self.probe().as_secs_f64(),
                self.shortened,
                clauses.join(", ")
            ));
        }
        line
    }

    /// True once some read of the run agreed after waiting: the target lags.
    /// (A read that disagreed for the whole window shows a difference, not
    /// lag.)
    pub(super) fn lagged(&self) -> bool {
        self.settled > 0
    }

    /// Clauses that have failed in the run so far (from the tallies, after
    /// each case): a failure there outlasted the whole window.
    pub(super) fn note_failed(&mut self, clauses: impl IntoIterator<Item = Clause>) {
        self.failed.extend(clauses);
    }

    /// The wait of a read about `clause` that disagreed just now: the whole
    /// window on a target that has lagged or while no difference has
    /// outlasted the window; else a probe, or none for a clause not waited
    /// for again.
    pub(super) fn start(&self, clause: Clause) -> Wait {
        let span = if self.lagged() {
            Span::Window
        } else if self.failed.contains(&clause) || self.outlasted.contains(&clause) {
            Span::None
        } else if !self.outlasted.is_empty() {
            Span::Probe
        } else {
            Span::Window
        };
        Wait {
            clause,
            started: Instant::now(),
            limit: match span {
                Span::Window => self.window,
                Span::Probe => self.probe(),
                Span::None => Duration::ZERO,
            },
            span,
            pause: FIRST_PAUSE,
            repeated: false,
        }
    }

    /// Records how `wait` ended: `agreed` when the last read agreed. A
    /// difference that outlasted its whole wait on a target that has not
    /// lagged is not waited for again, and makes later waits probes. A wait
    /// its caller gave up before its time was over tells nothing.
    pub(super) fn finish(&mut self, wait: Wait, agreed: bool) {
        if agreed {
            if wait.repeated {
                self.settled += 1;
                self.longest = self.longest.max(wait.started.elapsed());
            }
            return;
        }
        if !wait.left().is_zero() {
            return;
        }
        match wait.span {
            Span::Window => self.unsettled += 1,
            Span::Probe => self.probed += 1,
            Span::None => {
                self.shortened += 1;
                return;
            }
        }
        if !self.lagged() {
            self.outlasted.insert(wait.clause);
        }
    }

    /// A difference about `clause` that outlasted its wait was excused (a
    /// count over a baseline that may have lagged, a lead read in another
    /// representation of the state listed): it is no evidence that
    /// differences persist on this target.
    pub(super) fn excuse(&mut self, clause: Clause) {
        self.outlasted.remove(&clause);
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
        let read = Reread {
            clause,
            path: path.to_owned(),
            auth,
            first,
            agrees: &agrees,
        };
        self.settle_reads(net, vec![read])
            .pop()
            .expect("one answer per read")
    }

    /// [`Waits::settle_read`] for several reads at once: their waits run
    /// together (each disagreeing read is repeated in the same rounds, the
    /// repeats sent concurrently), so a batch whose reads all lag waits as
    /// long as its slowest read, not the sum. Returns the last answer of
    /// each read, in order.
    pub(super) fn settle_reads(
        &mut self,
        net: &mut Transport,
        reads: Vec<Reread<'_>>,
    ) -> Vec<Exchange> {
        let mut last: Vec<Exchange> = Vec::with_capacity(reads.len());
        let mut open: Vec<(usize, Wait)> = Vec::new();
        for (i, read) in reads.iter().enumerate() {
            let first = read.first.clone();
            // A read that got no answer is not read again: repeats of it
            // would only pile up transport failures (B3 judges the read).
            if !(read.agrees)(&first) && first.transport_error.is_none() {
                open.push((i, self.start(read.clause)));
            }
            last.push(first);
        }
        let mut pause = FIRST_PAUSE;
        while !open.is_empty() && !net.gone() {
            // Waits whose time is up end here; the others pause together.
            let (over, going): (Vec<_>, Vec<_>) =
                open.into_iter().partition(|(_, w)| w.left().is_zero());
            for (_, wait) in over {
                self.finish(wait, false);
            }
            open = going;
            let Some(longest) = open.iter().map(|(_, w)| w.left()).max() else {
                break;
            };
            std::thread::sleep(pause.min(longest));
            pause = (pause * 2).min(MAX_PAUSE);
            let again = open
                .iter()
                .map(|(i, _)| ("GET", reads[*i].path.clone(), reads[*i].auth.clone(), None))
                .collect();
            let answers = net.send_all(again);
            let mut still = Vec::with_capacity(open.len());
            for ((i, mut wait), ex) in open.into_iter().zip(answers) {
                wait.repeated = true;
                let agreed = ex.transport_error.is_none() && (reads[i].agrees)(&ex);
                let lost = ex.transport_error.is_some();
                last[i] = ex;
                if agreed {
                    self.finish(wait, true);
                } else if !lost {
                    still.push((i, wait));
                }
            }
            open = still;
        }
        for (_, wait) in open {
            self.finish(wait, false);
        }
        last
    }
}

/// One read to settle: the clause a difference would fail, the path read
/// again (with `auth`), the first answer and when an answer agrees.
pub(super) struct Reread<'a> {
    pub(super) clause: Clause,
    pub(super) path: String,
    pub(super) auth: Auth,
    pub(super) first: Exchange,
    pub(super) agrees: &'a Agrees<'a>,
}

/// When an answer agrees with what the run expects.
pub(super) type Agrees<'a> = dyn Fn(&Exchange) -> bool + 'a;

#[cfg(test)]
mod tests {
    use super::*;

    /// A wait whose time is over, as if its reads had kept disagreeing.
    fn over(waits: &Waits, clause: Clause) -> Wait {
        let mut wait = waits.start(clause);
        wait.started -= wait.limit;
        wait
    }

    #[test]
    fn a_failed_clause_is_not_waited_for_on_a_target_that_never_lagged() {
        let mut waits = Waits::new(Duration::from_millis(30));
        let first = waits.start(Clause::B5);
        assert_eq!((first.span, first.limit), (Span::Window, waits.window));
        waits.note_failed([Clause::B5]);
        let again = waits.start(Clause::B5);
        assert_eq!((again.span, again.limit), (Span::None, Duration::ZERO));
        waits.finish(again, false);
        assert_eq!(waits.shortened, 1);
        // Failing alone says nothing about lag: another clause still gets the
        // whole window.
        assert_eq!(waits.start(Clause::U1).span, Span::Window);
    }

    #[test]
    fn once_a_difference_outlasts_the_window_later_waits_are_probes() {
        let mut waits = Waits::new(Duration::from_secs(2));
        waits.finish(over(&waits, Clause::B3), false);
        assert_eq!(waits.unsettled, 1);
        // The same clause is not waited for again, within the case too.
        assert_eq!(waits.start(Clause::B3).span, Span::None);
        // Another clause is re-read for a probe only.
        let probe = waits.start(Clause::U1);
        assert_eq!((probe.span, probe.limit), (Span::Probe, waits.probe()));
        assert_eq!(waits.probe(), Duration::from_millis(125));
        waits.finish(over(&waits, Clause::U1), false);
        assert_eq!(waits.probed, 1);
        assert_eq!(waits.start(Clause::U1).span, Span::None);
        assert!(waits.summary().contains("B3, U1"), "{}", waits.summary());
    }

    #[test]
    fn an_excused_difference_and_a_wait_given_up_early_teach_nothing() {
        let mut waits = Waits::new(Duration::from_secs(2));
        waits.finish(over(&waits, Clause::S2), false);
        waits.excuse(Clause::S2);
        assert_eq!(waits.start(Clause::S2).span, Span::Window);
        assert_eq!(waits.start(Clause::U1).span, Span::Window);
        // Given up at once (a group not judged): not a difference that
        // outlasted anything.
        let early = waits.start(Clause::S5);
        waits.finish(early, false);
        assert_eq!(waits.start(Clause::U1).span, Span::Window);
        assert_eq!(waits.unsettled, 1);
    }

    #[test]
    fn a_target_seen_lagging_keeps_the_whole_window_for_every_read() {
        let mut waits = Waits::new(Duration::from_secs(2));
        waits.note_failed([Clause::L1]);
        waits.finish(over(&waits, Clause::B3), false);
        assert_eq!(waits.start(Clause::L1).span, Span::None);
        assert_eq!(waits.start(Clause::U1).span, Span::Probe);
        // A read agreed after waiting: the target lags.
        let mut lagging = waits.start(Clause::U1);
        lagging.repeated = true;
        waits.finish(lagging, true);
        assert_eq!(waits.settled, 1);
        for c in [Clause::L1, Clause::B3, Clause::U1] {
            assert_eq!(waits.start(c).limit, Duration::from_secs(2));
        }
    }

    #[test]
    fn a_wait_with_no_time_left_does_not_pause() {
        let waits = Waits::new(Duration::ZERO);
        let mut wait = waits.start(Clause::S2);
        assert!(!wait.pause());
        assert!(!wait.repeated);
    }
}
