//! S2's list count: where `GET /api/leads/` answers a `count`, it grows by
//! exactly the number of `created` results of each request (a re-engagement
//! that stores a second copy is a double creation), and a request refused as
//! a whole or an item answered `error` adds nothing (S3). Assumes nothing else
//! writes to the account during the run; `--shared-account` turns it off.

use serde_json::Value;

use super::case::{CaseOutcome, Outcomes};
use super::settle::Waits;
use super::text::status_text;
use super::transport::Transport;
use crate::report::Clause;
use crate::strategies::GenItem;
use crate::target::{Auth, Exchange};

/// The list request: one lead per page, only `count` is read.
const LIST_PATH: &str = "api/leads/?page_size=1";

/// Whether S2's list count can be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Listing {
    /// Not tried yet.
    Unknown,
    /// Turned off (`--shared-account`).
    Off,
    /// `GET /api/leads/` did not answer a `count`.
    Unavailable,
    /// Answered a `count` (the last one seen, when it is current).
    Available(Option<u64>),
}

/// The count judge: the list count's baseline and the S2/S3 verdicts on its
/// growth. Reads go through the transport it is given, waiting out the
/// settle window with the waits it is given.
#[derive(Debug)]
pub(super) struct ListCount {
    pub(super) listing: Listing,
    /// The baseline was read within the settle window after a write, so it
    /// may lag: a count excess over it is no verdict.
    baseline_unsure: bool,
    /// Why the count is unavailable, for the report.
    pub(super) note: Option<String>,
    /// List-count checks left unjudged: an excess over a baseline read soon
    /// after a write (it may have lagged).
    pub(super) unsure: u32,
    /// In a lane (cases run side by side, see `lanes`): the count is not
    /// read, each request's outcomes are noted for the wave's one judgement.
    claims: Option<Vec<Claim>>,
    /// In a lane: a request's effect on the count is unknown (an answer
    /// that could not be judged), so its wave's count cannot be judged.
    lane_unknown: bool,
    /// Count checks that found the count off (whatever clause they failed,
    /// or none when another failure of that clause came first in the case).
    pub(super) off: u32,
}

/// What one request would have the list count grow by, noted in a lane and
/// judged with the rest of its wave.
#[derive(Debug)]
pub(super) struct Claim {
    /// Its results; a request refused as a whole counts its items as errors
    /// (stored, they would break S3).
    pub(super) outcomes: Outcomes,
    pub(super) items: Vec<GenItem>,
    pub(super) evidence: Vec<Exchange>,
}

impl ListCount {
    /// Off with `--shared-account` (others may write to the account).
    pub(super) fn new(shared_account: bool) -> Self {
        ListCount {
            listing: if shared_account {
                Listing::Off
            } else {
                Listing::Unknown
            },
            baseline_unsure: false,
            note: None,
            unsure: 0,
            claims: None,
            lane_unknown: false,
            off: 0,
        }
    }

    /// A lane's count judge: reads nothing, notes each request's claim.
    pub(super) fn lane() -> Self {
        ListCount {
            listing: Listing::Off,
            claims: Some(Vec::new()),
            ..ListCount::new(true)
        }
    }

    /// In a lane: notes that the count must have grown by `n` over requests
    /// whose evidence is `evidence` (a single operation's count check, made
    /// over the wave). True when noted (in a lane).
    pub(super) fn claim(&mut self, n: u64, evidence: &[Exchange]) -> bool {
        let created = usize::try_from(n).unwrap_or(usize::MAX);
        self.note(
            Outcomes {
                created,
                ..Outcomes::default()
            },
            &[],
            evidence,
        )
    }

    /// In a lane: notes a request's claim for the wave's judgement. True when
    /// noted (in a lane); else nothing happens.
    pub(super) fn note(
        &mut self,
        outcomes: Outcomes,
        items: &[GenItem],
        evidence: &[Exchange],
    ) -> bool {
        let Some(claims) = &mut self.claims else {
            return false;
        };
        claims.push(Claim {
            outcomes,
            items: items.to_vec(),
            evidence: evidence.to_vec(),
        });
        true
    }

