//! Batch sizes: the limit probed with batches of 1, 10, 50, 100, 250, 500 and
//! 1,000 items (up to `max_size`), mostly non-objects with a few valid leads
//! and invalid objects at chosen places (first, last, middle, either side of
//! 100 and 250, where a server may chunk); then a property of batches of many
//! sizes up to the limit, and one dense batch of up to 256 valid leads (for a
//! server that inserts valid rows in chunks). An oversize refusal (400/413)
//! must store nothing (S3): the list count must not move and its leads are
//! later created.

use proptest::strategy::{Strategy, ValueTree};

use super::Harness;
use super::case::CaseOutcome;
use super::text::status_text;
use crate::strategies::{
    Category, GenItem, ItemSpec, Options, SizedCase, Slot, invalid_object_item, sized_case,
    valid_item_in,
};
use crate::target::Exchange;
use sela_leads::rules::identity;

/// A refusal of a batch this small or smaller is never taken for a size limit.
const MIN_LIMIT: usize = 10;

/// Valid leads in the one dense batch (distinct fresh slots: at most 256).
const DENSE: usize = 256;

/// The sizes probed, in order, up to `max_size`.
const PROBES: &[usize] = &[1, 10, 50, 100, 250, 500, 1000];

impl Harness<'_> {
    /// Finds the largest batch the target accepts (up to `max_size`), checking
    /// every probe's answer; reports the limit as an observation.
    pub(crate) fn probe_sizes(&mut self) {
        let max = self.config.max_size.max(1);
        let mut sizes: Vec<usize> = PROBES.iter().copied().filter(|s| *s <= max).collect();
        if sizes.last() != Some(&max) {
            sizes.push(max);
        }
        let opts = self.config.options();
        let mut accepted = 0;
        let mut refused = false;
        // No refusal is excused while probing: each answer is judged alone.
        self.size_limit = usize::MAX;
        self.reporting.budget.begin_slice();
        for size in sizes {
            if self.exhausted() || self.reporting.budget.refuse_case() {
                break;
            }
            let items = self.probe_batch(&opts, size);
            let n = Self::creatable(&items);
            if !self.reserve(n) {
                break;
            }
            let mut out = CaseOutcome::default();
            let ex = self.post_batch(&items);
            // A limit below MIN_LIMIT is not believed: such a refusal is T1's.
            if size > MIN_LIMIT && matches!(ex.status, Some(400 | 413)) {
                self.oversize_refused(&items, &ex, &mut out);
                self.quota.refund(n);
                self.obs.sizes.push(format!(
                    "size limit: {accepted} items accepted, {size} refused as a whole ({})",
                    status_text(&ex)
                ));
                self.size_refused = Some(size);
                self.size_limit = accepted;
                // S3: the refused batch's leads, sent properly, are created.
                let valid: Vec<GenItem> = items
                    .into_iter()
                    .filter(|g| g.category == Category::Valid)
                    .collect();
                if self.reserve(valid.len()) {
                    let ex2 = self.post_batch(&valid);
                    self.check_bulk(
                        &valid,
                        &ex2,
                        &mut out,
                        std::slice::from_ref(&ex),
                        valid.len(),
                    );
                }
                self.cases_run += 1;
                self.tallies.record(out, false);
                refused = true;
                break;
            }
            let res = self.check_bulk(&items, &ex, &mut out, &[], n);
            self.cases_run += 1;
            self.tallies.record(out, false);
            if res.is_none() {
                // Not a refusal and not a usable answer: T1/T3/B1 said why.
                break;
            }
            accepted = size;
        }
        if !refused {
            self.obs.sizes.push(format!(
                "size limit: none found, batches of up to {accepted} items accepted \
                 (--max-size {max})"
            ));
            // No refusal seen: no batch up to --max-size may be refused.
            self.size_limit = max;
        }
        self.dense_batch(&opts, accepted.min(DENSE));
    }

    /// One batch of `n` certainly valid leads, all new: a server that inserts
    /// valid rows in chunks (of 100, say) shows it past the chunk, where sparse
    /// batches hold too few valid leads to reach it.
    fn dense_batch(&mut self, opts: &Options, n: usize) {
        if n < MIN_LIMIT || self.exhausted() || !self.reserve(n) {
            return;
        }
        let mut runner = self.runner.clone();
        let specs: Vec<ItemSpec> = (0..n)
            .filter_map(|k| {
                let slot = Slot::Fresh(k as u8);
                let mut item = valid_item_in(opts, proptest::strategy::Just(slot).boxed())
                    .new_tree(&mut runner)
                    .ok()?
                    .current();
                item.slot = Some(slot);
                Some(item)
            })
            .collect();
        self.runner = runner;
        let items = self.ids.render(&specs);
        let mut out = CaseOutcome::default();
        let ex = self.post_batch(&items);
        self.check_bulk(&items, &ex, &mut out, &[], n);
        self.cases_run += 1;
        self.tallies.record(out, false);
    }

    /// One probe batch: non-objects, with valid leads and invalid objects at
    /// the edges, the middle and either side of 100 and 250.
    fn probe_batch(&mut self, opts: &Options, size: usize) -> Vec<GenItem> {
        let mut places: Vec<usize> = [0, size / 2, size - 1, 99, 100, 249, 250]
            .into_iter()
            .filter(|p| *p < size)
            .collect();
        places.sort_unstable();
        places.dedup();
        let mut runner = self.runner.clone();
        let pick = |s: proptest::strategy::BoxedStrategy<ItemSpec>,
                    r: &mut proptest::test_runner::TestRunner| {
            s.new_tree(r)
                .map(|t| proptest::strategy::ValueTree::current(&t))
        };
        let mut specs = SizedCase {
            len: size,
            valid_at: Vec::new(),
            invalid_at: Vec::new(),
            valid: Vec::new(),
        }
        .batch();
        for (k, at) in places.iter().enumerate() {
            let slot = Slot::Fresh(k as u8);
            if let Ok(mut item) = pick(
                valid_item_in(opts, proptest::strategy::Just(slot).boxed()),
                &mut runner,
            ) {
                item.slot = Some(slot);
                specs[*at] = item;
            }
        }
        if size > 2
            && let Ok(bad) = pick(invalid_object_item(opts), &mut runner)
        {
            specs[1] = bad;
        }
        self.runner = runner;
        self.ids.render(&specs)
    }

    /// A batch over the limit was refused as a whole: S3, nothing of it may be
    /// stored (the list count is unchanged; its identities, only ever refused,
    /// must be created when later sent validly).
    pub(super) fn oversize_refused(
        &mut self,
        items: &[GenItem],
        ex: &Exchange,
        out: &mut CaseOutcome,
    ) {
        let before = self.count.known();
        for g in items {
            if let Some(who) = identity(&g.value) {
                self.ledger.record_refused(who);
            }
        }
        // No T1 here: the refusal is excused, so it could not fail T1 (a
        // bulk answer's own check counts T1 before it knows the status).
        if ex.response_value().is_none() && self.obs.sizes.len() < 8 {
            self.obs.sizes.push(format!(
                "an oversize batch ({} items) was refused without a JSON body",
                items.len()
            ));
        }
        self.check_count_unchanged(before, items, std::slice::from_ref(ex), out);
    }

    /// Property 5: batches of many sizes up to the limit, mostly non-objects
    /// with valid leads and invalid objects at random places (B1, B3 at every
    /// size, with read-back).
    pub(crate) fn run_sizes(&mut self) {
        let opts = self.config.options();
        let strategy = sized_case(&opts, self.size_limit.min(self.config.max_size));
        let cases = (self.config.cases / 4).max(4);
        self.property(&strategy, cases, |h, case| {
            let items = h.ids.render(&case.batch());
            h.post_and_check(&items)
        });
    }
}
