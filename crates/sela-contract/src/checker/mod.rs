//! The checker: sends generated batches, evaluates every clause of CONTRACT.md on
//! the answers, and keeps the run's ledger of identities sent and created. One
//! module per property, named after it:
//!
//! - `sizes`: the size limit probed up to `max_size`, and batches of many
//!   sizes up to it (B1, B3; S3 for an oversize refusal);
//! - `mixed`: mixed batches (T1-T3, B1-B3, S1-S3), then the created
//!   identities re-sent in other US formats (S2);
//! - `independence`: valid items alone and among invalid ones (B4);
//! - `refusals`: requests refused as a whole or items answered `error`, then
//!   the same leads sent properly (A1 with near-miss tokens, A2, S3);
//! - `concurrency`: several requests in flight sharing identities (S4);
//! - `bulk`: the clauses evaluated on every bulk answer (T1-T3, B1-B3, S1-S3);
//! - `readback`: B3 by reading every stored field back; `count`: S2's list
//!   count growth;
//! - `case`: one test case's outcome and the property runner that shrinks
//!   every failing clause;
//! - [`ledger`]: the run's memory of identities sent, refused and created;
//! - `observations`: what is recorded but not asserted, and the final report;
//! - `replay`: stored failures replayed first, the time budget, progress.
//!
//! Expectations come from the lead rules the sandbox also uses
//! ([`identity`](sela_leads::rules::identity),
//! [`normalize_phone`](sela_leads::rules::normalize_phone),
//! [`NOT_AN_OBJECT`](sela_leads::rules::NOT_AN_OBJECT)), so the harness and the
//! sandbox share one reading of the documentation.

mod bulk;
mod case;
mod concurrency;
mod count;
mod independence;
pub mod ledger;
mod mixed;
mod observations;
mod operations;
mod readback;
mod refusals;
mod replay;
mod settle;
mod sizes;
mod stored;

use std::collections::{BTreeMap, HashSet};

use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use super::Config;
use super::report::Clause;
use super::strategies::{Category, GenItem, Identities};
use super::target::{Auth, Exchange, HarnessError, Target};
use super::throttle::send_patiently;
use case::{CaseOutcome, Tally};
use observations::{Observations, ReadBack, short, status_text};
use sela_leads::rules::Identity;

pub use ledger::Ledger;

/// Requests in a row without an answer (no status line) after which the
/// target counts as gone.
const MAX_TRANSPORT_FAILURES: u32 = 5;

/// How many properties share the `--max-created` budget (sizes, mixed
/// batches, independence, refusals, concurrency, operations, sequences).
const PROPERTIES: usize = 7;

/// The parts of the run that share the time budget: the size probe, the
/// formats re-send and every property.
const SLICES: u32 = PROPERTIES as u32 + 2;

/// Path of the bulk-create operation, relative to the base URL.
pub const BULK_PATH: &str = "api/leads/bulk-create/";

/// Whether S2's list count can be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Listing {
    /// Not tried yet.
    Unknown,
    /// Turned off (`--shared-account`).
    Off,
    /// `GET /api/leads/` did not answer a `count`.
    Unavailable,
    /// Answered a `count` (the last one seen, when it is current).
    Available(Option<u64>),
}

