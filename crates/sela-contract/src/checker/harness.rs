//! The harness: the parts of the run's state, each owning its own (the
//! transport, the ledger, the tallies, the count judge, read-back, the settle
//! waits, the observations, the report side), composed for the properties;
//! the few methods here pass each part the others it needs.

use std::collections::HashSet;

use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use super::case::{CaseOutcome, Outcomes};
use super::count::ListCount;
use super::lanes::Lanes;
use super::ledger::Ledger;
use super::observations::Observations;
use super::operations::record::State as OpsState;
use super::quota::Quota;
use super::readback::ReadBacks;
use super::replay::Reporting;
use super::settle::Waits;
use super::tally::Tallies;
use super::text::{short, status_text};
use super::transport::Transport;
use crate::Config;
use crate::report::Clause;
use crate::strategies::{Category, GenItem, Identities};
use crate::target::{Auth, Exchange, HarnessError, Target};
use sela_leads::rules::Identity;

/// How many properties share the `--max-created` budget (sizes, mixed
/// batches, independence, refusals, concurrency, operations, sequences,
/// concurrent groups).
const PROPERTIES: usize = 8;

/// The parts of the run that share the time budget: the size probe, the
/// formats re-send and every property.
const SLICES: u32 = PROPERTIES as u32 + 2;

/// Path of the bulk-create operation, relative to the base URL.
pub const BULK_PATH: &str = "api/leads/bulk-create/";

/// Runs the properties against one target.
pub(crate) struct Harness<'a> {
    pub(super) target: &'a Target,
    pub(super) config: &'a Config,
    /// Requests, throttling, answers read ahead, the target gone.
    pub(super) net: Transport<'a>,
    pub(super) runner: TestRunner,
    pub(super) ids: Identities,
    pub(super) ledger: Ledger,
    pub(super) tallies: Tallies,
    pub(super) obs: Observations,
    /// `--max-created` shared out, and the leads created.
    pub(super) quota: Quota,
    pub(super) cases_run: u32,
    pub(super) readback: ReadBacks,
    pub(super) count: ListCount,
    /// Largest batch that may not be refused as a whole: the largest accepted
    /// when the probe saw a size refusal, else `max_size`.
    pub(super) size_limit: usize,
    /// Smallest batch it refused as a whole, if any.
    pub(super) size_refused: Option<usize>,
    /// True while the requests being checked were in flight together (S4).
    pub(super) concurrent: bool,
    /// Identities shared by requests in flight together: their expected
    /// outcomes are checked across the group, not per request.
    pub(super) shared: HashSet<Identity>,
    pub(super) wrong_key: String,
    pub(super) reporting: Reporting,
    /// Reads that waited for the settle window.
    pub(super) waits: Waits,
    /// The lead operations' state (C1-L1, A3, S2 over time).
    pub(super) ops: OpsState,
    /// Cases side by side: what the lanes keep between waves, and what
    /// they did.
    pub(super) lanes: Lanes<'a>,
}

impl<'a> Harness<'a> {
    pub(crate) fn new(
        target: &'a Target,
        config: &'a Config,
        runner: TestRunner,
        tag: &str,
        offset: u64,
    ) -> Result<Self, HarnessError> {
        super::case::skip_failures(&config.skip_checks);
        Ok(Harness {
            target,
            config,
            net: Transport::new(target, config.throttle_patience)?,
            runner,
            ids: Identities::new(tag, offset, config.pool_size()),
            ledger: Ledger::new(),
            tallies: Tallies::new(),
            obs: Observations::default(),
            quota: Quota::new(config.max_created, PROPERTIES),
            cases_run: 0,
            readback: ReadBacks::new(),
            count: ListCount::new(config.shared_account),
            size_limit: config.max_batch,
            size_refused: None,
            concurrent: false,
            shared: HashSet::new(),
            wrong_key: target.wrong_key(tag),
            reporting: Reporting::new(config, SLICES),
            waits: Waits::new(config.settle),
            ops: OpsState::default(),
            lanes: Lanes::default(),
        })
    }

    /// True once no new case may be sent: the current property's share of
    /// `--max-created` is used up, the target is gone, or `--fail-fast`
    /// stopped the run.
    pub(super) fn exhausted(&self) -> bool {
        self.quota.out_of_room() || self.net.gone() || self.reporting.stopped()
    }

