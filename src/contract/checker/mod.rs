//! The checker: sends generated batches, evaluates every clause of CONTRACT.md on
//! the answers, and keeps the run's ledger of identities sent and created. One
//! module per property, named after it:
//!
//! - `mixed`: mixed batches (T1-T3, B1-B3, S1, S2);
//! - `independence`: valid items alone and among invalid ones (B4);
//! - `refusals`: requests refused as a whole, then sent properly (A1, A2, S3);
//! - `bulk`: the clauses evaluated on every bulk answer (T1-T3, B1-B3, S1, S2);
//! - `readback`: B3 by reading the stored leads back;
//! - `case`: one test case's outcome and the property runner that shrinks;
//! - [`ledger`]: the run's memory of identities sent and created;
//! - `observations`: what is recorded but not asserted, and the final report;
//! - `replay`: stored failures replayed first, the time budget, progress.
//!
//! Expectations come from the sandbox's model ([`identity`](crate::sandbox::model::identity),
//! [`normalize_phone`](crate::sandbox::model::normalize_phone),
//! [`NOT_AN_OBJECT`](crate::sandbox::model::NOT_AN_OBJECT)), so the harness and
//! the sandbox share one reading of the documentation.

mod bulk;
mod case;
mod independence;
pub mod ledger;
mod mixed;
mod observations;
mod readback;
mod refusals;
mod replay;

use std::collections::BTreeMap;

use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use super::Config;
use super::report::Clause;
use super::strategies::{Category, GenItem, Identities};
use super::target::{Auth, Exchange, HarnessError, Target, send};
use case::Tally;
use observations::{Observations, ReadBack, short, status_text};

pub use ledger::Ledger;

/// Requests in a row without an answer after which the target counts as gone.
const MAX_TRANSPORT_FAILURES: u32 = 5;

/// How many properties a run has (mixed batches, independence, refusals).
const PROPERTIES: usize = 3;

/// Path of the bulk-create operation, relative to the base URL.
pub const BULK_PATH: &str = "api/leads/bulk-create/";

/// Runs the properties against one target.
pub(crate) struct Harness<'a> {
    target: &'a Target,
    config: &'a Config,
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    runner: TestRunner,
    ids: Identities,
    ledger: Ledger,
    tallies: BTreeMap<Clause, Tally>,
    obs: Observations,
    created: usize,
    budget_used: usize,
    share_limit: usize,
    properties_left: usize,
    exhausted: bool,
    cases_run: u32,
    requests: usize,
    readback: ReadBack,
    wrong_key: String,
    transport_failures: u32,
    lost: Option<String>,
    reporting: replay::Reporting,
}

impl<'a> Harness<'a> {
    pub(crate) fn new(
        target: &'a Target,
        config: &'a Config,
        runner: TestRunner,
        tag: &str,
        offset: u64,
    ) -> Result<Self, HarnessError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| HarnessError::Setup(format!("tokio runtime: {e}")))?;
        let client = super::target::client(target)?;
        Ok(Harness {
            target,
            config,
            rt,
            client,
            runner,
            ids: Identities::new(tag, offset, config.pool_size()),
            ledger: Ledger::new(),
            tallies: Clause::ALL.iter().map(|c| (*c, Tally::default())).collect(),
            obs: Observations::default(),
            created: 0,
            budget_used: 0,
            share_limit: config.max_created,
            properties_left: PROPERTIES,
            exhausted: false,
            cases_run: 0,
            requests: 0,
            readback: ReadBack::Unknown,
            wrong_key: target.wrong_key(tag),
            transport_failures: 0,
            lost: None,
            reporting: replay::Reporting::new(config),
        })
    }

    pub(super) fn send(
        &mut self,
        method: &'static str,
        path: &str,
        auth: Auth,
        body: Option<String>,
    ) -> Exchange {
        self.requests += 1;
        let ex = self
            .rt
            .block_on(send(&self.client, self.target, method, path, auth, body));
        match &ex.transport_error {
            Some(err) => {
                self.transport_failures += 1;
                if self.transport_failures >= MAX_TRANSPORT_FAILURES && self.lost.is_none() {
                    self.lost = Some(format!(
                        "{MAX_TRANSPORT_FAILURES} requests in a row got no answer, the last: {err}"
                    ));
                    self.exhausted = true;
                }
            }
            None => self.transport_failures = 0,
        }
        ex
    }

    /// Why the run stopped early because the target stopped answering, if it did.
    pub(crate) fn lost(&self) -> Option<&str> {
        self.lost.as_deref()
    }

    pub(super) fn post_batch(&mut self, items: &[GenItem]) -> Exchange {
        let leads: Vec<Value> = items.iter().map(|g| g.value.clone()).collect();
        let body = json!({ "leads": leads }).to_string();
        self.obs.largest_sent = self.obs.largest_sent.max(items.len());
        self.send("POST", BULK_PATH, Auth::Token, Some(body))
    }

    /// Reserves room for `n` possible creations; false once the current
    /// property's share of `--max-created` is used up.
    pub(super) fn reserve(&mut self, n: usize) -> bool {
        if self.budget_used + n > self.share_limit {
            if !self.exhausted {
                self.exhausted = true;
                self.obs.budget = Some(format!(
                    "--max-created {} reached (each property gets its share): cases were skipped",
                    self.config.max_created
                ));
            }
            return false;
        }
        self.budget_used += n;
        true
    }

    pub(super) fn refund(&mut self, n: usize) {
        self.budget_used = self.budget_used.saturating_sub(n);
    }

    pub(super) fn creatable(items: &[GenItem]) -> usize {
        items
            .iter()
            .filter(|g| matches!(g.category, Category::Valid | Category::Maybe))
            .count()
    }

    /// Sends an empty batch first: proves the target answers (else an error) and
    /// records the empty-batch status.
    pub(crate) fn probe(&mut self) -> Result<(), HarnessError> {
        let ex = self.send(
            "POST",
            BULK_PATH,
            Auth::Token,
            Some(json!({"leads": []}).to_string()),
        );
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
        Ok(())
    }
}
