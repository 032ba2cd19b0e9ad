//! Property 1: mixed batches of valid, invalid, maybe invalid and non-object
//! items (T1-T3, B1-B3, S1-S3 on every answer); then identities already
//! created re-sent in every other US format (S2: one identity, however its
//! number is written), and their number with a new e-mail and their e-mail
//! with a new number (B3: a new identity, so `created`; a server whose
//! duplicate rule looks at one of the two re-engages them).

use proptest::strategy::Strategy;

use super::Harness;
use super::case::CaseOutcome;
use super::text::short;
use super::waves::Sides;
use crate::strategies::{Category, GenItem, ItemSpec, OTHER_FORMS};
use sela_leads::rules::Identity;

/// How many created identities the formats step re-sends.
const FORMAT_IDENTITIES: usize = 4;

/// How many created identities lend their number or e-mail to a new identity.
const CROSSED_IDENTITIES: usize = 2;

impl Harness<'_> {
    /// Property 1: mixed batches (T1-T3, B1-B3, S1, S2).
    pub(crate) fn run_batches(&mut self, strategy: &impl Strategy<Value = Vec<ItemSpec>>) {
        self.cases(strategy, self.config.cases, Sides::Lanes, |h, specs| {
            let items = h.ids.render(specs);
            if items.is_empty() {
                let ex = h.post_batch(&items);
                h.obs.empty_batch.get_or_insert_with(|| {
                    format!("{} {}", ex.status.unwrap_or(0), short(&ex.response, 120))
                });
                return CaseOutcome {
                    skipped: true,
                    ..CaseOutcome::default()
                };
            }
            h.post_and_check(&items)
        });
    }

    /// Identities created so far, re-sent in every other accepted US format:
    /// none may be `created` again (S2), a `reengaged` one carries the lead's id.
    pub(crate) fn run_formats(&mut self) {
        self.reporting.budget.begin_slice();
        if self.exhausted() || self.reporting.budget.refuse_case() {
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
        let crossed = self.crossed(&created);
        for items in [items, crossed] {
            if items.is_empty() {
                continue;
            }
            let out = self.post_and_check(&items);
            if !out.skipped {
                self.cases_run += 1;
                self.tallies.record(out, false);
            }
        }
    }

    /// Certainly valid items that share one half of a created identity: its
    /// number with a new e-mail, its e-mail with a new number. The identity is
    /// (phone, email), so each is new and must be `created` (B3).
    fn crossed(&mut self, created: &[(Identity, i64)]) -> Vec<GenItem> {
        let step = (created.len() / CROSSED_IDENTITIES).max(1);
        let mut items = Vec::new();
        for (who, _) in created.iter().step_by(step).take(CROSSED_IDENTITIES) {
            let (new_phone, new_email) = self.ids.fresh_pair();
            items.push(GenItem {
                category: Category::Valid,
                kind: "known number, new e-mail",
                value: serde_json::json!({"phone_number": who.phone, "email": new_email}),
            });
            items.push(GenItem {
                category: Category::Valid,
                kind: "new number, known e-mail",
                value: serde_json::json!({"phone_number": new_phone, "email": who.email}),
            });
        }
        items
    }
}
