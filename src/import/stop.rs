//! Stopping an import from another task or a signal handler, in two steps.

use futures::channel::oneshot;
use futures::future::{FutureExt, Shared};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Ends an import early. [`StopHandle::stop`] sends no new chunk and lets the
/// chunks in flight finish; [`StopHandle::abort`] also stops waiting for
/// them, and their leads come back [`ImportOutcome::Unknown`] with
/// [`Error::Interrupted`](crate::Error::Interrupted), since the server may
/// have acted. Cheap to clone; every clone controls the same import.
///
/// [`ImportOutcome::Unknown`]: super::ImportOutcome::Unknown
#[derive(Clone, Debug)]
pub struct StopHandle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    stopped: AtomicBool,
    abort: Mutex<Option<oneshot::Sender<()>>>,
    aborted: Shared<oneshot::Receiver<()>>,
}

impl Default for StopHandle {
    fn default() -> Self {
        let (sender, receiver) = oneshot::channel();
        Self {
            inner: Arc::new(Inner {
                stopped: AtomicBool::new(false),
                abort: Mutex::new(Some(sender)),
                aborted: receiver.shared(),
            }),
        }
    }
}

impl StopHandle {
    /// A handle that has not stopped anything yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends no new chunk; the chunks in flight finish normally.
    pub fn stop(&self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
    }

    /// Stops, and gives up on the chunks in flight at once.
    pub fn abort(&self) {
        self.stop();
        let sender = self
            .inner
            .abort
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(sender) = sender {
            let _ = sender.send(());
        }
    }

    /// True once [`StopHandle::stop`] or [`StopHandle::abort`] was called.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    /// Resolves when [`StopHandle::abort`] is called (never otherwise).
    pub(crate) async fn aborted(&self) {
        if self.inner.aborted.clone().await.is_err() {
            // Cannot happen while `inner` holds the sender; wait forever.
            futures::future::pending::<()>().await;
        }
    }
}
