//! B3 by read-back: the lead stored under result i's id is item i's, field by
//! field (see `stored`), for every answer that created or re-engaged leads in
//! every property. Read-back counts as available once one `GET
//! /api/leads/{id}/` answered a lead; until then a 404 may only mean the target
//! has no read-back, so it is held back and becomes a failure once read-back
//! proves to work; once it works, any answer but the lead is a failure. A
//! lead read back once that later answers anything but itself is a failure.

use std::collections::HashSet;

use serde_json::Value;

use super::case::{CaseOutcome, Res};
use super::settle::{Agrees, Reread, Waits};
use super::stored::stored_mismatch;
use super::text::status_text;
use super::transport::Transport;
use crate::report::Clause;
use crate::strategies::GenItem;
use crate::target::{Auth, Exchange};
use sela_leads::rules::Identity;

/// Batches with leads read back without any success before read-back is
/// declared unavailable.
const READBACK_TRIES: u32 = 3;

/// Read-backs in flight at once.
const READS_IN_FLIGHT: usize = 32;

/// How many leads read back earlier are read again at the end of the run.
const RECHECKS: usize = 24;

/// Whether `GET /api/leads/{id}/` answers leads in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ReadBack {
    Unknown,
    Available,
    Unavailable,
}

/// A B3 failure held back until read-back is known to work.
struct Pending {
    detail: String,
    items: Vec<GenItem>,
    exchanges: Vec<Exchange>,
}

/// Read-back over the run: whether it works, the failures held back until
/// that is known, the leads read back (to read again at the end) and what it
/// observed.
pub(super) struct ReadBacks {
    pub(super) state: ReadBack,
    /// Batches that created leads while read-back was still unknown.
    tries: u32,
    /// B3 failures seen before read-back was known to work (404s on ids that
    /// may just mean "no read-back").
    pending: Vec<Pending>,
    /// Leads read back successfully: id and the item sent.
    pub(super) read_ok: Vec<(i64, Value)>,
    /// What the reads answered when read-back proved unavailable.
    pub(super) notes: Vec<String>,
    /// Unknown top-level keys read back folded into metadata: (yes, no).
    pub(super) folded: (u32, u32),
    /// What the end-of-run recheck did, for the report.
    pub(super) recheck: Option<String>,
}

impl ReadBacks {
    pub(super) fn new() -> Self {
        ReadBacks {
            state: ReadBack::Unknown,
            tries: 0,
            pending: Vec::new(),
            read_ok: Vec::new(),
            notes: Vec::new(),
            folded: (0, 0),
            recheck: None,
        }
    }

    /// A lane's read-back (cases run side by side): whether read-back works
    /// is known already, the rest is the lane's own.
    pub(super) fn lane(&self) -> Self {
        ReadBacks {
            state: self.state,
            ..ReadBacks::new()
        }
    }

    /// Takes in what a lane read back and noted.
    pub(super) fn absorb(&mut self, lane: ReadBacks) {
        self.tries += lane.tries;
        self.pending.extend(lane.pending);
        self.read_ok.extend(lane.read_ok);
        self.notes.extend(lane.notes);
        self.folded.0 += lane.folded.0;
        self.folded.1 += lane.folded.1;
        if self.recheck.is_none() {
            self.recheck = lane.recheck;
        }
    }

