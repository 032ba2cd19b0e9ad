//! The run's memory of what it sent and what the target said it created.

use std::collections::{HashMap, HashSet};

use crate::sandbox::model::Identity;

/// The run's memory of what it sent and what the target said it created. The
/// ledger, not the proptest case, decides whether an identity is new: shrinking
/// re-sends batches.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    pub(super) sent: HashSet<Identity>,
    pub(super) created: HashMap<Identity, i64>,
    pub(super) ids: HashMap<i64, Identity>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Ledger::default()
    }

    /// True when an item with this identity was sent earlier in the run.
    pub fn was_sent(&self, who: &Identity) -> bool {
        self.sent.contains(who)
    }

    /// The id under which this identity was created in this run, if it was.
    pub fn created_id(&self, who: &Identity) -> Option<i64> {
        self.created.get(who).copied()
    }

    /// The identity created under this id in this run, if any.
    pub fn created_under(&self, id: i64) -> Option<&Identity> {
        self.ids.get(&id)
    }

    /// Records that an item with this identity was sent.
    pub fn record_sent(&mut self, who: Identity) {
        self.sent.insert(who);
    }

    /// Records a `created` result (the first creation of an identity is kept).
    pub fn record_created(&mut self, who: Identity, id: i64) {
        self.created.entry(who.clone()).or_insert(id);
        self.ids.entry(id).or_insert(who);
    }

    /// How many identities were sent.
    pub fn sent_count(&self) -> usize {
        self.sent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_keeps_the_first_creation() {
        let who = |p: &str| Identity {
            phone: p.to_owned(),
            email: Some("a@example.com".to_owned()),
        };
        let mut l = Ledger::new();
        assert!(!l.was_sent(&who("+12125550100")));
        l.record_sent(who("+12125550100"));
        l.record_created(who("+12125550100"), 7);
        l.record_created(who("+12125550100"), 8);
        assert!(l.was_sent(&who("+12125550100")));
        assert_eq!(l.created_id(&who("+12125550100")), Some(7));
        assert_eq!(l.created_under(7), Some(&who("+12125550100")));
        assert_eq!(l.created_id(&who("+12125550101")), None);
        assert_eq!(l.sent_count(), 1);
    }
}
