//! Cases in waves: against a remote target a case's time is round trips, so
//! every property but the sizes runs several cases side by side
//! (`--lanes`; the sequences and the concurrent groups after a first case
//! alone, see [`Sides`]), each in a lane of its own (its own connections and
//! identities, the creation share drawn from one pool), and judges the list
//! count once over the wave: it must grow by exactly what all the wave's
//! requests claimed (S2, S3), as S4 judges its group. A wave whose count does
//! not add up is run again one case at a time, so that the failure is pinned
//! to one case and shrunk; the run keeps to one case at a time after that.

use std::time::Instant;

use proptest::prelude::Rng;
use proptest::strategy::{Strategy, ValueTree};

use super::Harness;
use super::case::{CaseOutcome, Outcomes};
use super::count::{Claim, ListCount, Listing, growth_differs, judge_growth};
use super::lanes::{Lane, Lanes};
use super::ledger::Ledger;
use super::observations::Observations;
use super::operations::record::State as OpsState;
use super::quota::Pool;
use super::readback::ReadBack;
use super::replay::{Reporting, case_runner, property_name};
use super::settle::Waits;
use super::transport::Transport;
use crate::report::Clause;
use crate::strategies::GenItem;
use crate::target::Exchange;

/// How a property's cases run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sides {
    /// One at a time.
    One,
    /// Side by side in lanes, once read-back and the list count are known
    /// (a lane reads no list count: it claims what its requests created).
    Lanes,
    /// The first case alone, then side by side: a lane's list shows the
    /// other lanes' leads too, so what only a quiet account can judge (a
    /// list page against every lead of the account, a lead found by
    /// walking the list) is judged in the first case, and skipped in the
    /// lanes.
    AfterFirst,
}

impl<'a> Harness<'a> {
    /// Runs `exec` on `cases` generated values, one at a time (see
    /// `Harness::cases`); every clause that fails for the first time is
    /// shrunk on its own (the case regenerated from the same runner state),
    /// so each failing clause gets its own minimal example.
    pub(super) fn property<S>(
        &mut self,
        strategy: &S,
        cases: u32,
        exec: impl Fn(&mut Self, &S::Value) -> CaseOutcome + Sync,
    ) where
        S: Strategy,
        S::Value: Sync,
    {
        self.cases(strategy, cases, Sides::One, exec);
    }

    /// Runs `cases` cases of a property, one at a time or side by side as
    /// `sides` says (see the module's doc). Stored failures are replayed
    /// first, one at a time.
    pub(super) fn cases<S>(
        &mut self,
        strategy: &S,
        cases: u32,
        sides: Sides,
        exec: impl Fn(&mut Self, &S::Value) -> CaseOutcome + Sync,
    ) where
        S: Strategy,
        S::Value: Sync,
    {
        self.quota.begin_property();
        let name = property_name(&exec);
        self.reporting.budget.begin_slice();
        self.replay_stored(&name, strategy, &exec);
        self.reporting.begin(&name, cases, self.net.counts());
        let mut left = cases;
        while left > 0 && !self.reporting.stopped() {
            let width = match sides {
                Sides::One => 1,
                Sides::AfterFirst if left == cases => 1,
                Sides::Lanes | Sides::AfterFirst => self.lane_width(),
            };
            let mut drawn = Vec::new();
            while drawn.len() < width && left > 0 {
                left -= 1;
                if self.exhausted() {
                    self.obs.skipped += 1;
                    continue;
                }
                if self.reporting.budget.refuse_case() {
                    continue;
                }
                // Each case has its own seed: shrinking regenerates the case
                // from it, and so does a stored failure's replay.
                let case_seed = self.runner.rng().next_u64();
                if let Ok(tree) = strategy.new_tree(&mut case_runner(case_seed)) {
                    drawn.push((case_seed, tree.current()));
                }
            }
            if drawn.len() > 1 {
                self.wave(&name, strategy, &exec, drawn);
            } else {
                for (case_seed, case) in drawn {
                    self.run_case(&name, strategy, &exec, case_seed, &case);
                }
            }
        }
        self.reporting.end(self.net.counts());
    }

