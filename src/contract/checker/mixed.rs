//! Property 1: mixed batches of valid, invalid, maybe invalid and non-object
//! items (T1-T3, B1-B3, S1, S2 on every answer).

use proptest::strategy::Strategy;

use super::Harness;
use super::case::CaseOutcome;
use super::observations::short;
use crate::contract::strategies::ItemSpec;

impl Harness<'_> {
    /// Property 1: mixed batches (T1-T3, B1-B3, S1, S2).
    pub(crate) fn run_batches(&mut self, strategy: &impl Strategy<Value = Vec<ItemSpec>>) {
        self.property(strategy, |h, specs| {
            let items = h.ids.render(specs);
            let mut out = CaseOutcome::default();
            if items.is_empty() {
                let ex = h.post_batch(&items);
                h.obs.empty_batch.get_or_insert_with(|| {
                    format!("{} {}", ex.status.unwrap_or(0), short(&ex.response, 120))
                });
                out.skipped = true;
                return out;
            }
            let n = Self::creatable(&items);
            if !h.reserve(n) {
                out.skipped = true;
                return out;
            }
            let ex = h.post_batch(&items);
            h.check_bulk(&items, &ex, &mut out, true, &[], n);
            out
        });
    }
}