    /// True in a lane (cases side by side): the list shows the other lanes'
    /// leads too, and the count is judged over the wave.
    pub(super) fn in_lane(&self) -> bool {
        self.claims.is_some()
    }

    /// The claims a lane noted, taken; `None` when some request's effect
    /// on the count is unknown.
    pub(super) fn take_claims(&mut self) -> Option<Vec<Claim>> {
        let claims = self.claims.as_mut().map(std::mem::take).unwrap_or_default();
        (!std::mem::take(&mut self.lane_unknown)).then_some(claims)
    }

    /// Reads the list count, if the target offers one; remembers it as the
    /// baseline of the next comparison. Returns the count and its exchange.
    pub(super) fn refresh(&mut self, net: &mut Transport) -> Option<(u64, Exchange)> {
        if matches!(self.listing, Listing::Off | Listing::Unavailable) {
            return None;
        }
        let ex = net.send("GET", LIST_PATH, Auth::Token, None);
        let count = ex
            .response_value()
            .filter(|_| ex.status == Some(200))
            .and_then(|v| v.get("count").and_then(Value::as_u64));
        match count {
            Some(n) => {
                self.listing = Listing::Available(Some(n));
                Some((n, ex))
            }
            None => {
                if self.listing == Listing::Unknown {
                    self.listing = Listing::Unavailable;
                    self.note = Some(format!(
                        "listing leads (GET /api/leads/) answered {} without a count: S2's \
                         count growth is not checked",
                        status_text(&ex)
                    ));
                } else {
                    // A transient failure: the next comparison starts afresh.
                    self.listing = Listing::Available(None);
                }
                None
            }
        }
    }

    /// A count that `differs` re-read within the settle window; the last
    /// count read becomes the baseline. Not when the case already `failed`
    /// `clause` by its answers: the clause's verdict cannot change.
    pub(super) fn settle(
        &mut self,
        net: &mut Transport,
        waits: &mut Waits,
        (clause, failed): (Clause, bool),
        after: u64,
        list_ex: Exchange,
        differs: impl Fn(u64) -> bool,
    ) -> (u64, Exchange) {
        if failed || !differs(after) {
            return (after, list_ex);
        }
        let ex = waits.settle_read(net, clause, LIST_PATH, Auth::Token, list_ex, |ex| {
            count_of(ex).is_some_and(|n| !differs(n))
        });
        match count_of(&ex) {
            Some(n) => {
                self.listing = Listing::Available(Some(n));
                (n, ex)
            }
            None => (after, ex),
        }
    }

    /// The baseline count grows by `n` leads the run knows it created
    /// (a re-read could lag the write).
    pub(super) fn grew(&mut self, n: u64) {
        self.claim(n, &[]);
        if let Listing::Available(Some(c)) = self.listing {
            self.listing = Listing::Available(Some(c + n));
        }
    }

    /// The baseline count is unknown after an answer whose effect is unknown.
    pub(super) fn stale(&mut self) {
        self.lane_unknown |= self.claims.is_some();
        self.forget();
    }

    /// The baseline count is to be read again (writes went out whose growth
    /// the caller claims or checks once it knows it).
    pub(super) fn forget(&mut self) {
        if let Listing::Available(_) = self.listing {
            self.listing = Listing::Available(None);
        }
    }

    /// The current baseline, when it is known (no request).
    pub(super) fn known(&self) -> Option<u64> {
        match self.listing {
            Listing::Available(Some(n)) => Some(n),
            _ => None,
        }
    }

    /// The count before a request the caller is about to send, when it is
    /// known (call it first; it costs a request only when the last count is
    /// stale).
    pub(super) fn baseline(&mut self, net: &mut Transport, waits: &Waits) -> Option<u64> {
        match self.listing {
            Listing::Available(Some(n)) => Some(n),
            Listing::Available(None) | Listing::Unknown => {
                // A count read within the settle window after a write may lag
                // it (a read replica): once reads are seen to lag in this run,
                // wait the window out first; before that, mark the baseline
                // unsure, so that an excess over it is no verdict.
                let recent = net.write_within(waits.window);
                if let Some(left) = recent.filter(|_| waits.lagged()) {
                    std::thread::sleep(left);
                    self.baseline_unsure = false;
                } else {
                    self.baseline_unsure = recent.is_some();
                }
                self.refresh(net).map(|(n, _)| n)
            }
            _ => None,
        }
    }

