//! One `sela-leads import` run: read the input, send it through the
//! [`Importer`] (or check it locally, for a dry run), journal every outcome,
//! stop cleanly on SIGINT/SIGTERM, and sum up.
//!
//! Signals come through `tokio::signal` (the runtime is there anyway): the
//! first SIGINT or SIGTERM stops reading input and lets the requests in
//! flight finish; a second one gives up on them, and their rows are
//! journaled `unknown`.

use crate::damage::phone_damage;
use crate::inflight::{self, InFlight};
use crate::input::{Input, InputError, InputOptions, RowKey};
use crate::journal::{self, Journal, JournalError, Previous};
use crate::lock::{LockError, RunLock};
use crate::reconcile::{self, ReconcileError, Settled};
use crate::report::{Reporter, Summary};
use futures::StreamExt;
use sela_leads::Client;
use sela_leads::import::{ImportOutcome, Importer, Lead, Outcome, StopHandle};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What to import and how.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The input file.
    pub input: PathBuf,
    /// How to read it.
    pub read: InputOptions,
    /// The outcomes file; [`default_output`] when `None`.
    pub output: Option<PathBuf>,
    /// Continue the import the outcomes file records: send only rows without
    /// a final outcome there.
    pub resume: bool,
    /// With `resume`, send `unknown` rows again too (they may exist already).
    pub retry_unknown: bool,
    /// With `resume`, settle the `unknown` rows by reading the account back
    /// before sending anything (see [`crate::reconcile`]).
    pub reconcile: bool,
    /// Check every row with [`check`] before sending, and journal the rows it
    /// refuses `invalid` instead of sending them. Off, rows are sent as they
    /// are and the server judges them.
    pub local_checks: bool,
    /// Read back every created or re-engaged lead: see [`Importer::verify`].
    pub verify: bool,
    /// Leads per request.
    pub chunk_size: usize,
    /// Requests in flight.
    pub concurrency: usize,
    /// No progress and no summary.
    pub quiet: bool,
    /// How often a progress line is printed when stderr is not a terminal.
    pub progress_every: Duration,
}

/// Send through a client, or only check locally.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Send the leads.
    Send(Client),
    /// Check every row with [`check`] (the checks a normal import makes
    /// before sending) and write `would_send` or `invalid`; nothing is sent
    /// and no token is needed.
    DryRun,
}

/// A run that could not start (nothing was sent) or could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The input cannot be read as leads.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The outcomes file of a resume cannot be read.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Another run holds the outcomes file, or its lock cannot be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// `--reconcile` could not read the account back.
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    /// The outcomes file cannot be written.
    #[error("cannot write the outcomes file {path}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The outcomes file exists and this is not a resume.
    #[error(
        "{0} exists and may be the only record of leads already sent: pass --resume to continue \
         that import, or choose another --output"
    )]
    OutputExists(PathBuf),
    /// A resume without an outcomes file.
    #[error("nothing to resume: there is no outcomes file {0} (run without --resume to start)")]
    NothingToResume(PathBuf),
    /// The outcomes file is the input.
    #[error("the outcomes file would overwrite the input")]
    OutputIsInput,
    /// The async runtime cannot start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
}

/// `NAME.outcomes.csv` next to the input (`NAME.dry-run.csv` for a dry run).
pub fn default_output(input: &Path, dry_run: bool) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "leads".to_owned());
    let suffix = if dry_run { "dry-run" } else { "outcomes" };
    input.with_file_name(format!("{stem}.{suffix}.csv"))
}

/// What the local checks say of a lead: `would_send`, `invalid` with the
/// reason, or `unparsable`. The reason is a phone number a spreadsheet
/// damaged (`8.05E+09`, a lost `+`), else [`sela_leads::rules::check_before_sending`]'s:
/// the one function behind both `--dry-run` and the checks of a normal import.
pub fn check(lead: &Lead) -> (Outcome, String) {
    let value = match lead {
        Lead::Invalid(message) => return (Outcome::Unparsable, message.clone()),
        Lead::Json(value) => std::borrow::Cow::Borrowed(value),
        Lead::Typed(lead) => match serde_json::to_value(lead) {
            Ok(value) => std::borrow::Cow::Owned(value),
            Err(error) => return (Outcome::Unparsable, error.to_string()),
        },
    };
    let damage = value
        .get("phone_number")
        .and_then(serde_json::Value::as_str)
        .and_then(phone_damage);
    match damage.map_or_else(|| sela_leads::rules::check_before_sending(&value), Err) {
        Ok(()) => (Outcome::WouldSend, String::new()),
        Err(reason) => (Outcome::Invalid, reason),
    }
}