    /// A `GET path` answer read again within the settle window until `agrees`.
    pub(super) fn settle_read(
        &mut self,
        clause: Clause,
        path: &str,
        auth: Auth,
        first: Exchange,
        agrees: impl Fn(&Exchange) -> bool,
    ) -> Exchange {
        self.waits
            .settle_read(&mut self.net, clause, path, auth, first, agrees)
    }

    /// Why the run cannot report: the target stopped answering or never
    /// stopped throttling.
    pub(crate) fn fatal(&mut self) -> Option<HarnessError> {
        self.net.fatal()
    }

    /// The list count now, as the new baseline (see [`ListCount::refresh`]).
    pub(super) fn refresh_count(&mut self) -> Option<(u64, Exchange)> {
        self.count.refresh(&mut self.net)
    }

    /// A count that `differs` read again within the settle window (not when
    /// the case already `failed` the clause, see [`ListCount::settle`]).
    pub(super) fn settle_count(
        &mut self,
        clause: (Clause, bool),
        after: u64,
        list_ex: Exchange,
        differs: impl Fn(u64) -> bool,
    ) -> (u64, Exchange) {
        self.count.settle(
            &mut self.net,
            &mut self.waits,
            clause,
            after,
            list_ex,
            differs,
        )
    }

    /// The count before a request about to be sent, when known.
    pub(super) fn baseline(&mut self) -> Option<u64> {
        self.count.baseline(&mut self.net, &self.waits)
    }

    /// S2 on the count after one answered request (see [`ListCount::check`]).
    pub(super) fn check_count(
        &mut self,
        tally: &Outcomes,
        items: &[GenItem],
        evidence: &[Exchange],
        out: &mut CaseOutcome,
    ) {
        self.count
            .check(&mut self.net, &mut self.waits, tally, items, evidence, out);
    }

    /// S3 on the count after a request refused as a whole.
    pub(super) fn check_count_unchanged(
        &mut self,
        before: Option<u64>,
        items: &[GenItem],
        evidence: &[Exchange],
        out: &mut CaseOutcome,
    ) {
        self.count
            .check_unchanged(&mut self.net, &mut self.waits, before, items, evidence, out);
    }

    /// Reads again, at the end of the run, leads read back earlier (B3).
    pub(crate) fn recheck_read_back(&mut self) {
        let spent = self.reporting.budget.spent();
        if let Some(out) = self.readback.recheck(&mut self.net, spent) {
            self.tallies.record(out, false);
        }
    }

    /// The JSON body of a bulk request for these items.
    pub(super) fn bulk_body(items: &[GenItem]) -> String {
        let leads: Vec<Value> = items.iter().map(|g| g.value.clone()).collect();
        json!({ "leads": leads }).to_string()
    }

    /// Sends a batch; first makes sure S2's count baseline is current.
    pub(super) fn post_batch(&mut self, items: &[GenItem]) -> Exchange {
        self.baseline();
        self.obs.largest_sent = self.obs.largest_sent.max(items.len());
        self.net
            .send("POST", BULK_PATH, Auth::Token, Some(Self::bulk_body(items)))
    }

    /// Reserves room for `n` possible creations; false once the current
    /// property's share of `--max-created` is used up.
    pub(super) fn reserve(&mut self, n: usize) -> bool {
        let gone = self.net.gone();
        self.quota.reserve(n, gone)
    }

    pub(super) fn creatable(items: &[GenItem]) -> usize {
        items
            .iter()
            .filter(|g| matches!(g.category, Category::Valid | Category::Maybe))
            .count()
    }

    /// Sends an empty batch first: proves the target answers (else an error) and
    /// records the empty-batch status; then reads the list count once.
    pub(crate) fn probe(&mut self) -> Result<(), HarnessError> {
        let ex = self.net.send(
            "POST",
            BULK_PATH,
            Auth::Token,
            Some(json!({"leads": []}).to_string()),
        );
        if let Some(e) = self.net.take_fatal() {
            return Err(e);
        }
        if let Some(err) = &ex.transport_error {
            return Err(HarnessError::Connection(format!("{}: {err}", ex.url)));
        }
        if matches!(ex.status, Some(401 | 403)) {
            return Err(HarnessError::KeyRefused(format!(
                "an empty batch with `Authorization: Token $SELA_API_KEY` was answered {} \
                 (check SELA_API_KEY)",
                status_text(&ex)
            )));
        }
        self.obs.empty_batch = Some(format!(
            "{} {}",
            ex.status.unwrap_or(0),
            short(&ex.response, 120)
        ));
        self.refresh_count();
        Ok(())
    }
}
