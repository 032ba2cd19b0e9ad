//! What is recorded but not asserted (CONTRACT.md "Observed, not asserted")
//! by the bulk checks; the report lists it after the clauses.

use std::collections::{BTreeMap, BTreeSet};

use super::text::short;
use crate::strategies::GenItem;

#[derive(Debug, Default)]
pub(super) struct Observations {
    pub(super) empty_batch: Option<String>,
    pub(super) success_statuses: BTreeMap<u16, u32>,
    pub(super) wordings: BTreeMap<String, BTreeSet<String>>,
    pub(super) non_object_other_wording: u32,
    pub(super) largest_accepted: usize,
    pub(super) largest_sent: usize,
    pub(super) refusals: BTreeMap<String, BTreeSet<String>>,
    pub(super) maybe: BTreeMap<&'static str, [u32; 3]>,
    pub(super) skipped: u32,
    pub(super) sizes: Vec<String>,
}

impl Observations {
    /// Takes in what a lane observed (cases run side by side).
    pub(super) fn absorb(&mut self, lane: Observations) {
        if self.empty_batch.is_none() {
            self.empty_batch = lane.empty_batch;
        }
        for (status, n) in lane.success_statuses {
            *self.success_statuses.entry(status).or_default() += n;
        }
        for (kind, words) in lane.wordings {
            let set = self.wordings.entry(kind).or_default();
            for w in words {
                if set.len() < 2 {
                    set.insert(w);
                }
            }
        }
        self.non_object_other_wording += lane.non_object_other_wording;
        self.largest_accepted = self.largest_accepted.max(lane.largest_accepted);
        self.largest_sent = self.largest_sent.max(lane.largest_sent);
        for (how, what) in lane.refusals {
            self.refusals.entry(how).or_default().extend(what);
        }
        for (kind, [a, b, c]) in lane.maybe {
            let m = self.maybe.entry(kind).or_default();
            m[0] += a;
            m[1] += b;
            m[2] += c;
        }
        self.skipped += lane.skipped;
        self.sizes.extend(lane.sizes);
    }

    /// Keeps up to two wordings of the error messages per kind of item.
    pub(super) fn note_wording(&mut self, g: &GenItem, msg: &str) {
        let set = self
            .wordings
            .entry(format!("{} ({})", g.category, g.kind))
            .or_default();
        if set.len() < 2 {
            set.insert(short(msg, 100));
        }
    }
}
