//! Progress of a long run on standard error: on a terminal one line redrawn in
//! place (property, cases done of planned, requests, throttled, elapsed); when
//! not a terminal (CI logs) a plain line per property, and one every 30 s while
//! a property runs, so that a stalled run shows.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::failure::Failure;

/// How often a terminal line is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);
/// How often a plain line is printed while one property runs.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// The progress display of one run.
#[derive(Debug)]
pub(crate) struct Progress {
    terminal: bool,
    started: Instant,
    property: String,
    planned: u32,
    done: u32,
    last: Instant,
}

/// Counters shown on the line.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counts {
    pub(crate) requests: usize,
    pub(crate) throttled: u32,
}

impl Progress {
    /// A display on standard error, redrawn in place when it is a terminal.
    pub(crate) fn on_stderr() -> Self {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            started: Instant::now(),
            property: String::new(),
            planned: 0,
            done: 0,
            last: Instant::now(),
        }
    }

    /// A property starts.
    pub(crate) fn begin(&mut self, property: &str, planned: u32, counts: Counts) {
        self.property = property.trim_start_matches("run_").replace('_', " ");
        self.planned = planned;
        self.done = 0;
        self.last = Instant::now();
        if self.terminal {
            self.draw(counts);
        }
    }

    /// One case of the current property finished.
    pub(crate) fn case_done(&mut self, counts: Counts) {
        self.done += 1;
        let every = if self.terminal { REDRAW } else { HEARTBEAT };
        if self.last.elapsed() >= every {
            self.last = Instant::now();
            if self.terminal {
                self.draw(counts);
            } else {
                self.print("running", counts);
            }
        }
    }

    /// The current property finished.
    pub(crate) fn end(&mut self, counts: Counts) {
        if self.terminal {
            self.draw(counts);
            let _ = writeln!(std::io::stderr().lock());
        } else {
            self.print("done", counts);
        }
    }

    /// A clause failed for the first time in the run: the clause, what went
    /// wrong and the first request with its `curl` line, printed at once
    /// (before shrinking), so that a CI log shows the red light early.
    pub(crate) fn failed(&mut self, failure: &Failure) {
        let mut text = format!(
            "FAILED {} ({}): {}\n",
            failure.clause.id(),
            failure.clause.title(),
            failure.detail
        );
        if let Some(ex) = failure.exchanges.first() {
            text.push_str(&format!("  request:   {}\n", ex.request_json()));
            text.push_str(&format!("  reproduce: {}\n", ex.curl()));
        }
        text.push_str("  (shrinking it next; the report will have the smallest case)\n");
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = write!(err, "{text}");
    }

    fn line(&self, counts: Counts) -> String {
        format!(
            "{}: {} of {} cases, {} requests, {} throttled, {:.1} s",
            self.property,
            self.done,
            self.planned,
            counts.requests,
            counts.throttled,
            self.started.elapsed().as_secs_f64()
        )
    }

    fn draw(&self, counts: Counts) {
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{}", self.line(counts));
    }

    fn print(&self, state: &str, counts: Counts) {
        let _ = writeln!(
            std::io::stderr().lock(),
            "progress ({state}) {}",
            self.line(counts)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_property_cases_requests_throttling_and_time() {
        let mut p = Progress::on_stderr();
        p.terminal = false;
        p.begin("run_batches", 64, Counts::default());
        p.case_done(Counts::default());
        let line = p.line(Counts {
            requests: 9,
            throttled: 2,
        });
        assert!(
            line.starts_with("batches: 1 of 64 cases, 9 requests, 2 throttled, "),
            "{line}"
        );
    }
}