    /// Cases side by side now: `--lanes` once read-back's and the count's
    /// availability are known (until then a lane could not judge alone), 1
    /// after a wave's count failed.
    fn lane_width(&self) -> usize {
        let known =
            self.readback.state != ReadBack::Unknown && self.count.listing != Listing::Unknown;
        if known && !self.lanes.off {
            self.config.lanes.max(1)
        } else {
            1
        }
    }

    /// Runs the drawn cases side by side, each in its lane, judges the
    /// count over them, then tallies (and shrinks, one at a time) each.
    fn wave<S>(
        &mut self,
        name: &str,
        strategy: &S,
        exec: &(impl Fn(&mut Self, &S::Value) -> CaseOutcome + Sync),
        drawn: Vec<(u64, S::Value)>,
    ) where
        S: Strategy,
        S::Value: Sync,
    {
        let before = self.baseline();
        let ledger = self.ledger.clone();
        let waits = self.waits.clone();
        let Some(lanes) = self.lane_harnesses(drawn.len(), &ledger) else {
            // No lane could be set up: one at a time.
            self.lanes.off = true;
            for (case_seed, case) in &drawn {
                self.run_case(name, strategy, exec, *case_seed, case);
            }
            return;
        };
        self.lanes.waves += 1;
        self.lanes.cases += u32::try_from(drawn.len()).unwrap_or(u32::MAX);
        let mark = self.target.recorder().map(|r| r.mark());
        let clock = Instant::now();
        let skip = &self.config.skip_checks;
        let done: Vec<(Harness<'a>, CaseOutcome)> = std::thread::scope(|s| {
            let running: Vec<_> = lanes
                .into_iter()
                .zip(&drawn)
                .map(|(mut lane, (_, case))| {
                    s.spawn(move || {
                        super::case::skip_failures(skip);
                        let outcome = exec(&mut lane, case);
                        (lane, outcome)
                    })
                })
                .collect();
            running
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut claims = Some(Vec::new());
        let mut twice = Vec::new();
        let mut outcomes = Vec::new();
        for (lane, outcome) in done {
            let (c, t) = self.absorb(lane, &ledger, &waits);
            claims = claims.zip(c).map(|(mut all, c)| {
                all.extend(c);
                all
            });
            twice.extend(t);
            outcomes.push(outcome);
        }
        // A wave one of whose cases fails S2 by its answers does not wait
        // for its count to settle (S2's verdict cannot change).
        let failed = outcomes.iter().any(|o| o.fails(Clause::S2));
        let mut group = self.judge_wave(before, (claims, failed), twice, drawn.len());
        let failed = !group.failures.is_empty() || outcomes.iter().any(|o| !o.failures.is_empty());
        self.mark_failing(mark, failed);
        for ((case_seed, _), outcome) in drawn.iter().zip(outcomes) {
            // `--fail-fast`: the wave's later cases are not reached.
            if self.reporting.stopped() {
                return;
            }
            self.conclude_case(name, strategy, exec, *case_seed, outcome, clock);
        }
        if !group.failures.is_empty() && !self.reporting.stopped() {
            // Pin it to one case: the wave's cases again, one at a time (new
            // identities), each judged on the count alone. A count found off
            // alone is the evidence, whatever clause it fails (the wave's
            // verdict can only say S2 or S3); the wave's is kept only when no
            // case's count is off alone.
            self.lanes.off = true;
            let off = self.count.off;
            for (case_seed, case) in &drawn {
                if self.reporting.stopped() {
                    break;
                }
                self.run_case(name, strategy, exec, *case_seed, case);
            }
            if self.count.off > off {
                group.failures.clear();
            }
        }
        self.tallies.record(group, false);
        self.waits.note_failed(self.tallies.failed());
        self.reporting.announce(&self.tallies);
    }

    /// A harness for each of `width` lanes (its kept identities and
    /// connections, a copy of `ledger`, a part of the creation share); `None`
    /// when a lane's connections cannot be set up.
    fn lane_harnesses(&mut self, width: usize, ledger: &Ledger) -> Option<Vec<Harness<'a>>> {
        while self.lanes.keeps.len() < width {
            let i = u32::try_from(self.lanes.keeps.len()).ok()?;
            let net = Transport::lane(self.target, self.config.throttle_patience, i).ok()?;
            self.lanes.keeps.push(Lane {
                ids: self
                    .ids
                    .lane(i, u32::try_from(self.config.lanes).unwrap_or(u32::MAX)),
                net,
            });
        }
        let keeps: Vec<Lane<'a>> = self.lanes.keeps.drain(..width).collect();
        let pool = Pool::default();
        Some(
            keeps
                .into_iter()
                .map(|keep| Harness {
                    target: self.target,
                    config: self.config,
                    net: keep.net,
                    runner: self.runner.clone(),
                    ids: keep.ids,
                    ledger: ledger.clone(),
                    tallies: self.tallies.verdicts(),
                    obs: Observations::default(),
                    quota: self.quota.lane(&pool),
                    cases_run: 0,
                    readback: self.readback.lane(),
                    count: ListCount::lane(),
                    size_limit: self.size_limit,
                    size_refused: self.size_refused,
                    concurrent: false,
                    shared: Default::default(),
                    wrong_key: self.wrong_key.clone(),
                    reporting: Reporting::lane(),
                    waits: self.waits.clone(),
                    ops: OpsState::default(),
                    lanes: Lanes {
                        off: true,
                        ..Lanes::default()
                    },
                })
                .collect(),
        )
    }

