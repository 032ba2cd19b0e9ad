//! Bulk import at scale: any number of leads, sent in chunks with several
//! requests in flight, one outcome per lead in input order, retries only where
//! the server certainly did not act.
//!
//! ```no_run
//! use futures::StreamExt;
//! use sela_leads::import::{ImportOutcome, Importer};
//! use serde_json::json;
//!
//! # async fn run() -> Result<(), sela_leads::Error> {
//! let client = sela_leads::Client::from_env()?;
//! let leads = (0..10_000).map(|i| json!({ "phone_number": format!("+1804555{:04}", i % 10_000) }));
//! let mut outcomes = Importer::new(client).chunk_size(100).concurrency(4).import(leads);
//! while let Some(outcome) = outcomes.next().await {
//!     if let ImportOutcome::Unknown { error } = outcome {
//!         eprintln!("fate unknown, reconcile before resending: {error}");
//!     }
//! }
//! println!("{:?}", outcomes.progress().snapshot());
//! # Ok(())
//! # }
//! ```
//!
//! # Memory
//!
//! Input is pulled lazily: at most `concurrency` chunks are in flight or
//! waiting for an earlier chunk, so memory grows with
//! `chunk_size x concurrency`, not with the number of leads.
//!
//! # Retries and side effects
//!
//! Every created lead starts phone calls, so a chunk is resent only when the
//! server certainly did not act on it: the connection could not be opened
//! ([`reqwest::Error::is_connect`]), or the answer was 429. Those are
//! retried up to [`RetryPolicy::max_attempts`] times, after `Retry-After`
//! (capped at [`RetryPolicy::max_retry_after`]) or else an exponential backoff
//! with jitter. A timeout, a connection lost after the request was written, or
//! any 5xx (503 included: a gateway may answer it for a request the
//! application handled) is never retried: the leads of that chunk come back
//! [`ImportOutcome::Unknown`], and the caller reconciles them: by reading the
//! account back (the CLI's `--resume --reconcile`, `sela_leads_cli::reconcile`), or by resending them (leads that were created are then
//! answered `reengaged`, not created twice, which can start calls again).

use crate::Client;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

mod ids;
mod lead;
mod outcome;
mod progress;
mod retry;
use ids::IdSet;
mod sender;
mod stop;
mod verify;
pub use lead::Lead;
pub use outcome::{ImportOutcome, Outcome, UnknownOutcome};
use progress::ProgressFn;
pub use progress::{Progress, ProgressHandle};
pub use retry::RetryPolicy;
use sender::ChunkSender;
pub use stop::StopHandle;

/// Leads per request unless set otherwise (the server's maximum is undocumented).
pub const DEFAULT_CHUNK_SIZE: usize = 100;
/// Requests in flight unless set otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Sends leads in chunks, several at once, and yields their outcomes in input order.
#[derive(Clone)]
pub struct Importer {
    client: Client,
    chunk_size: usize,
    concurrency: usize,
    retry: RetryPolicy,
    on_progress: Option<ProgressFn>,
    stop: StopHandle,
    verify: bool,
    created_before: IdSet,
}

impl fmt::Debug for Importer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Importer")
            .field("base_url", &self.client.base_url())
            .field("chunk_size", &self.chunk_size)
            .field("concurrency", &self.concurrency)
            .field("retry", &self.retry)
            .field("verify", &self.verify)
            .finish()
    }
}

impl Importer {
    /// An importer over `client` with [`DEFAULT_CHUNK_SIZE`],
    /// [`DEFAULT_CONCURRENCY`] and the default [`RetryPolicy`].
    pub fn new(client: Client) -> Self {
        Self {
            client,
            chunk_size: DEFAULT_CHUNK_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            retry: RetryPolicy::default(),
            on_progress: None,
            stop: StopHandle::default(),
            verify: false,
            created_before: IdSet::default(),
        }
    }

    /// Ids already answered `created` for other leads (by an earlier run of
    /// the same import, say): a `created` answer carrying one of them makes
    /// its lead [`ImportOutcome::Unknown`], as a repeat within the import does.
    pub fn created_before(mut self, ids: impl IntoIterator<Item = i64>) -> Self {
        for id in ids {
            self.created_before.insert(id);
        }
        self
    }