    /// True when a count that went to `after` instead of `want` may only show
    /// that the baseline lagged (it came from a read soon after a write): an
    /// excess is then no verdict, and the report says so.
    pub(super) fn unsure_excess(
        &mut self,
        waits: &mut Waits,
        clause: Clause,
        after: u64,
        want: u64,
    ) -> bool {
        if self.baseline_unsure && after > want {
            self.unsure += 1;
            waits.excuse(clause);
            return true;
        }
        false
    }

    /// The path a count read asks for, when the target offers a count.
    pub(super) fn to_read(&self) -> Option<&'static str> {
        matches!(self.listing, Listing::Available(_)).then_some(LIST_PATH)
    }

    /// The path [`ListCount::check`] will read, when it will read one.
    pub(super) fn to_check(&self) -> Option<&'static str> {
        matches!(self.listing, Listing::Available(Some(_))).then_some(LIST_PATH)
    }

    /// S2 after one answered request: the count grew by exactly the number of
    /// `created` results (an excess with only `error` results is S3).
    pub(super) fn check(
        &mut self,
        net: &mut Transport,
        waits: &mut Waits,
        tally: &Outcomes,
        items: &[GenItem],
        evidence: &[Exchange],
        out: &mut CaseOutcome,
    ) {
        if self.note(*tally, items, evidence) {
            return;
        }
        let Listing::Available(Some(before)) = self.listing else {
            return;
        };
        let Some((after, list_ex)) = self.refresh(net) else {
            return;
        };
        // The count may lag the write: read it again within the settle window.
        let failed = (Clause::S2, out.fails(Clause::S2));
        let (after, list_ex) = self.settle(net, waits, failed, after, list_ex, |after| {
            growth_differs(before, after, tally)
        });
        let created = tally.created as u64;
        if growth_differs(before, after, tally)
            && self.unsure_excess(waits, Clause::S2, after, before + created)
        {
            return;
        }
        out.check(Clause::S2);
        if tally.errors > 0 {
            // Error items that were stored would show here too.
            out.check(Clause::S3);
        }
        let verdicts = judge_growth(before, after, tally, "a request");
        self.off += u32::from(!verdicts.is_empty());
        for (clause, why) in verdicts {
            let mut all = evidence.to_vec();
            all.push(list_ex.clone());
            out.fail(clause, "list count", why, items, all);
        }
    }

    /// S3 after a request refused as a whole: the count did not change.
    pub(super) fn check_unchanged(
        &mut self,
        net: &mut Transport,
        waits: &mut Waits,
        before: Option<u64>,
        items: &[GenItem],
        evidence: &[Exchange],
        out: &mut CaseOutcome,
    ) {
        let refused = Outcomes {
            errors: items.len(),
            ..Outcomes::default()
        };
        if self.note(refused, items, evidence) {
            return;
        }
        let Some(before) = before else { return };
        let Some((after, list_ex)) = self.refresh(net) else {
            return;
        };
        let failed = (Clause::S3, out.fails(Clause::S3));
        let (after, list_ex) =
            self.settle(net, waits, failed, after, list_ex, |after| after != before);
        out.check(Clause::S3);
        if after != before {
            self.off += 1;
            let mut all = evidence.to_vec();
            all.push(list_ex);
            out.fail(
                Clause::S3,
                "list count",
                format!(
                    "a request refused as a whole changed the list count from {before} to \
                     {after}: it stored something"
                ),
                items,
                all,
            );
        }
    }
}