    /// Takes in what a lane did (it started from `ledger` and `waits`); its
    /// identities and connections are kept for the next wave. Returns its
    /// count claims (`None`: some effect unknown) and the ids it was given
    /// that another lane had been given too.
    fn absorb(
        &mut self,
        mut lane: Harness<'a>,
        ledger: &Ledger,
        waits: &Waits,
    ) -> (Option<Vec<Claim>>, Vec<i64>) {
        self.net.absorb(&mut lane.net);
        let twice = self.ledger.absorb(ledger, lane.ledger);
        self.obs.absorb(lane.obs);
        self.quota.absorb(lane.quota);
        self.readback.absorb(lane.readback);
        self.waits.absorb(waits, lane.waits);
        self.ops.obs.absorb(lane.ops.obs);
        let claims = lane.count.take_claims();
        self.lanes.keeps.push(Lane {
            ids: lane.ids,
            net: lane.net,
        });
        (claims, twice)
    }

    /// The wave's S2/S3 on the list count (it grew by exactly what all its
    /// requests answered) and S1 across lanes (no id given twice).
    fn judge_wave(
        &mut self,
        before: Option<u64>,
        (claims, failed): (Option<Vec<Claim>>, bool),
        twice: Vec<i64>,
        width: usize,
    ) -> CaseOutcome {
        let mut out = CaseOutcome::default();
        let all = claims.as_deref().unwrap_or_default();
        let items: Vec<GenItem> = all.iter().flat_map(|c| c.items.iter().cloned()).collect();
        let evidence: Vec<Exchange> = all
            .iter()
            .flat_map(|c| c.evidence.iter().cloned())
            .collect();
        if !twice.is_empty() {
            out.check(Clause::S1);
            out.fail(
                Clause::S1,
                "id reused",
                format!(
                    "id(s) {twice:?} were each answered `created` to two requests in flight \
                     together ({width} cases side by side), for different identities"
                ),
                &items,
                evidence.clone(),
            );
        }
        let (Some(before), Some(claims)) = (before, claims) else {
            // Some request's effect is unknown: the next baseline is read.
            self.count.stale();
            return out;
        };
        if claims.is_empty() {
            return out;
        }
        let total = claims.iter().fold(Outcomes::default(), |t, c| Outcomes {
            created: t.created + c.outcomes.created,
            reengaged: t.reengaged + c.outcomes.reengaged,
            errors: t.errors + c.outcomes.errors,
        });
        let Some((after, list_ex)) = self.refresh_count() else {
            return out;
        };
        let (after, list_ex) = self.settle_count((Clause::S2, failed), after, list_ex, |n| {
            growth_differs(before, n, &total)
        });
        if growth_differs(before, after, &total)
            && self.count.unsure_excess(
                &mut self.waits,
                Clause::S2,
                after,
                before + total.created as u64,
            )
        {
            return out;
        }
        out.check(Clause::S2);
        if total.errors > 0 {
            out.check(Clause::S3);
        }
        let what = format!(
            "{} requests of {width} cases run side by side (--lanes)",
            claims.len()
        );
        for (clause, why) in judge_growth(before, after, &total, &what) {
            let mut all = evidence.clone();
            all.push(list_ex.clone());
            out.fail(clause, "list count", why, &items, all);
        }
        out
    }
}
