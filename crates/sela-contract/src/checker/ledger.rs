//! The run's memory of what it sent, what was refused, and what the target said
//! it created.

use std::collections::{HashMap, HashSet};

use sela_leads::rules::Identity;

/// What the run knows of an identity it sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Only ever sent in requests refused as a whole or in items answered
    /// `error`: S3 says nothing of it is stored.
    OnlyRefused,
    /// Sent in a request whose outcome for it is unknown or accepted.
    Other,
}

/// The run's memory of what it sent and what the target said it created. The
/// ledger, not the proptest case, decides whether an identity is new: shrinking
/// re-sends batches.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    pub(super) sent: HashMap<Identity, Seen>,
    pub(super) created: HashMap<Identity, i64>,
    pub(super) ids: HashSet<i64>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Ledger::default()
    }

    /// True when an item with this identity was sent earlier in the run.
    pub fn was_sent(&self, who: &Identity) -> bool {
        self.sent.contains_key(who)
    }

    /// True when the identity was sent, but only in refused requests or items
    /// answered `error`, and never created.
    pub fn only_refused(&self, who: &Identity) -> bool {
        self.sent.get(who) == Some(&Seen::OnlyRefused) && !self.created.contains_key(who)
    }

    /// The id under which this identity was created in this run, if it was.
    pub fn created_id(&self, who: &Identity) -> Option<i64> {
        self.created.get(who).copied()
    }

    /// True when some `created` result of the run carried this id.
    pub fn id_taken(&self, id: i64) -> bool {
        self.ids.contains(&id)
    }

    /// Records that an item with this identity was sent and may have been
    /// accepted (or its outcome is unknown).
    pub fn record_sent(&mut self, who: Identity) {
        self.sent.insert(who, Seen::Other);
    }

    /// Records that an item with this identity was refused (a request refused
    /// as a whole, or the item answered `error`).
    pub fn record_refused(&mut self, who: Identity) {
        self.sent.entry(who).or_insert(Seen::OnlyRefused);
    }

    /// Records a `created` result (the first creation of an identity is kept);
    /// `who` is `None` for an item whose identity the harness cannot compute.
    pub fn record_created(&mut self, who: Option<Identity>, id: i64) {
        if let Some(who) = &who {
            self.created.entry(who.clone()).or_insert(id);
            self.sent.insert(who.clone(), Seen::Other);
        }
        self.ids.insert(id);
    }

    /// How many identities were sent.
    pub fn sent_count(&self) -> usize {
        self.sent.len()
    }

    /// Takes in what a lane learnt since it was cloned from `start` (lanes
    /// send disjoint identities, so their records never conflict). Returns
    /// the ids the lane was answered `created` that another lane of the same
    /// wave had already been given.
    pub fn absorb(&mut self, start: &Ledger, lane: Ledger) -> Vec<i64> {
        let mut twice = Vec::new();
        for id in lane.ids {
            if !start.ids.contains(&id) && !self.ids.insert(id) {
                twice.push(id);
            }
        }
        for (who, seen) in lane.sent {
            if start.sent.get(&who) != Some(&seen) {
                self.sent.insert(who, seen);
            }
        }
        for (who, id) in lane.created {
            self.created.entry(who).or_insert(id);
        }
        twice
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
        l.record_refused(who("+12125550100"));
        assert!(l.only_refused(&who("+12125550100")));
        l.record_created(Some(who("+12125550100")), 7);
        l.record_created(Some(who("+12125550100")), 8);
        assert!(!l.only_refused(&who("+12125550100")));
        l.record_refused(who("+12125550100"));
        assert!(!l.only_refused(&who("+12125550100")));
        assert!(l.was_sent(&who("+12125550100")));
        assert_eq!(l.created_id(&who("+12125550100")), Some(7));
        assert!(l.id_taken(8));
        assert_eq!(l.created_id(&who("+12125550101")), None);
        assert_eq!(l.sent_count(), 1);
        l.record_sent(who("+12125550101"));
        l.record_refused(who("+12125550101"));
        assert!(!l.only_refused(&who("+12125550101")));
    }

    #[test]
    fn lanes_merge_and_an_id_given_in_two_lanes_is_found() {
        let who = |p: &str| Identity {
            phone: p.to_owned(),
            email: Some("a@example.com".to_owned()),
        };
        let mut run = Ledger::new();
        run.record_created(Some(who("+12125550100")), 1);
        let start = run.clone();
        let (mut a, mut b) = (start.clone(), start.clone());
        a.record_created(Some(who("+12125550101")), 2);
        a.record_refused(who("+12125550103"));
        b.record_created(Some(who("+12125550102")), 2);
        b.record_sent(who("+12125550104"));
        assert!(run.absorb(&start, a).is_empty());
        // Id 1 was the run's before the wave: no lane was given it anew.
        assert_eq!(run.absorb(&start, b), vec![2]);
        assert_eq!(run.created_id(&who("+12125550101")), Some(2));
        assert_eq!(run.created_id(&who("+12125550102")), Some(2));
        assert!(run.only_refused(&who("+12125550103")));
        assert!(run.was_sent(&who("+12125550104")));
        assert_eq!(run.sent_count(), 5);
    }
}
