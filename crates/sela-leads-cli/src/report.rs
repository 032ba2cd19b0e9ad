//! What an import run tells people: a progress bar with rate and ETA on a
//! terminal (indicatif), plain periodic lines otherwise, and a summary with
//! counts per outcome, elapsed time, leads per second, throttling and retries.

use crate::columns::Target;
use indicatif::{ProgressBar, ProgressStyle};
use sela_leads::import::{Outcome, Progress};
use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How a finished (or interrupted) run went.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Rows written to the outcomes file by this run, per outcome name.
    pub counts: BTreeMap<Outcome, u64>,
    /// Rows a resume skipped: final in the outcomes file already.
    pub skipped: u64,
    /// Of those, rows that are `rejected` or `unknown` there.
    pub skipped_failed: u64,
    /// Time from the first row read to the last outcome written.
    pub elapsed: Duration,
    /// The importer's counts (requests, retries, throttling).
    pub progress: Progress,
    /// True when a signal stopped the run before the end of the input.
    pub interrupted: bool,
    /// True for a dry run (nothing sent).
    pub dry_run: bool,
    /// The outcomes file.
    pub output: PathBuf,
    /// Each input column and where its values went (CSV, TSV and spreadsheets).
    pub columns: Vec<(String, Target)>,
    /// How the input's text was read: its encoding (CSV and TSV), or the
    /// sheet read (spreadsheets), and why.
    pub encoding: Option<String>,
    /// What `--reconcile` read and settled, when it ran.
    pub reconciled: Option<crate::reconcile::Stats>,
}

impl Summary {
    /// Rows with an outcome written by this run.
    pub fn rows(&self) -> u64 {
        self.counts.values().sum()
    }

    /// The count of one outcome.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.counts.get(&outcome).copied().unwrap_or(0)
    }

    /// 130 when interrupted, 1 when a row of the outcomes file (this run's,
    /// or one a resume skipped) was not created, re-engaged or (dry run)
    /// would not be sent, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            130
        } else if self.skipped_failed > 0
            || self
                .counts
                .iter()
                .any(|(outcome, n)| *n > 0 && !outcome.is_ok())
        {
            1
        } else {
            0
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.columns.is_empty() {
            let columns: Vec<String> = self
                .columns
                .iter()
                .map(|(name, target)| format!("`{name}` -> {target}"))
                .collect();
            writeln!(f, "columns: {}", columns.join(", "))?;
        }
        if let Some(encoding) = &self.encoding {
            writeln!(f, "input read as {encoding}")?;
        }
        if self.reconciled.as_ref().is_some_and(|r| r.pages == 0) {
            writeln!(
                f,
                "reconcile: no unknown rows to settle (the account was not read)"
            )?;
        } else if let Some(r) = &self.reconciled {
            writeln!(
                f,
                "reconciled against the account ({} leads read in {} list requests): {} unknown rows found created, \
                 {} found re-engaged, {} with no trace sent as new rows, {} left unknown (the reason is in the outcomes file)",
                r.leads, r.pages, r.created, r.reengaged, r.send, r.unknown
            )?;
        }
        let counts: Vec<String> = Outcome::ALL
            .into_iter()
            .filter(|o| self.count(*o) > 0 || (!self.dry_run && Outcome::SENDING.contains(o)))
            .map(|o| format!("{} {}", self.count(o), o.name().replace('_', " ")))
            .collect();
        let seconds = self.elapsed.as_secs_f64();
        write!(f, "{} rows in {seconds:.1} s", self.rows())?;
        if !self.dry_run {
            write!(
                f,
                " ({:.0} leads/s sent)",
                self.progress.sent as f64 / seconds.max(1e-3)
            )?;
        }
        writeln!(f, ": {}", counts.join(", "))?;
        if self.skipped > 0 {
            writeln!(
                f,
                "{} rows already final in the outcomes file were not sent again ({} of them rejected or unknown)",
                self.skipped, self.skipped_failed
            )?;
        }
        if !self.dry_run {
            let p = &self.progress;
            writeln!(
                f,
                "{} requests, {} retries, {} throttled (429)",
                p.requests, p.retries, p.throttled
            )?;
        }
        write!(f, "outcomes in {}", self.output.display())?;
        if self.interrupted {
            write!(
                f,
                "\ninterrupted: the outcomes file holds every row whose outcome is known; \
                 run again with --resume to send the rest"
            )?;
        }
        if !self.dry_run && self.count(Outcome::Invalid) > 0 {
            write!(
                f,
                "\n{} rows failed the local checks and were not sent (the reason is in the outcomes file); \
                 --no-local-checks sends rows as they are and lets the server judge them",
                self.count(Outcome::Invalid)
            )?;
        }
        if self.count(Outcome::Unknown) > 0 {
            write!(
                f,
                "\n{} rows may or may not have been created (timeout, lost connection, odd answer); \
                 `--resume --reconcile` reads the account back to settle them without sending them again \
                 (`--resume --retry-unknown` sends them again: created leads come back re-engaged)",
                self.count(Outcome::Unknown)
            )?;
        }
        Ok(())
    }
}