/// A row on its way: where it is, whether a resume retries an `unknown`, and
/// the outcome, id and message it is journaled with when it is kept back (not
/// sent): `invalid` for the local checks, `unknown` for a row a killed run
/// may have sent, or what `--reconcile` found.
struct Pending {
    key: RowKey,
    was_unknown: bool,
    kept_back: Option<(Outcome, Option<i64>, String)>,
}

/// What a resume journals for a row that a run ended by a kill or a crash
/// handed to the importer without journaling its outcome.
const LOST_IN_FLIGHT: &str = "in flight when an earlier run ended without recording its outcome; \
     it may exist already (--retry-unknown sends it again)";

/// Runs one import, journaling every outcome; see the module docs.
pub fn run(options: &RunOptions, mode: Mode) -> Result<Summary, RunError> {
    let dry_run = matches!(mode, Mode::DryRun);
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| default_output(&options.input, dry_run));
    if same_file(&output, &options.input) {
        return Err(RunError::OutputIsInput);
    }
    let input = Input::open(&options.input, &options.read)?;
    if options.resume && !dry_run && !output.exists() {
        return Err(RunError::NothingToResume(output));
    }
    // Before the outcomes file is read or written: one run per outcomes
    // file. A new outcomes file starts the lock file's record of runs afresh.
    let fresh = dry_run || !output.exists();
    let lock = RunLock::acquire(&output, fresh, chrono::Utc::now())?;
    let write_error = |source| RunError::Output {
        path: output.clone(),
        source,
    };

    let mut previous = if options.resume && !dry_run {
        journal::read_previous(&output, options.retry_unknown || options.reconcile)?
    } else {
        Previous::default()
    };
    // Rows a killed run had in flight (see `inflight`): read on a resume; a
    // new outcomes file starts a new in-flight file.
    let inflight_path = inflight::path_for(&output);
    let lost = if options.resume && !dry_run {
        inflight::read(&inflight_path).map_err(|source| JournalError::Io {
            path: inflight_path.clone(),
            source,
        })?
    } else {
        journal::RowSet::default()
    };
    // Settle the unknown rows against the account before anything is sent.
    let (settled, reconciled) = match &mode {
        Mode::Send(client) if options.resume && options.reconcile => {
            let window = lock
                .has_earlier_runs()
                .then(|| lock.first_start() - reconcile::CLOCK_SKEW);
            let (settled, stats) = reconcile::settle_rows(
                &options.input,
                &options.read,
                client,
                &previous,
                &lost,
                window,
            )?;
            (settled, Some(stats))
        }
        _ => (Default::default(), None),
    };
    let mut journal = if options.resume && !dry_run {
        Journal::append(&output)
    } else {
        if dry_run && options.output.is_none() {
            // A dry run's own default report is not a record of sending.
            let _ = std::fs::remove_file(&output);
        }
        match Journal::create(&output) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(RunError::OutputExists(output));
            }
            other => other,
        }
    }
    .map_err(write_error)?;
    if !options.resume && !dry_run {
        // Left by a run whose outcomes file is gone: it records nothing now.
        let _ = std::fs::remove_file(&inflight_path);
    }

    let mut reporter = Reporter::new(
        options.quiet,
        options.progress_every,
        input.size,
        input.consumed(),
    );
    let mut summary = Summary {
        dry_run,
        output: output.clone(),
        columns: input.columns.clone(),
        encoding: input.encoding.clone(),
        reconciled,
        ..Summary::default()
    };
    let started = Instant::now();
    let skipped = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let skipping = Arc::clone(&skipped);
    let retry_unknown = options.retry_unknown;
    let mut created_ids = std::mem::take(&mut previous.created_ids);
    created_ids.extend(settled.values().filter_map(|s| match s {
        Settled::Found {
            outcome: Outcome::Created,
            id,
            ..
        } => Some(*id),
        _ => None,
    }));
    // A dry run checks each row itself, below.
    let local_checks = options.local_checks && !dry_run;
    let rows = input.rows.filter_map(move |(key, lead)| {
        if previous.done.contains(key.row) {
            skipping[0].fetch_add(1, Ordering::Relaxed);
            if previous.failed.contains(key.row) {
                skipping[1].fetch_add(1, Ordering::Relaxed);
            }
            return None;
        }
        let lost = lost.contains(key.row);
        let settled = settled.get(&key.row);
        // A row --reconcile found no trace of is sent as a new row.
        let was_unknown =
            (previous.unknown.contains(key.row) || lost) && settled != Some(&Settled::Send);
        let mut pending = Pending {
            key,
            was_unknown,
            kept_back: None,
        };
        // A row kept back goes on as input the importer never sends, so it
        // keeps its place in the journal.
        let kept_back = match settled {
            Some(Settled::Found {
                outcome,
                id,
                message,
            }) => Some((*outcome, Some(*id), message.clone())),
            Some(Settled::Unknown(reason)) => Some((Outcome::Unknown, None, reason.clone())),
            Some(Settled::Send) => None,
            None if lost && !retry_unknown => {
                Some((Outcome::Unknown, None, LOST_IN_FLIGHT.to_owned()))
            }
            None => None,
        };
        if let Some(kept_back) = kept_back {
            let message = kept_back.2.clone();
            pending.kept_back = Some(kept_back);
            return Some((pending, Lead::Invalid(message)));
        }
        if local_checks && let (Outcome::Invalid, reason) = check(&lead) {
            pending.kept_back = Some((Outcome::Invalid, None, reason.clone()));
            return Some((pending, Lead::Invalid(reason)));
        }
        Some((pending, lead))
    });

    match mode {
        Mode::DryRun => {
            for (n, (pending, lead)) in rows.enumerate() {
                let (outcome, message) = check(&lead);
                journal
                    .record(&pending.key, outcome, None, &message)
                    .map_err(write_error)?;
                *summary.counts.entry(outcome).or_default() += 1;
                if (n + 1).is_multiple_of(options.chunk_size.max(1)) {
                    journal.flush().map_err(write_error)?;
                    reporter.update(summary.rows(), &summary.progress);
                }
            }
        }
        Mode::Send(client) => {
            let stop = StopHandle::new();
            let marking = Marking::open(&inflight_path, options.chunk_size, stop.clone())
                .map_err(write_error)?;
            let rows = marking.wrap(rows);
            let importer = Importer::new(client)
                .chunk_size(options.chunk_size)
                .concurrency(options.concurrency)
                .stop_handle(stop.clone())
                .verify(options.verify)
                .created_before(created_ids);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(RunError::Runtime)?;
            let mut import = importer.import_chunks(futures::stream::iter(rows));
            let progress = import.progress();
            let quiet = options.quiet;
            runtime.block_on(async {
                let signals = tokio::spawn(stop_on_signals(stop.clone(), quiet));
                let mut failed: Option<io::Error> = None;
                while let Some(chunk) = import.next().await {
                    for (pending, outcome) in chunk {
                        let (name, id, message) = journaled(&pending, &outcome);
                        *summary.counts.entry(name).or_default() += 1;
                        if failed.is_none()
                            && let Err(error) = journal.record(&pending.key, name, id, &message)
                        {
                            failed = Some(error);
                        }
                        if failed.is_some() {
                            // The last resort for an outcome the file cannot take.
                            eprintln!(
                                "outcome not journaled: row {},{},{name},{},{message}",
                                pending.key.row,
                                pending.key.external_id.as_deref().unwrap_or(""),
                                id.map(|id| id.to_string()).unwrap_or_default()
                            );
                        }
                    }
                    if failed.is_none()
                        && let Err(error) = journal.flush()
                    {
                        failed = Some(error);
                    }
                    if failed.is_some() {
                        // No new request may go out without a place to record it.
                        stop.stop();
                    }
                    reporter.update(summary.rows(), &progress.snapshot());
                }
                signals.abort();
                let failed = failed.or_else(|| marking.error());
                summary.interrupted = stop.is_stopped() && failed.is_none();
                failed.map_or(Ok(()), |error| Err(write_error(error)))
            })?;
            summary.progress = progress.snapshot();
            // Every row handed to the importer has its outcome journaled.
            journal.flush().map_err(write_error)?;
            // Close the in-flight file (the rows' stream holds it) first.
            drop(import);
            drop(marking);
            std::fs::remove_file(&inflight_path).map_err(write_error)?;
        }
    }
    journal.flush().map_err(write_error)?;
    drop(journal);
    reporter.finish();
    summary.elapsed = started.elapsed();
    summary.skipped = skipped[0].load(Ordering::Relaxed);
    summary.skipped_failed = skipped[1].load(Ordering::Relaxed);
    if options.resume {
        journal::compact(&output)?;
    }
    drop(lock);
    Ok(summary)
}

