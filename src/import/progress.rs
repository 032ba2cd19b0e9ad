//! Counts of a running import, readable from anywhere while it runs.

use super::outcome::ImportOutcome;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// Counts of an import so far. `sent` counts each lead once, however many
/// attempts its chunk took; the outcome counts add up to the leads read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Leads read from the input (sent or invalid).
    pub read: u64,
    /// Leads put in a request (once each, retries not counted again).
    pub sent: u64,
    /// Leads created.
    pub created: u64,
    /// Leads re-engaged.
    pub reengaged: u64,
    /// Leads the server rejected.
    pub rejected: u64,
    /// Leads whose fate is unknown.
    pub unknown: u64,
    /// Leads certainly not acted on (refused request, retries exhausted).
    pub not_sent: u64,
    /// Input that could not be parsed.
    pub invalid: u64,
    /// HTTP requests made, retries included.
    pub requests: u64,
    /// Of those, retries.
    pub retries: u64,
    /// Answers asking to slow down (429), each retried or ending in `not_sent`.
    pub throttled: u64,
}

impl Progress {
    /// Leads with an outcome so far.
    pub fn done(&self) -> u64 {
        self.created + self.reengaged + self.rejected + self.unknown + self.not_sent + self.invalid
    }

    /// Leads that were not created or re-engaged.
    pub fn failed(&self) -> u64 {
        self.rejected + self.unknown + self.not_sent + self.invalid
    }

    pub(super) fn count(&mut self, outcome: &ImportOutcome) {
        let counter = match outcome {
            ImportOutcome::Created { .. } => &mut self.created,
            ImportOutcome::Reengaged { .. } => &mut self.reengaged,
            ImportOutcome::Rejected { .. } => &mut self.rejected,
            ImportOutcome::Unknown { .. } => &mut self.unknown,
            ImportOutcome::NotSent { .. } => &mut self.not_sent,
            ImportOutcome::Invalid { .. } => &mut self.invalid,
        };
        *counter += 1;
    }
}

pub(super) type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A live view of an import's [`Progress`]; cheap to clone and to read from
/// another task or thread while the import runs.
#[derive(Clone)]
pub struct ProgressHandle {
    state: Arc<Mutex<Progress>>,
    callback: Option<ProgressFn>,
}

impl fmt::Debug for ProgressHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ProgressHandle")
            .field(&self.snapshot())
            .finish()
    }
}

impl ProgressHandle {
    pub(super) fn new(callback: Option<ProgressFn>) -> Self {
        Self {
            state: Arc::new(Mutex::new(Progress::default())),
            callback,
        }
    }

    /// The counts as they are now.
    pub fn snapshot(&self) -> Progress {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `change` and tells the callback, outside the lock.
    pub(super) fn update(&self, change: impl FnOnce(&mut Progress)) {
        let now = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut state);
            *state
        };
        if let Some(callback) = &self.callback {
            callback(&now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_adds_up() {
        let mut p = Progress::default();
        p.count(&ImportOutcome::Created { id: 1 });
        p.count(&ImportOutcome::Invalid {
            message: String::new(),
        });
        assert_eq!((p.done(), p.failed()), (2, 1));
    }
}