    /// Reads back every created or re-engaged lead (`GET /api/leads/{id}/`,
    /// one request per lead) and makes a lead whose stored phone number or
    /// e-mail is not the one sent [`ImportOutcome::Unknown`]
    /// ([`MismatchFault::ReadBackDiffers`](crate::MismatchFault::ReadBackDiffers)),
    /// as is one that cannot be read back. Without it, an answer whose
    /// results are in another order with the right count goes unnoticed.
    pub fn verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }

    /// Lets `stop` end the import from elsewhere (a signal handler): see [`StopHandle`].
    pub fn stop_handle(mut self, stop: StopHandle) -> Self {
        self.stop = stop;
        self
    }

    /// Leads per request, at least 1.
    pub fn chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = chunk_size.max(1);
        self
    }

    /// Requests in flight at once, at least 1.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The retry policy for refused connections and 429.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Calls `callback` with the counts each time they change (from the task
    /// polling the import; keep it quick).
    pub fn on_progress(mut self, callback: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    /// Imports the leads of an iterator, pulled lazily; yields one outcome per
    /// lead, in input order. Nothing is sent until the stream is polled.
    pub fn import<I>(&self, leads: I) -> Import<ImportOutcome>
    where
        I: IntoIterator,
        I::IntoIter: Send + 'static,
        I::Item: Into<Lead>,
    {
        self.import_stream(stream::iter(leads))
    }

    /// Like [`Importer::import`], for a stream of leads.
    pub fn import_stream<S>(&self, leads: S) -> Import<ImportOutcome>
    where
        S: Stream + Send + 'static,
        S::Item: Into<Lead>,
    {
        let keyed = self.import_keyed(leads.map(|lead| ((), lead)));
        Import {
            progress: keyed.progress,
            stream: keyed.stream.map(|((), outcome)| outcome).boxed(),
        }
    }

    /// Like [`Importer::import_stream`], carrying a key (a row number, an
    /// external id) with each lead to its outcome.
    pub fn import_keyed<S, K, L>(&self, leads: S) -> Import<(K, ImportOutcome)>
    where
        S: Stream<Item = (K, L)> + Send + 'static,
        K: Send + 'static,
        L: Into<Lead>,
    {
        let chunks = self.import_chunks(leads);
        Import {
            progress: chunks.progress,
            stream: chunks.stream.flat_map(stream::iter).boxed(),
        }
    }

    /// Like [`Importer::import_keyed`], yielding the outcomes of each chunk
    /// together once the chunk and every chunk before it are done (a journal
    /// flushes after each).
    pub fn import_chunks<S, K, L>(&self, leads: S) -> Import<Vec<(K, ImportOutcome)>>
    where
        S: Stream<Item = (K, L)> + Send + 'static,
        K: Send + 'static,
        L: Into<Lead>,
    {
        let progress = ProgressHandle::new(self.on_progress.clone());
        let stop = self.stop.clone();
        let sender = Arc::new(ChunkSender {
            client: self.client.clone(),
            retry: self.retry.clone(),
            progress: progress.clone(),
            stop: stop.clone(),
            created: Mutex::new(self.created_before.clone()),
            verify: self.verify,
        });
        let stream = leads
            .map(|(key, lead)| (key, lead.into()))
            .chunks(self.chunk_size)
            // Once stopped, no new chunk is sent: the rows of a chunk read
            // but not sent get no outcome (a resume sends them).
            .take_while(move |_| futures::future::ready(!stop.is_stopped()))
            .map(move |chunk| {
                let sender = Arc::clone(&sender);
                async move { sender.send(chunk).await }
            })
            .buffered(self.concurrency)
            .boxed();
        Import { stream, progress }
    }
}

/// A running import: a stream of outcomes in input order, with its progress.
#[must_use = "an import sends nothing until its stream is polled"]
pub struct Import<T> {
    stream: BoxStream<'static, T>,
    progress: ProgressHandle,
}

impl<T> fmt::Debug for Import<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Import")
            .field("progress", &self.progress.snapshot())
            .finish()
    }
}

impl<T> Import<T> {
    /// The live counts of this import.
    pub fn progress(&self) -> ProgressHandle {
        self.progress.clone()
    }
}

impl<T> Stream for Import<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.stream.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}
