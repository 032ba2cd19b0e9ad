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