/// Shows progress while a run goes: a bar on a terminal, a line every
/// `every` otherwise, nothing when quiet.
pub struct Reporter {
    bar: Option<ProgressBar>,
    plain: bool,
    every: Duration,
    started: Instant,
    last: Instant,
    size: u64,
    consumed: Arc<AtomicU64>,
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter")
            .field("plain", &self.plain)
            .finish_non_exhaustive()
    }
}

impl Reporter {
    /// A reporter for an input of `size` bytes, of which `consumed` are read.
    pub fn new(quiet: bool, every: Duration, size: u64, consumed: Arc<AtomicU64>) -> Self {
        let terminal = !quiet && std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(size);
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% ETA {eta}\n{msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let now = Instant::now();
        Self {
            bar,
            plain: !quiet && !terminal,
            every,
            started: now,
            last: now,
            size,
            consumed,
        }
    }

    /// Shows `rows` written so far and the importer's counts.
    pub fn update(&mut self, rows: u64, p: &Progress) {
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        let line = format!(
            "{rows} rows, {:.0} leads/s: {} created, {} reengaged, {} rejected, {} unknown, {} not sent, {} unparsable or invalid; {} retries, {} throttled",
            p.sent as f64 / seconds,
            p.created,
            p.reengaged,
            p.rejected,
            p.unknown,
            p.not_sent,
            p.invalid,
            p.retries,
            p.throttled
        );
        let consumed = self.consumed.load(Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_position(consumed);
            bar.set_message(line);
        } else if self.plain && self.last.elapsed() >= self.every {
            self.last = Instant::now();
            let percent = if self.size == 0 {
                100.0
            } else {
                consumed as f64 * 100.0 / self.size as f64
            };
            eprintln!("progress: {percent:.0}% of the input read, {line}");
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_and_exit_codes() {
        let mut summary = Summary {
            elapsed: Duration::from_secs(2),
            output: "out.csv".into(),
            ..Summary::default()
        };
        summary.counts.insert(Outcome::Created, 3);
        summary.progress.sent = 4;
        summary.progress.throttled = 2;
        assert_eq!(summary.exit_code(), 0);
        summary.counts.insert(Outcome::Unknown, 1);
        assert_eq!(summary.exit_code(), 1);
        let text = summary.to_string();
        assert!(text.contains("4 rows in 2.0 s (2 leads/s sent)"), "{text}");
        assert!(
            text.contains("3 created") && text.contains("1 unknown") && text.contains("0 rejected")
        );
        assert!(
            text.contains("2 throttled") && text.contains("--retry-unknown"),
            "{text}"
        );
        summary.interrupted = true;
        assert_eq!(summary.exit_code(), 130);
        assert!(summary.to_string().contains("--resume"));
    }
}