    /// Sends S2's count read and the first read-backs of a batch's leads
    /// together (they all follow the same write), for [`ReadBacks::read_back`]
    /// and the count check to take; without both, nothing is gained.
    pub(super) fn prefetch_after_batch(
        &self,
        net: &mut Transport,
        res: &[Res],
        count_path: Option<&str>,
    ) {
        let Some(count_path) = count_path else { return };
        // Only once read-back is known to work: until then a 404 may mean
        // "no read-back" and is not read again, so a read sent with the count
        // would meet a lagging replica that the count's own settle wait
        // would have let catch up.
        if self.state != ReadBack::Available {
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
        net.prefetch(
            std::iter::once(count_path.to_owned())
                .chain(reads)
                .collect(),
        );
    }

    /// Reads back every lead of a `created` or `reengaged` result and checks it
    /// against its item (every field when created). Identities in `shared`
    /// (in requests in flight together) are compared on phone and e-mail only;
    /// a disagreeing read is read again within the settle window.
    #[allow(clippy::too_many_arguments)] // the parts it reads with, and one answer
    pub(super) fn read_back(
        &mut self,
        net: &mut Transport,
        waits: &mut Waits,
        shared: &HashSet<Identity>,
        items: &[GenItem],
        res: &[Res],
        ex: &Exchange,
        out: &mut CaseOutcome,
    ) {
        let wanted = to_read_back(res);
        if wanted.is_empty() || self.state == ReadBack::Unavailable {
            return;
        }
        let mut answers = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(READS_IN_FLIGHT) {
            answers.extend(
                net.send_all(
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
                shared.contains(w) || idents.iter().filter(|o| o.as_ref() == Some(w)).count() > 1
            })
        };
        let single: Vec<bool> = (0..items.len()).map(|i| !repeated(i)).collect();
        let full = |i: usize| {
            res[i].action.as_deref() == Some("created") && single[i] && full_compare(&items[i])
        };
        // A read that disagrees may lag the write: read again within the
        // settle window before anything is reported, all of the batch's
        // reads together (a lagging read of a lead just created answers no
        // lead; one read as another version is not waited for). Once the
        // case fails B3, another difference changes nothing: no wait.
        let settles = !out.fails(Clause::B3);
        let agrees: Vec<Box<Agrees<'_>>> = wanted
            .iter()
            .map(|(i, _)| {
                let (sent, full) = (&items[*i].value, full(*i));
                Box::new(move |g: &Exchange| read_agrees(g, sent, full)) as Box<_>
            })
            .collect();
        let reads = wanted
            .iter()
            .zip(answers)
            .zip(&agrees)
            .map(|(((i, id), got), agrees)| {
                // A lead this request created had no earlier version: read
                // (200) as anything but what was sent, it does not lag.
                let fresh = res[*i].action.as_deref() == Some("created") && got.status == Some(200);
                let settle = settles
                    && !fresh
                    && (self.state == ReadBack::Available || got.status == Some(200));
                // A read showing another identity is B3's difference; one
                // that differs beyond phone and e-mail only is B5's.
                let cause = if read_agrees(&got, &items[*i].value, false) {
                    Clause::B5
                } else {
                    Clause::B3
                };
                Reread {
                    clause: cause,
                    path: format!("api/leads/{id}/"),
                    auth: Auth::Token,
                    first: got,
                    agrees: if settle { &**agrees } else { &|_| true },
                }
            })
            .collect();
        let answers = waits.settle_reads(net, reads);
        let mut any_ok = false;
        for ((i, id), got) in wanted.into_iter().zip(answers) {
            let created = res[i].action.as_deref() == Some("created");
            let full = full(i);
            let lead = got
                .response_value()
                .filter(|v| v.is_object() && got.status == Some(200));
            let Some(lead) = lead else {
                let detail = format!(
                    "result {i} names id {id}, but reading it back answered {}",
                    status_text(&got)
                );
                match (self.state, got.status) {
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
                    (ReadBack::Unknown, _) => self.pending.push(Pending {
                        detail,
                        items: items.to_vec(),
                        exchanges: vec![ex.clone(), got],
                    }),
                    (ReadBack::Unavailable, _) => {}
                }
                continue;
            };
            any_ok = true;
            self.state = ReadBack::Available;
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
        if self.state == ReadBack::Unknown && !any_ok && !self.pending.is_empty() {
            // Ids that 404 may be wrong ids rather than no read-back: a lead
            // the list names decides.
            self.probe_via_list(net);
        }
        if self.state == ReadBack::Unknown && !any_ok {
            self.tries += 1;
            if self.tries >= READBACK_TRIES {
                self.state = ReadBack::Unavailable;
                // What the reads answered, for the report.
                for p in self.pending.drain(..).take(5) {
                    self.notes.push(p.detail);
                }
            }
        }
        if self.state == ReadBack::Available {
            for p in std::mem::take(&mut self.pending) {
                out.fail(Clause::B3, "read-back", p.detail, &p.items, p.exchanges);
            }
        }
    }

    /// Reads back the first lead `GET /api/leads/` lists: if that works, the
    /// target offers read-back (and the 404s held back are failures).
    fn probe_via_list(&mut self, net: &mut Transport) {
        let list = net.send("GET", "api/leads/?page_size=1", Auth::Token, None);
        let Some(id) = list
            .response_value()
            .filter(|_| list.status == Some(200))
            .and_then(|v| v.get("results")?.as_array()?.first()?.get("id")?.as_i64())
        else {
            return;
        };
        let got = net.send("GET", &format!("api/leads/{id}/"), Auth::Token, None);
        if got.status == Some(200) && got.response_value().is_some_and(|v| v.is_object()) {
            self.state = ReadBack::Available;
        }
    }

    /// Reads again, at the end of the run, leads read back earlier: each must
    /// still be there with its phone and e-mail (B3); any other answer fails
    /// B3. It runs even when `--max-created` is used up (it creates nothing);
    /// when it cannot run the report says why (and there is no outcome).
    pub(super) fn recheck(
        &mut self,
        net: &mut Transport,
        budget_spent: bool,
    ) -> Option<CaseOutcome> {
        let why_not = if self.state != ReadBack::Available {
            Some("read-back is not available")
        } else if self.read_ok.is_empty() {
            Some("no lead was read back")
        } else if net.gone() {
            Some("the target stopped answering")
        } else if budget_spent {
            Some("the time budget was spent")
        } else {
            None
        };
        if let Some(why) = why_not {
            self.recheck = Some(format!("end-of-run read-back recheck (B3): not run, {why}"));
            return None;
        }
        let step = (self.read_ok.len() / RECHECKS).max(1);
        let picked: Vec<(i64, Value)> = self
            .read_ok
            .iter()
            .step_by(step)
            .take(RECHECKS)
            .cloned()
            .collect();
        let answers = net.send_all(
            picked
                .iter()
                .map(|(id, _)| ("GET", format!("api/leads/{id}/"), Auth::Token, None))
                .collect(),
        );
        self.recheck = Some(format!(
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
        Some(out)
    }

    fn note_folding(&mut self, sent: &Value, lead: &Value) {
        for key in ["favorite_color", "first_name"] {
            if sent.get(key).is_some() {
                let folded = lead
                    .get("metadata")
                    .and_then(|m| m.get(key))
                    .is_some_and(|v| Some(v) == sent.get(key));
                if folded {
                    self.folded.0 += 1;
                } else {
                    self.folded.1 += 1;
                }
            }
        }
    }
}

/// Every field is compared for certainly valid items; a maybe invalid one
/// is compared on phone and e-mail only (its odd field may be normalised).
fn full_compare(item: &GenItem) -> bool {
    item.category == crate::strategies::Category::Valid
}

/// The results to read back: item index and id of every `created` or
/// `reengaged` result with an id.
fn to_read_back(res: &[Res]) -> Vec<(usize, i64)> {
    res.iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.action.as_deref(), Some("created" | "reengaged")))
        .filter_map(|(i, r)| r.id.map(|id| (i, id)))
        .collect()
}

/// True when a read-back answer is the lead sent (every field when `full`).
fn read_agrees(got: &Exchange, sent: &Value, full: bool) -> bool {
    got.status == Some(200)
        && got
            .response_value()
            .is_some_and(|lead| lead.is_object() && stored_mismatch(sent, &lead, full).is_none())
}