/// The outcome name, id and message an outcome is journaled with. A retried
/// `unknown` row that this time was certainly not sent stays `unknown`: the
/// first attempt may still have created it.
fn journaled(pending: &Pending, outcome: &ImportOutcome) -> (Outcome, Option<i64>, String) {
    let message = outcome.message().unwrap_or_default();
    if let Some((name, id, message)) = &pending.kept_back {
        return (*name, *id, message.clone());
    }
    match outcome {
        ImportOutcome::NotSent { .. } if pending.was_unknown => (
            Outcome::Unknown,
            None,
            format!("previously unknown; the retry was not sent: {message}"),
        ),
        other => (other.outcome(), other.id(), message),
    }
}

/// Marks every row handed to the importer in the in-flight file, flushing
/// the marks of a chunk before the importer can send it. A mark that cannot
/// be written stops the import: that chunk is not sent.
struct Marking {
    file: Arc<Mutex<InFlight>>,
    error: Arc<Mutex<Option<io::Error>>>,
    chunk_size: usize,
    stop: StopHandle,
}

impl Marking {
    fn open(path: &Path, chunk_size: usize, stop: StopHandle) -> io::Result<Self> {
        Ok(Self {
            file: Arc::new(Mutex::new(InFlight::open(path)?)),
            error: Arc::default(),
            chunk_size: chunk_size.max(1),
            stop,
        })
    }

