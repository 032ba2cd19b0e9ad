//! S2 over time: identities created at the start of the run are re-sent near
//! its end (in another US format); none may be created again, however long
//! ago it was (a dedup cache with a time limit forgets them). The report says
//! how many seconds apart.

use std::time::Instant;

use serde_json::json;

use crate::checker::Harness;
use crate::checker::case::CaseOutcome;
use crate::strategies::{Category, GenItem, PhoneForm};

/// Identities created at the start.
const EARLY: usize = 3;

impl Harness<'_> {
    /// Creates a few identities first thing (checked as every bulk answer).
    pub(crate) fn start_aging(&mut self) {
        // Only when it fits: a reserve() refused here would mark the run
        // exhausted before the size probe, which then creates nothing.
        if self.reporting.budget.spent() || !self.quota.fits(EARLY) || !self.reserve(EARLY) {
            return;
        }
        let pairs: Vec<(String, String)> = (0..EARLY).map(|_| self.ids.fresh_pair()).collect();
        let items = valid(&pairs, PhoneForm::E164);
        let mut out = CaseOutcome::default();
        let ex = self.post_batch(&items);
        let res = self.check_bulk(&items, &ex, &mut out, &[], EARLY);
        self.tallies.record(out, false);
        let created = res
            .into_iter()
            .flatten()
            .zip(pairs)
            .filter_map(|(r, p)| (r.action.as_deref() == Some("created")).then_some(p));
        self.ops.aging.items = created.collect();
        self.ops.aging.at = Some(Instant::now());
    }

    /// Re-sends them near the end: S2 as on every bulk answer.
    pub(crate) fn finish_aging(&mut self) {
        let Some(at) = self.ops.aging.at else { return };
        if self.ops.aging.items.is_empty() || self.net.gone() || self.reporting.budget.spent() {
            return;
        }
        let pairs = std::mem::take(&mut self.ops.aging.items);
        let items = valid(&pairs, PhoneForm::Digits);
        let mut out = CaseOutcome::default();
        let ex = self.post_batch(&items);
        self.check_bulk(&items, &ex, &mut out, &[], 0);
        self.tallies.record(out, false);
        self.ops.obs.aging = Some(format!(
            "S2 over time: {} identities created at the start re-sent {:.1} s later",
            pairs.len(),
            at.elapsed().as_secs_f64()
        ));
    }
}

fn valid(pairs: &[(String, String)], form: PhoneForm) -> Vec<GenItem> {
    pairs
        .iter()
        .map(|(phone, email)| GenItem {
            category: Category::Valid,
            kind: "valid (created at the start)",
            value: json!({"phone_number": form.write(&phone[2..]), "email": email}),
        })
        .collect()
}
