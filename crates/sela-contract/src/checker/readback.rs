//! B3 by read-back: the lead stored under result i's id is item i's, field by
//! field (see `stored`), for every answer that created or re-engaged leads in
//! every property. Read-back counts as available once one `GET
//! /api/leads/{id}/` answered a lead; until then a 404 may only mean the target
//! has no read-back, so it is held back and becomes a failure once read-back
//! proves to work; once it works, any answer but the lead is a failure. A
//! lead read back once that later answers anything but itself is a failure.

use serde_json::Value;

use super::case::{CaseOutcome, Res};
use super::observations::status_text;
use super::stored::stored_mismatch;
use super::{Harness, ReadBack};
use crate::report::Clause;
use crate::strategies::GenItem;
use crate::target::{Auth, Exchange};

/// Batches with leads read back without any success before read-back is
/// declared unavailable.
const READBACK_TRIES: u32 = 3;

/// Read-backs in flight at once.
const READS_IN_FLIGHT: usize = 32;

/// How many leads read back earlier are read again at the end of the run.
const RECHECKS: usize = 24;

/// A B3 failure held back until read-back is known to work.
pub(super) struct Pending {
    detail: String,
    items: Vec<GenItem>,
    exchanges: Vec<Exchange>,
}

impl Harness<'_> {
    /// Sends S2's count read and the first read-backs of a batch's leads
    /// together (they all follow the same write), for [`Harness::read_back`]
    /// and the count check to take; without both, nothing is gained.
    pub(super) fn prefetch_after_batch(&mut self, res: &[Res], count_path: Option<&str>) {
        let Some(count_path) = count_path else { return };
        // Only once read-back is known to work: until then a 404 may mean
        // "no read-back" and is not read again, so a read sent with the count
        // would meet a lagging replica that the count's own settle wait
        // would have let catch up.
        if self.readback != ReadBack::Available {
            return;
        }
        let reads: Vec<String> = to_read_back(res)
            .into_iter()
            .take(READS_IN_FLIGHT)
            .map(|(_, id)| format!("api/leads/{id}/"))
            .collect();
        if reads.is_empty() {
            return;
        }
        self.prefetch(
            std::iter::once(count_path.to_owned())
                .chain(reads)
                .collect(),
        );
    }

    /// Reads back every lead of a `created` or `reengaged` result and checks it
    /// against its item (every field when created).
    pub(super) fn read_back(
        &mut self,
        items: &[GenItem],
        res: &[Res],
        ex: &Exchange,
        out: &mut CaseOutcome,
    ) {
        let wanted = to_read_back(res);
        if wanted.is_empty() || self.readback == ReadBack::Unavailable {
            return;
        }
        let mut answers = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(READS_IN_FLIGHT) {
            answers.extend(
                self.send_all(
                    chunk
                        .iter()
                        .map(|(_, id)| ("GET", format!("api/leads/{id}/"), Auth::Token, None))
                        .collect(),
                ),
            );
        }
        // An identity repeated in the batch (or shared with requests in flight)
        // may have its lead updated by the re-engagement: compare phone and
        // e-mail only then.
        let idents: Vec<_> = items
            .iter()
            .map(|g| sela_leads::rules::identity(&g.value))
            .collect();
        let repeated = |i: usize| {
            idents[i].as_ref().is_some_and(|w| {
                self.shared.contains(w)
                    || idents.iter().filter(|o| o.as_ref() == Some(w)).count() > 1
            })
        };
        let single: Vec<bool> = (0..items.len()).map(|i| !repeated(i)).collect();
        let mut any_ok = false;
        for ((i, id), got) in wanted.into_iter().zip(answers) {
            let created = res[i].action.as_deref() == Some("created");
            let full = created && single[i] && self.full_compare(&items[i]);
            // A read that disagrees may lag the write: read again within the
            // settle window before anything is reported.
            // Once the case fails B3, another difference changes nothing: no wait.
            let settle = !out.fails(Clause::B3)
                && (self.readback == ReadBack::Available || got.status == Some(200));
            let got = if settle {
                let sent = &items[i].value;
                self.settle_read(&format!("api/leads/{id}/"), Auth::Token, got, |g| {
                    read_agrees(g, sent, full)
                })
            } else {
                got
            };
            let lead = got
                .response_value()
                .filter(|v| v.is_object() && got.status == Some(200));
            let Some(lead) = lead else {
                let detail = format!(
                    "result {i} names id {id}, but reading it back answered {}",
                    status_text(&got)
                );
                match (self.readback, got.status) {
                    // Read-back works in this run: anything but the lead (a
                    // 404, a 5xx, a 403, a non-object 200, no answer) is a
                    // B3 failure, with the answer as evidence.
                    (ReadBack::Available, _) => {
                        out.fail(
                            Clause::B3,
                            "read-back",
                            detail,
                            items,
                            vec![ex.clone(), got],
                        );
                    }
                    // Not known yet: held back until a lead reads back.
                    (ReadBack::Unknown, _) => self.readback_pending.push(Pending {
                        detail,
                        items: items.to_vec(),
                        exchanges: vec![ex.clone(), got],
                    }),
                    (ReadBack::Unavailable, _) => {}
                }
                continue;
            };
            any_ok = true;
            self.readback = ReadBack::Available;
            out.check(Clause::B3);
            let sent = &items[i].value;
            if let Some(why) = stored_mismatch(sent, &lead, full) {
                out.fail(
                    Clause::B3,
                    "read-back",
                    format!("result {i} names id {id}, but the lead stored there {why}"),
                    items,
                    vec![ex.clone(), got],
                );
            } else {
                self.read_ok.push((id, sent.clone()));
            }
            if created {
                self.note_folding(sent, &lead);
            }
        }
        if self.readback == ReadBack::Unknown && !any_ok && !self.readback_pending.is_empty() {
            // Ids that 404 may be wrong ids rather than no read-back: a lead
            // the list names decides.
            self.probe_read_back_via_list();
        }
        if self.readback == ReadBack::Unknown && !any_ok {
            self.readback_tries += 1;
            if self.readback_tries >= READBACK_TRIES {
                self.readback = ReadBack::Unavailable;
                // What the reads answered, for the report.
                for p in self.readback_pending.drain(..).take(5) {
                    self.obs.readback.push(p.detail);
                }
            }
        }
        if self.readback == ReadBack::Available {
            for p in std::mem::take(&mut self.readback_pending) {
                out.fail(Clause::B3, "read-back", p.detail, &p.items, p.exchanges);
            }
        }
    }

    /// Reads back the first lead `GET /api/leads/` lists: if that works, the
    /// target offers read-back (and the 404s held back are failures).
    fn probe_read_back_via_list(&mut self) {
        let list = self.send("GET", "api/leads/?page_size=1", Auth::Token, None);
        let Some(id) = list
            .response_value()
            .filter(|_| list.status == Some(200))
            .and_then(|v| v.get("results")?.as_array()?.first()?.get("id")?.as_i64())
        else {
            return;
        };
        let got = self.send("GET", &format!("api/leads/{id}/"), Auth::Token, None);
        if got.status == Some(200) && got.response_value().is_some_and(|v| v.is_object()) {
            self.readback = ReadBack::Available;
        }
    }

    /// Every field is compared for certainly valid items; a maybe invalid one
    /// is compared on phone and e-mail only (its odd field may be normalised).
    fn full_compare(&self, item: &GenItem) -> bool {
        item.category == crate::strategies::Category::Valid
    }

    /// Reads again, at the end of the run, leads read back earlier: each must
    /// still be there with its phone and e-mail (B3); any other answer fails
    /// B3. It runs even when `--max-created` is used up (it creates nothing);
    /// when it cannot run the report says why.
    pub(crate) fn recheck_read_back(&mut self) {
        let why_not = if self.readback != ReadBack::Available {
            Some("read-back is not available")
        } else if self.read_ok.is_empty() {
            Some("no lead was read back")
        } else if self.lost.is_some() || self.fatal.is_some() {
            Some("the target stopped answering")
        } else if self.reporting.budget.spent() {
            Some("the time budget was spent")
        } else {
            None
        };
        if let Some(why) = why_not {
            self.obs.recheck = Some(format!("end-of-run read-back recheck (B3): not run, {why}"));
            return;
        }
        let step = (self.read_ok.len() / RECHECKS).max(1);
        let picked: Vec<(i64, Value)> = self
            .read_ok
            .iter()
            .step_by(step)
            .take(RECHECKS)
            .cloned()
            .collect();
        let answers = self.send_all(
            picked
                .iter()
                .map(|(id, _)| ("GET", format!("api/leads/{id}/"), Auth::Token, None))
                .collect(),
        );
        self.obs.recheck = Some(format!(
            "end-of-run read-back recheck (B3): {} lead(s) read earlier read again",
            picked.len()
        ));
        let mut out = CaseOutcome::default();
        out.check(Clause::B3);
        for ((id, sent), got) in picked.into_iter().zip(answers) {
            let item = GenItem {
                category: crate::strategies::Category::Valid,
                kind: "read back earlier",
                value: sent.clone(),
            };
            let lead = got
                .response_value()
                .filter(|v| v.is_object() && got.status == Some(200));
            let why = match lead {
                None => Some(format!(
                    "lead {id} was read back earlier in the run but now answers {}",
                    status_text(&got)
                )),
                Some(lead) => stored_mismatch(&sent, &lead, false)
                    .map(|why| format!("lead {id}, read back earlier in the run, now {why}")),
            };
            if let Some(why) = why {
                out.fail(
                    Clause::B3,
                    "recheck",
                    why,
                    std::slice::from_ref(&item),
                    vec![got],
                );
            }
        }
        self.tally_outcome(out, false);
    }

    fn note_folding(&mut self, sent: &Value, lead: &Value) {
        for key in ["favorite_color", "first_name"] {
            if sent.get(key).is_some() {
                let folded = lead
                    .get("metadata")
                    .and_then(|m| m.get(key))
                    .is_some_and(|v| Some(v) == sent.get(key));
                if folded {
                    self.obs.folded.0 += 1;
                } else {
                    self.obs.folded.1 += 1;
                }
            }
        }
    }
}

/// True when a read-back answer is the lead sent (every field when `full`).
/// The results to read back: item index and id of every `created` or
/// `reengaged` result with an id.
fn to_read_back(res: &[Res]) -> Vec<(usize, i64)> {
    res.iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.action.as_deref(), Some("created" | "reengaged")))
        .filter_map(|(i, r)| r.id.map(|id| (i, id)))
        .collect()
}

fn read_agrees(got: &Exchange, sent: &Value, full: bool) -> bool {
    got.status == Some(200)
        && got
            .response_value()
            .is_some_and(|lead| lead.is_object() && stored_mismatch(sent, &lead, full).is_none())
}