/// One request to send, for [`Harness::send_all`].
type Request = (&'static str, String, Auth, Option<String>);

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
    throttled: u32,
    /// Time spent waiting out `429`s, in all.
    throttle_wait: std::time::Duration,
    readback: ReadBack,
    /// Batches that created leads while read-back was still unknown.
    readback_tries: u32,
    /// B3 failures seen before read-back was known to work (404s on ids that
    /// may just mean "no read-back").
    readback_pending: Vec<readback::Pending>,
    /// Leads read back successfully: id and the item sent.
    read_ok: Vec<(i64, Value)>,
    listing: Listing,
    /// Largest batch that may not be refused as a whole: the largest accepted
    /// when the probe saw a size refusal, else `max_size`.
    size_limit: usize,
    /// Smallest batch it refused as a whole, if any.
    size_refused: Option<usize>,
    /// True while the requests being checked were in flight together (S4).
    concurrent: bool,
    /// Identities shared by requests in flight together: their expected
    /// outcomes are checked across the group, not per request.
    shared: HashSet<Identity>,
    wrong_key: String,
    transport_failures: u32,
    lost: Option<String>,
    fatal: Option<HarnessError>,
    reporting: replay::Reporting,
    /// Reads that waited for the settle window.
    waits: settle::Waits,
    /// When the last write (any request but a GET) was answered: a read
    /// within the settle window after it may not show it yet.
    last_write: Option<std::time::Instant>,
    /// The list-count baseline was read within the settle window after a
    /// write, so it may lag: a count excess over it is no verdict.
    baseline_unsure: bool,
    /// The lead operations' state (C1-L1, A3, S2 over time).
    ops: operations::State,
    /// Reads sent ahead, together with others that follow the same write, to
    /// save round trips: the next `GET` of the same path takes its answer
    /// instead of sending it again. Any write drops them (they would be stale).
    prefetched: Vec<(String, Exchange)>,
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
            throttled: 0,
            throttle_wait: std::time::Duration::ZERO,
            readback: ReadBack::Unknown,
            readback_tries: 0,
            readback_pending: Vec::new(),
            read_ok: Vec::new(),
            listing: if config.shared_account {
                Listing::Off
            } else {
                Listing::Unknown
            },
            size_limit: config.max_batch,
            size_refused: None,
            concurrent: false,
            shared: HashSet::new(),
            wrong_key: target.wrong_key(tag),
            transport_failures: 0,
            lost: None,
            fatal: None,
            reporting: replay::Reporting::new(config),
            waits: settle::Waits::default(),
            last_write: None,
            baseline_unsure: false,
            ops: operations::State::default(),
            prefetched: Vec::new(),
        })
    }

    /// Sends one request, waiting out throttling.
    pub(super) fn send(
        &mut self,
        method: &'static str,
        path: &str,
        auth: Auth,
        body: Option<String>,
    ) -> Exchange {
        self.send_all(vec![(method, path.to_owned(), auth, body)])
            .pop()
            .expect("one request, one exchange")
    }

    /// Sends the requests at the same time (all in flight together), each
    /// waiting out its own throttling; exchanges in the order given. A read
    /// answered ahead ([`Harness::prefetch`]) is not sent again.
    pub(super) fn send_all(&mut self, requests: Vec<Request>) -> Vec<Exchange> {
        let mut out: Vec<Option<Exchange>> = requests
            .iter()
            .map(|(method, path, auth, _)| self.take_prefetched(method, path, auth))
            .collect();
        let (positions, to_send): (Vec<usize>, Vec<Request>) = requests
            .into_iter()
            .enumerate()
            .filter(|(i, _)| out[*i].is_none())
            .unzip();
        if to_send.iter().any(|(method, ..)| *method != "GET") {
            self.prefetched.clear();
        }
        for (i, exchange) in positions.into_iter().zip(self.send_now(to_send)) {
            out[i] = Some(exchange);
        }
        out.into_iter()
            .map(|e| e.expect("every request answered or prefetched"))
            .collect()
    }

    /// Sends these `GET`s together now and keeps their answers for the next
    /// reads of the same paths (the count and read-backs after a batch).
    pub(super) fn prefetch(&mut self, paths: Vec<String>) {
        let requests = paths
            .iter()
            .map(|path| ("GET", path.clone(), Auth::Token, None))
            .collect();
        let answers = self.send_now(requests);
        self.prefetched.extend(paths.into_iter().zip(answers));
    }

    /// The prefetched answer of this read, if there is one (taken).
    fn take_prefetched(&mut self, method: &str, path: &str, auth: &Auth) -> Option<Exchange> {
        if method != "GET" || *auth != Auth::Token {
            return None;
        }
        let at = self.prefetched.iter().position(|(p, _)| p == path)?;
        Some(self.prefetched.swap_remove(at).1)
    }

    /// Sends the requests at the same time, each waiting out its own
    /// throttling; exchanges in the order given.
    fn send_now(&mut self, requests: Vec<Request>) -> Vec<Exchange> {
        if requests.is_empty() {
            return Vec::new();
        }
        self.requests += requests.len();
        let (client, target) = (&self.client, self.target);
        let patience = self.config.throttle_patience;
        let answers = self
            .rt
            .block_on(futures::future::join_all(requests.into_iter().map(
                |(method, path, auth, body)| async move {
                    send_patiently(client, target, method, &path, auth, body, patience).await
                },
            )));
        let mut out = Vec::with_capacity(answers.len());
        for p in answers {
            self.throttled += p.throttled;
            self.throttle_wait += p.waits.iter().sum::<std::time::Duration>();
            self.requests += p.throttled as usize;
            if let Some(why) = p.gave_up {
                self.exhausted = true;
                self.fatal.get_or_insert(why);
            }
            if p.exchange.method != "GET" {
                self.last_write = Some(std::time::Instant::now());
            }
            match &p.exchange.transport_error {
                // The status line came and the body broke (cut off, bad
                // gzip): the target answers, brokenly; that answer is judged
                // like any other and is no sign that the target is gone.
                Some(_) if p.exchange.status.is_some() => {}
                Some(err) => {
                    self.transport_failures += 1;
                    if self.transport_failures >= MAX_TRANSPORT_FAILURES && self.lost.is_none() {
                        self.lost = Some(format!(
                            "{MAX_TRANSPORT_FAILURES} requests in a row got no answer, the last: \
                             {err}"
                        ));
                        self.exhausted = true;
                    }
                }
                None => self.transport_failures = 0,
            }
            out.push(p.exchange);
        }
        out
    }

    /// Why the run cannot report: the target stopped answering or never
    /// stopped throttling.
    pub(crate) fn fatal(&mut self) -> Option<HarnessError> {
        if let Some(e) = self.fatal.take() {
            return Some(e);
        }
        self.lost.as_ref().map(|why| {
            HarnessError::Connection(format!(
                "{}: the target stopped answering: {why}",
                self.target.base_url()
            ))
        })
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
        self.send("POST", BULK_PATH, Auth::Token, Some(Self::bulk_body(items)))
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

    /// Whether `n` more creations fit the current share (marks nothing).
    pub(super) fn fits(&self, n: usize) -> bool {
        self.budget_used + n <= self.share_limit
    }

    pub(super) fn refund(&mut self, n: usize) {
        self.budget_used = self.budget_used.saturating_sub(n);
    }

    /// One plain case: reserves room for the batch's possible creations (else
    /// the case is skipped), posts it and checks the answer (T1-T3, B1-B3, S1-S3).
    fn post_and_check(&mut self, items: &[GenItem]) -> CaseOutcome {
        let mut out = CaseOutcome::default();
        let n = Self::creatable(items);
        if !self.reserve(n) {
            out.skipped = true;
            return out;
        }
        let ex = self.post_batch(items);
        self.check_bulk(items, &ex, &mut out, &[], n);
        out
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
        let ex = self.send(
            "POST",
            BULK_PATH,
            Auth::Token,
            Some(json!({"leads": []}).to_string()),
        );
        if let Some(e) = self.fatal.take() {
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
