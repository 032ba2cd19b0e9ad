//! Reads that lag writes ([`SandboxOptions::read_lag`](super::SandboxOptions)):
//! an account keeps the states its writes left, each with the moment it was
//! written, and a read answers the newest one at least the lag old, as a read
//! replica does. Reads never go back in time: the state they answer only
//! moves forward.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::model::Model;

/// The states of one account that lagged reads can still answer.
#[derive(Debug, Default)]
pub(crate) struct History {
    /// What reads answer now: the state before the oldest pending write, or
    /// `None` before the first write (reads answer the live state then).
    settled: Option<Model>,
    /// The states after each later write, oldest first, with when each was
    /// written.
    pending: VecDeque<(Instant, Model)>,
}

impl History {
    /// Records a write about to change `live`: keeps the state before the
    /// first write, so reads can answer it until the lag has passed.
    pub(crate) fn before_write(&mut self, live: &Model) {
        if self.settled.is_none() {
            self.settled = Some(live.read_copy());
        }
    }

    /// Records the state `live` a write left, written now.
    pub(crate) fn after_write(&mut self, live: &Model, lag: Duration) {
        let now = Instant::now();
        self.settle(now, lag);
        self.pending.push_back((now, live.read_copy()));
    }

    /// The state a read at `now` answers: `None` when it is the live state.
    pub(crate) fn as_of(&mut self, now: Instant, lag: Duration) -> Option<&Model> {
        self.settle(now, lag);
        self.settled.as_ref()
    }

    /// Moves every write at least `lag` old into the settled state.
    fn settle(&mut self, now: Instant, lag: Duration) {
        while let Some((written, _)) = self.pending.front() {
            if now.saturating_duration_since(*written) < lag {
                break;
            }
            if let Some((_, state)) = self.pending.pop_front() {
                self.settled = Some(state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lead(n: u8) -> serde_json::Value {
        json!({"phone_number": format!("+1804555010{n}"), "email": "lag@example.com"})
    }

    #[test]
    fn reads_answer_the_newest_state_at_least_the_lag_old() {
        let lag = Duration::from_secs(10);
        let mut live = Model::new();
        let mut history = History::default();
        let start = Instant::now();
        assert!(history.as_of(start, lag).is_none(), "no write yet: live");

        history.before_write(&live);
        live.create_item(&lead(1)).unwrap();
        history.after_write(&live, lag);
        let just_after = history.as_of(Instant::now(), lag).unwrap();
        assert_eq!(just_after.len(), 0, "the write is younger than the lag");

        history.before_write(&live);
        live.create_item(&lead(2)).unwrap();
        history.after_write(&live, lag);
        let later = Instant::now() + lag;
        assert_eq!(history.as_of(later, lag).unwrap().len(), 2);
        // Time does not go back: an earlier read moment still answers the
        // newest settled state.
        assert_eq!(history.as_of(start, lag).unwrap().len(), 2);
        assert!(history.pending.is_empty(), "settled states are dropped");
    }
}