    /// The rows, each marked (when it will be sent) as the importer pulls it;
    /// the marks are flushed at each chunk's last row and at the end.
    fn wrap<I>(&self, rows: I) -> impl Iterator<Item = (Pending, Lead)> + Send + 'static
    where
        I: Iterator<Item = (Pending, Lead)> + Send + 'static,
    {
        let (file, error, stop) = (
            Arc::clone(&self.file),
            Arc::clone(&self.error),
            self.stop.clone(),
        );
        let fail = move |e: io::Error| {
            error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert(e);
            stop.stop();
        };
        let (end_file, end_fail) = (Arc::clone(&file), fail.clone());
        let chunk_size = self.chunk_size;
        rows.enumerate()
            .map(move |(n, (pending, lead))| {
                let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
                if pending.kept_back.is_none()
                    && let Err(e) = file.mark(pending.key.row)
                {
                    fail(e);
                }
                if (n + 1).is_multiple_of(chunk_size)
                    && let Err(e) = file.flush()
                {
                    fail(e);
                }
                (pending, lead)
            })
            .chain(std::iter::from_fn(move || {
                let flushed = end_file
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .flush();
                if let Err(e) = flushed {
                    end_fail(e);
                }
                None
            }))
    }

    /// The first error met writing marks.
    fn error(&self) -> Option<io::Error> {
        self.error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// Stops `stop` on the first SIGINT or SIGTERM and aborts it on the second.
async fn stop_on_signals(stop: StopHandle, quiet: bool) {
    for signal in 1.. {
        if wait_for_signal().await.is_err() {
            return;
        }
        if signal == 1 {
            stop.stop();
            if !quiet {
                eprintln!(
                    "stopping: no new requests; waiting for the ones in flight (press Ctrl-C again to stop at once)"
                );
            }
        } else {
            stop.abort();
            return;
        }
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let interrupt = std::pin::pin!(tokio::signal::ctrl_c());
    let terminated = std::pin::pin!(terminate.recv());
    match futures::future::select(interrupt, terminated).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(_) => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> io::Result<()> {
    tokio::signal::ctrl_c().await
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dry_run_checks_use_the_rules() {
        let good = Lead::Json(json!({"phone_number": "(804) 555-0101", "us_state": "VA"}));
        assert_eq!(check(&good).0, Outcome::WouldSend);
        for (lead, field) in [
            (json!({"phone_number": "+1 111 555 0101"}), "phone_number"),
            (
                json!({"phone_number": "+18045550101", "email": "nope"}),
                "email",
            ),
            (
                json!({"phone_number": "+18045550101", "us_state": "ZZ"}),
                "us_state",
            ),
            (
                json!({"phone_number": "+18045550101", "lead_type": "x"}),
                "lead_type",
            ),
            (json!({"email": "a@example.com"}), "phone_number"),
        ] {
            let (outcome, reason) = check(&Lead::Json(lead));
            assert_eq!(outcome, Outcome::Invalid);
            assert!(reason.starts_with(field), "{reason}");
        }
        assert_eq!(check(&Lead::Invalid("bad".into())).0, Outcome::Unparsable);
        let damaged = Lead::Json(json!({"phone_number": "8.05E+09"}));
        let (outcome, reason) = check(&damaged);
        assert_eq!(outcome, Outcome::Invalid);
        assert!(reason.contains("scientific notation"), "{reason}");
        assert_eq!(
            default_output(Path::new("dir/leads.csv"), true),
            PathBuf::from("dir/leads.dry-run.csv")
        );
    }
}