/// The verdict on a count that went from `before` to `after` over requests
/// with these outcomes: nothing when it grew by exactly the number
/// created; else the clauses it breaks, each with why. An excess that
/// stored error items (S3) and second copies of re-engaged leads (S2)
/// could both explain is certainly wrong: it fails both, saying so.
pub(super) fn judge_growth(
    before: u64,
    after: u64,
    tally: &Outcomes,
    what: &str,
) -> Vec<(Clause, String)> {
    let grew = i128::from(after) - i128::from(before);
    let base = format!(
        "the list count went from {before} to {after} ({grew:+}) for {what} with {} \
         created, {} reengaged and {} error result(s): it must grow by exactly the \
         number created",
        tally.created, tally.reengaged, tally.errors
    );
    match growth_verdict(grew, tally) {
        Growth::Exact => Vec::new(),
        Growth::Ambiguous => [Clause::S2, Clause::S3]
            .into_iter()
            .map(|c| {
                (
                    c,
                    format!(
                        "{base}; the excess is either error items stored (S3) or second \
                         copies of re-engaged leads (S2), which the count cannot tell \
                         apart, so both clauses fail"
                    ),
                )
            })
            .collect(),
        Growth::Breaks(clause) => vec![(clause, base)],
    }
}

/// True when a count going from `before` to `after` is not exactly the growth
/// these outcomes explain (a read to repeat within the settle window).
pub(super) fn growth_differs(before: u64, after: u64, tally: &Outcomes) -> bool {
    growth_verdict(i128::from(after) - i128::from(before), tally) != Growth::Exact
}

/// The `count` of a list answer.
pub(super) fn count_of(ex: &Exchange) -> Option<u64> {
    ex.response_value()
        .filter(|_| ex.status == Some(200))
        .and_then(|v| v.get("count").and_then(Value::as_u64))
}

/// What a count's growth says about one request (or a group in flight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Growth {
    /// It grew by exactly the number created.
    Exact,
    /// It grew by more, and both stored error items (S3) and second copies of
    /// re-engaged leads (S2) could explain it: wrong either way, so both fail.
    Ambiguous,
    /// It breaks this clause: S3 when only stored error items can explain the
    /// excess, else S2 (second copies, or created leads not stored).
    Breaks(Clause),
}

fn growth_verdict(grew: i128, tally: &Outcomes) -> Growth {
    let excess = grew - tally.created as i128;
    if excess == 0 {
        return Growth::Exact;
    }
    let could_be_errors = excess > 0 && tally.errors as i128 >= excess;
    let could_be_copies = excess > 0 && tally.reengaged as i128 >= excess;
    match (could_be_errors, could_be_copies) {
        (true, true) => Growth::Ambiguous,
        (true, false) => Growth::Breaks(Clause::S3),
        _ => Growth::Breaks(Clause::S2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_judged_by_what_can_explain_it() {
        // (growth, created, reengaged, errors, verdict)
        let cases = [
            (2, 2, 3, 4, Growth::Exact),
            // One more lead than created: an error item stored (only errors).
            (3, 2, 0, 4, Growth::Breaks(Clause::S3)),
            // A second copy of a re-engaged lead (only re-engagements).
            (3, 2, 1, 0, Growth::Breaks(Clause::S2)),
            (3, 2, 1, 1, Growth::Ambiguous),
            // More extra leads than error items: not only errors.
            (5, 2, 3, 1, Growth::Breaks(Clause::S2)),
            // Fewer than created: a lead reported created was not stored.
            (1, 2, 0, 5, Growth::Breaks(Clause::S2)),
            (4, 2, 0, 0, Growth::Breaks(Clause::S2)),
        ];
        for (growth, created, reengaged, errors, verdict) in cases {
            let tally = Outcomes {
                created,
                reengaged,
                errors,
            };
            assert_eq!(
                growth_verdict(growth, &tally),
                verdict,
                "growth {growth} with {tally:?}"
            );
        }
    }

    #[test]
    fn an_ambiguous_excess_fails_both_clauses_it_could_be() {
        let tally = Outcomes {
            created: 2,
            reengaged: 1,
            errors: 1,
        };
        let got = judge_growth(10, 13, &tally, "a request");
        let clauses: Vec<Clause> = got.iter().map(|(c, _)| *c).collect();
        assert_eq!(clauses, [Clause::S2, Clause::S3]);
        assert!(
            got.iter().all(|(_, why)| why.contains("both clauses fail")),
            "{got:?}"
        );
        assert!(judge_growth(10, 12, &tally, "a request").is_empty());
    }
}
