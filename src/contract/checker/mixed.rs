//! Property 1: mixed batches of valid, invalid, maybe invalid and non-object
//! items (T1-T3, B1-B3, S1-S3 on every answer); then identities already
//! created re-sent in every other US format (S2: one identity, however its
//! number is written).

use proptest::strategy::Strategy;

use super::Harness;
use super::case::CaseOutcome;
use super::observations::short;
use crate::contract::strategies::{Category, GenItem, ItemSpec, OTHER_FORMS};
use crate::sandbox::model::Identity;

/// How many created identities the formats step re-sends.
const FORMAT_IDENTITIES: usize = 4;

impl Harness<'_> {
    /// Property 1: mixed batches (T1-T3, B1-B3, S1, S2).
    pub(crate) fn run_batches(&mut self, strategy: &impl Strategy<Value = Vec<ItemSpec>>) {
        self.property(strategy, self.config.cases, |h, specs| {
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
            h.check_bulk(&items, &ex, &mut out, &[], n);
            out
        });
    }

    /// Identities created so far, re-sent in every other accepted US format:
    /// none may be `created` again (S2), a `reengaged` one carries the lead's id.
    pub(crate) fn run_formats(&mut self) {
        if self.exhausted {
            return;
        }
        let mut created: Vec<(Identity, i64)> = self
            .ledger
            .created
            .iter()
            .filter(|(who, _)| who.phone.len() == 12 && who.email.is_some())
            .map(|(w, id)| (w.clone(), *id))
            .collect();
        created.sort();
        let step = (created.len() / FORMAT_IDENTITIES).max(1);
        let items: Vec<GenItem> = created
            .iter()
            .step_by(step)
            .take(FORMAT_IDENTITIES)
            .flat_map(|(who, _)| {
                let national = who.phone[2..].to_owned();
                OTHER_FORMS.iter().map(move |form| GenItem {
                    category: Category::Maybe,
                    kind: "created identity in another US format",
                    value: serde_json::json!({
                        "phone_number": form.write(&national),
                        "email": who.email,
                    }),
                })
            })
            .collect();
        if items.is_empty() || !self.reserve(items.len()) {
            return;
        }
        let mut out = CaseOutcome::default();
        let ex = self.post_batch(&items);
        self.check_bulk(&items, &ex, &mut out, &[], items.len());
        self.cases_run += 1;
        self.tally_outcome(out, false);
    }
}
