//! The checker: sends generated batches, evaluates every clause of CONTRACT.md on
//! the answers, and keeps the run's ledger of identities sent and created.
//!
//! Expectations come from the sandbox's model ([`identity`], [`normalize_phone`],
//! [`NOT_AN_OBJECT`]), so the harness and the sandbox share one reading of the
//! documentation.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use super::Config;
use super::report::{Clause, ClauseResult, Failure, Report};
use super::schema::{ACTIONS, check_bulk_response};
use super::strategies::{Category, GenItem, Identities, IndependenceCase, ItemSpec, Refusal};
use super::target::{Auth, Exchange, HarnessError, Target, send};
use crate::sandbox::model::{Identity, NOT_AN_OBJECT, identity, normalize_phone};

/// Requests in a row without an answer after which the target counts as gone.
const MAX_TRANSPORT_FAILURES: u32 = 5;

/// How many properties a run has (mixed batches, independence, refusals).
const PROPERTIES: usize = 3;

/// Path of the bulk-create operation, relative to the base URL.
pub const BULK_PATH: &str = "api/leads/bulk-create/";

/// The run's memory of what it sent and what the target said it created. The
/// ledger, not the proptest case, decides whether an identity is new: shrinking
/// re-sends batches.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    sent: HashSet<Identity>,
    created: HashMap<Identity, i64>,
    ids: HashMap<i64, Identity>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Ledger::default()
    }

    /// True when an item with this identity was sent earlier in the run.
    pub fn was_sent(&self, who: &Identity) -> bool {
        self.sent.contains(who)
    }

    /// The id under which this identity was created in this run, if it was.
    pub fn created_id(&self, who: &Identity) -> Option<i64> {
        self.created.get(who).copied()
    }

    /// The identity created under this id in this run, if any.
    pub fn created_under(&self, id: i64) -> Option<&Identity> {
        self.ids.get(&id)
    }

    /// Records that an item with this identity was sent.
    pub fn record_sent(&mut self, who: Identity) {
        self.sent.insert(who);
    }

    /// Records a `created` result (the first creation of an identity is kept).
    pub fn record_created(&mut self, who: Identity, id: i64) {
        self.created.entry(who.clone()).or_insert(id);
        self.ids.entry(id).or_insert(who);
    }

    /// How many identities were sent.
    pub fn sent_count(&self) -> usize {
        self.sent.len()
    }
}

/// One parsed result of a bulk answer.
#[derive(Clone, Debug, PartialEq)]
struct Res {
    action: Option<String>,
    id: Option<i64>,
    error: Option<String>,
}

/// What one test case checked and which clauses failed in it.
#[derive(Debug, Default)]
struct CaseOutcome {
    checked: BTreeSet<Clause>,
    failures: Vec<Failure>,
    skipped: bool,
}

impl CaseOutcome {
    fn check(&mut self, c: Clause) {
        self.checked.insert(c);
    }

    fn fail(
        &mut self,
        clause: Clause,
        detail: String,
        batch: &[GenItem],
        exchanges: Vec<Exchange>,
    ) {
        self.checked.insert(clause);
        // One failure per clause and case is enough evidence.
        if self.failures.iter().any(|f| f.clause == clause) {
            return;
        }
        self.failures.push(Failure {
            clause,
            detail,
            batch: batch
                .iter()
                .map(|g| (format!("{} ({})", g.category, g.kind), g.value.clone()))
                .collect(),
            exchanges,
        });
    }

    fn fails(&self, c: Clause) -> bool {
        self.failures.iter().any(|f| f.clause == c)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReadBack {
    Unknown,
    Available,
    Unavailable,
}

#[derive(Debug, Default)]
struct Tally {
    cases: u32,
    failed_cases: u32,
    failure: Option<Failure>,
}

#[derive(Debug, Default)]
struct Observations {
    empty_batch: Option<String>,
    success_statuses: BTreeMap<u16, u32>,
    wordings: BTreeMap<String, BTreeSet<String>>,
    non_object_other_wording: u32,
    folded: (u32, u32),
    largest_accepted: usize,
    largest_sent: usize,
    refusals: BTreeMap<String, BTreeSet<String>>,
    maybe: BTreeMap<&'static str, [u32; 3]>,
    readback: Vec<String>,
    budget: Option<String>,
    skipped: u32,
}

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
        })
    }

    fn send(
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

    fn post_batch(&mut self, items: &[GenItem]) -> Exchange {
        let leads: Vec<Value> = items.iter().map(|g| g.value.clone()).collect();
        let body = json!({ "leads": leads }).to_string();
        self.obs.largest_sent = self.obs.largest_sent.max(items.len());
        self.send("POST", BULK_PATH, Auth::Token, Some(body))
    }

    /// Reserves room for `n` possible creations; false once the current
    /// property's share of `--max-created` is used up.
    fn reserve(&mut self, n: usize) -> bool {
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

    fn refund(&mut self, n: usize) {
        self.budget_used = self.budget_used.saturating_sub(n);
    }

    fn creatable(items: &[GenItem]) -> usize {
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

    /// Runs `exec` on `cases` generated values, shrinking each new failure.
    fn property<S: Strategy>(
        &mut self,
        strategy: &S,
        exec: impl Fn(&mut Self, &S::Value) -> CaseOutcome,
    ) {
        // Each property gets an equal share of what is left of the cap.
        let left = self.properties_left.max(1);
        self.properties_left = left - 1;
        let room = self.config.max_created.saturating_sub(self.budget_used);
        self.share_limit = self.budget_used + room / left;
        self.exhausted = self.lost.is_some();
        for _ in 0..self.config.cases {
            if self.exhausted {
                self.obs.skipped += 1;
                continue;
            }
            let Ok(mut tree) = strategy.new_tree(&mut self.runner) else {
                continue;
            };
            let outcome = exec(self, &tree.current());
            if outcome.skipped {
                self.obs.skipped += 1;
                continue;
            }
            self.cases_run += 1;
            for c in &outcome.checked {
                let t = self.tallies.get_mut(c).expect("every clause has a tally");
                t.cases += 1;
                if outcome.fails(*c) {
                    t.failed_cases += 1;
                }
            }
            let mut new: Vec<Clause> = Vec::new();
            for f in outcome.failures {
                let t = self.tallies.get_mut(&f.clause).expect("tally");
                if t.failure.is_none() {
                    new.push(f.clause);
                    t.failure = Some(f);
                }
            }
            let Some(&goal) = new.first() else { continue };
            // Shrink towards a minimal batch that still breaks `goal`.
            let mut steps = 0;
            if tree.simplify() {
                while steps < self.config.max_shrink_steps && !self.exhausted {
                    steps += 1;
                    let o = exec(self, &tree.current());
                    match o.failures.into_iter().find(|f| f.clause == goal) {
                        Some(f) => {
                            self.tallies.get_mut(&goal).expect("tally").failure = Some(f);
                            if !tree.simplify() {
                                break;
                            }
                        }
                        None => {
                            if !tree.complicate() {
                                break;
                            }
                        }
                    }
                }
            }
        }
    }

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

    /// Property 2: the same valid items alone and with invalid ones interleaved
    /// (B4, plus T1-T3, B1-B3, S1, S2 on both answers).
    pub(crate) fn run_independence(&mut self, strategy: &impl Strategy<Value = IndependenceCase>) {
        self.property(strategy, |h, case| {
            let mut out = CaseOutcome::default();
            let alone = h.ids.render(&case.valid);
            let (specs, positions) = case.interleaved();
            let mixed = h.ids.render(&specs);
            let (na, nm) = (Self::creatable(&alone), Self::creatable(&mixed));
            if !h.reserve(na + nm) {
                out.skipped = true;
                return out;
            }
            let ex_a = h.post_batch(&alone);
            let res_a = h.check_bulk(&alone, &ex_a, &mut out, false, &[], na);
            let ex_m = h.post_batch(&mixed);
            let res_m = h.check_bulk(&mixed, &ex_m, &mut out, false, &[], nm);
            let Some(res_a) = res_a else { return out };
            out.check(Clause::B4);
            let evidence = vec![ex_a.clone(), ex_m.clone()];
            let Some(res_m) = res_m else {
                out.fail(
                    Clause::B4,
                    format!(
                        "the valid items alone were answered {} with per-item results, but \
                         with invalid items interleaved the batch got {} without usable results",
                        ex_a.status.unwrap_or(0),
                        status_text(&ex_m)
                    ),
                    &mixed,
                    evidence,
                );
                return out;
            };
            for (k, &pos) in positions.iter().enumerate() {
                let (a, m) = (&res_a[k], &res_m[pos]);
                if a.action != m.action {
                    out.fail(
                        Clause::B4,
                        format!(
                            "valid item {k} was {} alone but {} as item {pos} among invalid items",
                            a.action.as_deref().unwrap_or("?"),
                            m.action.as_deref().unwrap_or("?")
                        ),
                        &mixed,
                        evidence.clone(),
                    );
                    return out;
                }
            }
            for k in 0..positions.len() {
                for l in 0..k {
                    let same_a = res_a[k].id.is_some() && res_a[k].id == res_a[l].id;
                    let same_m =
                        res_m[positions[k]].id.is_some() && res_m[positions[k]].id == res_m[positions[l]].id;
                    if same_a != same_m {
                        out.fail(
                            Clause::B4,
                            format!(
                                "valid items {l} and {k} {} the same id alone but {} among invalid items",
                                if same_a { "shared" } else { "did not share" },
                                if same_m { "share one" } else { "do not" }
                            ),
                            &mixed,
                            evidence.clone(),
                        );
                        return out;
                    }
                }
            }
            out
        });
    }

    /// Property 3: requests refused as a whole (A1, A2), then the same leads sent
    /// properly (S3, plus the batch clauses).
    pub(crate) fn run_refusals(
        &mut self,
        strategy: &impl Strategy<Value = (Vec<ItemSpec>, Vec<Refusal>)>,
    ) {
        self.property(strategy, |h, (specs, refusals)| {
            let mut out = CaseOutcome::default();
            let items = h.ids.render(specs);
            let n = items.len();
            // Both the refused requests (if wrongly accepted) and the retry may create.
            if !h.reserve(2 * n) {
                out.skipped = true;
                return out;
            }
            let leads: Vec<Value> = items.iter().map(|g| g.value.clone()).collect();
            let good = json!({ "leads": leads }).to_string();
            let mut refused_all = true;
            let mut evidence = Vec::new();
            for r in refusals {
                let (auth, body) = match r {
                    Refusal::MissingToken => (Auth::Missing, good.clone()),
                    Refusal::WrongToken => (
                        Auth::Literal(format!("Token {}", h.wrong_key)),
                        good.clone(),
                    ),
                    Refusal::WrongBareToken => (Auth::Literal(h.wrong_key.clone()), good.clone()),
                    Refusal::NotJson => (Auth::Token, cut_in_half(&good)),
                    Refusal::EmptyBody => (Auth::Token, String::new()),
                    Refusal::BareArray => (Auth::Token, Value::Array(leads.clone()).to_string()),
                    Refusal::NoLeadsKey => (Auth::Token, json!({ "lead": leads }).to_string()),
                    Refusal::LeadsObject => {
                        let obj: serde_json::Map<String, Value> = leads
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (i.to_string(), v.clone()))
                            .collect();
                        (Auth::Token, json!({ "leads": obj }).to_string())
                    }
                    Refusal::LeadsString => (Auth::Token, json!({ "leads": good }).to_string()),
                    Refusal::LeadsNull => (Auth::Token, json!({ "leads": null }).to_string()),
                };
                let ex = h.send("POST", BULK_PATH, auth, Some(body));
                for g in &items {
                    if let Some(who) = identity(&g.value) {
                        h.ledger.record_sent(who);
                    }
                }
                let status = ex.status;
                h.obs
                    .refusals
                    .entry(format!("{r:?}"))
                    .or_default()
                    .insert(status_text(&ex));
                if r.is_auth() {
                    if !matches!(status, Some(401 | 403)) {
                        out.fail(
                            Clause::A1,
                            format!("{r:?}: answered {} instead of 401 or 403", status_text(&ex)),
                            &items,
                            vec![ex.clone()],
                        );
                    } else {
                        out.check(Clause::A1);
                    }
                } else if status != Some(400) || ex.response_value().is_none() {
                    out.fail(
                        Clause::A2,
                        format!(
                            "{r:?}: answered {} instead of 400 with a JSON body",
                            status_text(&ex)
                        ),
                        &items,
                        vec![ex.clone()],
                    );
                } else {
                    out.check(Clause::A2);
                }
                if !matches!(status, Some(400 | 401 | 403)) {
                    refused_all = false;
                }
                evidence.push(ex);
            }
            if !refused_all {
                // Something was accepted: what it stored is legitimate; S3 does not apply.
                return out;
            }
            let ex = h.post_batch(&items);
            let res = h.check_bulk(&items, &ex, &mut out, false, &evidence, n);
            if let Some(res) = res {
                out.check(Clause::S3);
                let mut seen = HashSet::new();
                for (i, (g, r)) in items.iter().zip(&res).enumerate() {
                    let Some(who) = identity(&g.value) else {
                        continue;
                    };
                    if g.category == Category::Valid
                        && seen.insert(who)
                        && r.action.as_deref() != Some("created")
                    {
                        let mut all = evidence.clone();
                        all.push(ex.clone());
                        out.fail(
                            Clause::S3,
                            format!(
                                "item {i} was refused as a whole before, yet sending it properly \
                                 now gives {} instead of created",
                                r.action.as_deref().unwrap_or("?")
                            ),
                            &items,
                            all,
                        );
                        break;
                    }
                }
            }
            out
        });
    }

    /// Evaluates T1-T3, B1-B3, S1 and S2 on one authorised, well-formed bulk
    /// answer and updates the ledger. Returns the parsed results when B1 held.
    fn check_bulk(
        &mut self,
        items: &[GenItem],
        ex: &Exchange,
        out: &mut CaseOutcome,
        readback: bool,
        before: &[Exchange],
        reserved: usize,
    ) -> Option<Vec<Res>> {
        let idents: Vec<Option<Identity>> = items.iter().map(|g| identity(&g.value)).collect();
        let evidence = |ex: &Exchange| {
            let mut v = before.to_vec();
            v.push(ex.clone());
            v
        };
        let mark_all_sent = |ledger: &mut Ledger| {
            for who in idents.iter().flatten() {
                ledger.record_sent(who.clone());
            }
        };
        out.check(Clause::T1);
        if !matches!(ex.status, Some(200 | 201)) {
            out.fail(
                Clause::T1,
                format!("answered {} instead of 200 or 201", status_text(ex)),
                items,
                evidence(ex),
            );
            mark_all_sent(&mut self.ledger);
            return None;
        }
        *self
            .obs
            .success_statuses
            .entry(ex.status.unwrap_or(0))
            .or_default() += 1;
        out.check(Clause::T2);
        if !is_json_content_type(ex.content_type.as_deref()) {
            out.fail(
                Clause::T2,
                format!(
                    "Content-Type is {} instead of application/json",
                    ex.content_type.as_deref().unwrap_or("missing")
                ),
                items,
                evidence(ex),
            );
        }
        out.check(Clause::T3);
        let Some(body) = ex.response_value() else {
            out.fail(
                Clause::T3,
                format!("the body is not JSON: {}", short(&ex.response, 80)),
                items,
                evidence(ex),
            );
            mark_all_sent(&mut self.ledger);
            return None;
        };
        if let Err(why) = check_bulk_response(&body) {
            out.fail(Clause::T3, why, items, evidence(ex));
        }
        let Some(results) = body.get("results").and_then(Value::as_array) else {
            mark_all_sent(&mut self.ledger);
            return None;
        };
        out.check(Clause::B1);
        if results.len() != items.len() {
            out.fail(
                Clause::B1,
                format!("{} results for {} leads", results.len(), items.len()),
                items,
                evidence(ex),
            );
            mark_all_sent(&mut self.ledger);
            return None;
        }
        self.obs.largest_accepted = self.obs.largest_accepted.max(items.len());
        let res: Vec<Res> = results
            .iter()
            .map(|r| Res {
                action: r.get("action").and_then(Value::as_str).map(str::to_owned),
                id: r.get("id").and_then(Value::as_i64),
                error: r.get("error").and_then(Value::as_str).map(str::to_owned),
            })
            .collect();

        // B2: per-item shape.
        out.check(Clause::B2);
        for (i, (r, raw)) in res.iter().zip(results).enumerate() {
            if let Some(why) = shape_problem(r, raw) {
                out.fail(
                    Clause::B2,
                    format!("result {i}: {why}"),
                    items,
                    evidence(ex),
                );
                break;
            }
        }

        // B3 (expected outcomes), S1, S2, in order, with the ledger evolving.
        out.check(Clause::B3);
        let mut created_here = 0usize;
        for (i, (g, r)) in items.iter().zip(&res).enumerate() {
            let action = r.action.as_deref();
            let who = idents[i].as_ref();
            match g.category {
                Category::NonObject | Category::Invalid => {
                    if action != Some("error") {
                        out.fail(
                            Clause::B3,
                            format!(
                                "item {i} is certainly invalid ({}) but result {i} is {}",
                                g.kind,
                                describe(r)
                            ),
                            items,
                            evidence(ex),
                        );
                    } else if let Some(msg) = &r.error {
                        if g.category == Category::NonObject && msg != NOT_AN_OBJECT {
                            self.obs.non_object_other_wording += 1;
                        }
                        self.note_wording(g, msg);
                    }
                }
                Category::Valid => {
                    if let Some(who) = who
                        && !self.ledger.was_sent(who)
                        && action != Some("created")
                    {
                        out.fail(
                            Clause::B3,
                            format!(
                                "item {i} is certainly valid and its identity was never sent \
                                 before, but result {i} is {}",
                                describe(r)
                            ),
                            items,
                            evidence(ex),
                        );
                    }
                }
                Category::Maybe => {
                    let slot = match action {
                        Some("created") => 0,
                        Some("reengaged") => 1,
                        _ => 2,
                    };
                    self.obs.maybe.entry(g.kind).or_default()[slot] += 1;
                    if let Some(msg) = &r.error {
                        self.note_wording(g, msg);
                    }
                }
            }
            if let Some(first) = who.and_then(|w| self.ledger.created_id(w)) {
                out.check(Clause::S2);
                if action == Some("created") {
                    out.fail(
                        Clause::S2,
                        format!(
                            "item {i}'s identity was created before (id {first}) but is \
                                 created again (id {})",
                            r.id.map_or("none".into(), |v| v.to_string())
                        ),
                        items,
                        evidence(ex),
                    );
                } else if action == Some("reengaged") && r.id != Some(first) {
                    out.fail(
                        Clause::S2,
                        format!(
                            "item {i} is reengaged with id {} but its identity's lead is {first}",
                            r.id.map_or("none".into(), |v| v.to_string())
                        ),
                        items,
                        evidence(ex),
                    );
                }
            }
            if action == Some("created") {
                created_here += 1;
                if let Some(id) = r.id {
                    out.check(Clause::S1);
                    if self.ledger.created_under(id).is_some() {
                        out.fail(
                            Clause::S1,
                            format!("result {i} is created with id {id}, already given to an earlier created lead"),
                            items,
                            evidence(ex),
                        );
                    }
                    if let Some(who) = who {
                        self.ledger.record_created(who.clone(), id);
                    } else {
                        self.ledger.ids.entry(id).or_insert_with(|| Identity {
                            phone: String::new(),
                            email: None,
                        });
                    }
                }
            }
            if let Some(who) = who {
                self.ledger.record_sent(who.clone());
            }
        }
        self.created += created_here;
        self.refund(reserved.saturating_sub(created_here));

        if readback && self.readback != ReadBack::Unavailable {
            self.read_back(items, &res, ex, out);
        }
        Some(res)
    }

    /// B3 by read-back: the lead under result i's id has item i's phone and email.
    fn read_back(&mut self, items: &[GenItem], res: &[Res], ex: &Exchange, out: &mut CaseOutcome) {
        let wanted: Vec<(usize, i64)> = res
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.action.as_deref(), Some("created" | "reengaged")))
            .filter_map(|(i, r)| r.id.map(|id| (i, id)))
            .collect();
        if wanted.is_empty() {
            return;
        }
        let paths: Vec<String> = wanted
            .iter()
            .map(|(_, id)| format!("api/leads/{id}/"))
            .collect();
        self.requests += paths.len();
        let (client, target) = (&self.client, self.target);
        let answers: Vec<Exchange> = self.rt.block_on(futures::future::join_all(
            paths
                .iter()
                .map(|p| send(client, target, "GET", p, Auth::Token, None)),
        ));
        for ((i, id), got) in wanted.into_iter().zip(answers) {
            let lead = got
                .response_value()
                .filter(|v| v.is_object() && got.status == Some(200));
            let Some(lead) = lead else {
                if self.readback == ReadBack::Available && got.status == Some(404) {
                    out.fail(
                        Clause::B3,
                        format!("result {i} names id {id}, but no lead is stored under it (404)"),
                        items,
                        vec![ex.clone(), got],
                    );
                } else if self.readback == ReadBack::Unknown {
                    self.readback = ReadBack::Unavailable;
                    self.obs.readback.push(format!(
                        "reading a lead back (GET /api/leads/{{id}}/) answered {}: B3 is checked \
                         without read-back",
                        status_text(&got)
                    ));
                    return;
                } else {
                    self.obs.readback.push(format!(
                        "GET /api/leads/{id}/ answered {}",
                        status_text(&got)
                    ));
                }
                continue;
            };
            self.readback = ReadBack::Available;
            let sent = &items[i].value;
            if let Some(why) = stored_mismatch(sent, &lead) {
                out.fail(
                    Clause::B3,
                    format!("result {i} names id {id}, but the lead stored there {why}"),
                    items,
                    vec![ex.clone(), got],
                );
            }
            if res[i].action.as_deref() == Some("created") {
                self.note_folding(sent, &lead);
            }
        }
    }

    fn note_wording(&mut self, g: &GenItem, msg: &str) {
        let set = self
            .obs
            .wordings
            .entry(format!("{} ({})", g.category, g.kind))
            .or_default();
        if set.len() < 2 {
            set.insert(short(msg, 100));
        }
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

    /// The report of the run.
    pub(crate) fn finish(self, seed: u64) -> Report {
        let mut observations = Vec::new();
        let o = &self.obs;
        observations.push(format!(
            "empty batch ({{\"leads\": []}}): {}",
            o.empty_batch.as_deref().unwrap_or("not sent")
        ));
        let statuses: Vec<String> = o
            .success_statuses
            .iter()
            .map(|(s, n)| format!("{s} x{n}"))
            .collect();
        observations.push(format!("success statuses: {}", join_or(&statuses, "none")));
        observations.push(format!(
            "largest batch accepted: {} items (largest sent: {})",
            o.largest_accepted, o.largest_sent
        ));
        observations.push(if o.non_object_other_wording == 0 {
            format!("non-object items: the documented wording {NOT_AN_OBJECT:?} (or no such item)")
        } else {
            format!(
                "non-object items: {} error(s) worded other than {NOT_AN_OBJECT:?}",
                o.non_object_other_wording
            )
        });
        for (kind, msgs) in &o.wordings {
            let list: Vec<String> = msgs.iter().map(|m| format!("{m:?}")).collect();
            observations.push(format!("error wording, {kind}: {}", list.join(" | ")));
        }
        observations.push(match o.folded {
            (0, 0) => "unknown top-level keys: none read back".to_owned(),
            (y, 0) => format!("unknown top-level keys folded into metadata: yes ({y} read back)"),
            (0, n) => format!("unknown top-level keys folded into metadata: no ({n} read back)"),
            (y, n) => format!("unknown top-level keys folded into metadata: {y} yes, {n} no"),
        });
        for (kind, [c, r, e]) in &o.maybe {
            observations.push(format!(
                "maybe invalid, {kind}: created {c}, reengaged {r}, error {e}"
            ));
        }
        for (kind, statuses) in &o.refusals {
            let list: Vec<&str> = statuses.iter().map(String::as_str).collect();
            observations.push(format!("refused request, {kind}: {}", list.join(", ")));
        }
        observations.push(match self.readback {
            ReadBack::Available => {
                "read-back by GET /api/leads/{id}/: available (used for B3)".to_owned()
            }
            ReadBack::Unknown => "read-back by GET /api/leads/{id}/: not tried".to_owned(),
            ReadBack::Unavailable => "read-back by GET /api/leads/{id}/: unavailable".to_owned(),
        });
        observations.extend(o.readback.iter().take(5).cloned());
        if let Some(b) = &o.budget {
            observations.push(format!("{b} ({} cases skipped)", o.skipped));
        }
        observations.push(format!(
            "identities sent: {} (e-mails tagged {:?})",
            self.ledger.sent_count(),
            self.ids.tag()
        ));
        let clauses = self
            .tallies
            .into_iter()
            .map(|(clause, t)| ClauseResult {
                clause,
                cases: t.cases,
                failed_cases: t.failed_cases,
                failure: t.failure,
            })
            .collect();
        Report {
            base_url: self.target.base_url().to_owned(),
            seed,
            clauses,
            observations: observations.iter().map(|o| self.target.redact(o)).collect(),
            created: self.created,
            requests: self.requests,
            cases_run: self.cases_run,
        }
    }
}

/// What is wrong with one result's shape (B2), if anything.
fn shape_problem(r: &Res, raw: &Value) -> Option<String> {
    let id = raw.get("id");
    let id_null = matches!(id, None | Some(Value::Null));
    match r.action.as_deref() {
        Some("error") => {
            if !id_null {
                return Some(format!(
                    "action error with id {}",
                    id.unwrap_or(&Value::Null)
                ));
            }
            match &r.error {
                Some(e) if !e.trim().is_empty() => None,
                _ => Some("action error without an error message".to_owned()),
            }
        }
        Some(a @ ("created" | "reengaged")) => {
            if r.id.is_none() {
                return Some(format!(
                    "action {a} with id {} instead of an integer",
                    id.unwrap_or(&Value::Null)
                ));
            }
            match raw.get("error") {
                None | Some(Value::Null) => None,
                Some(e) => Some(format!("action {a} with error {e}")),
            }
        }
        _ => Some(format!(
            "action {} is not one of {ACTIONS:?}",
            raw.get("action").unwrap_or(&Value::Null)
        )),
    }
}

/// How the stored lead differs from the item sent, if it does (phone compared
/// after normalisation, e-mail ignoring ASCII case, blank = null).
fn stored_mismatch(sent: &Value, lead: &Value) -> Option<String> {
    let sent_phone = sent
        .get("phone_number")
        .and_then(Value::as_str)
        .unwrap_or("");
    match lead.get("phone_number") {
        Some(Value::String(p)) if same_phone(sent_phone, p) => {}
        Some(other) => {
            return Some(format!(
                "has phone_number {other}, item sent {sent_phone:?}"
            ));
        }
        None => {}
    }
    let norm = |v: Option<&Value>| -> Option<String> {
        v.and_then(Value::as_str)
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
    };
    let (a, b) = (norm(sent.get("email")), norm(lead.get("email")));
    if lead.get("email").is_some() && a != b {
        return Some(format!(
            "has email {}, item sent {}",
            lead.get("email").unwrap_or(&Value::Null),
            sent.get("email").unwrap_or(&Value::Null)
        ));
    }
    None
}

fn same_phone(sent: &str, stored: &str) -> bool {
    match (normalize_phone(sent), normalize_phone(stored)) {
        (Ok(a), Ok(b)) => a == b,
        _ => {
            let digits = |s: &str| -> String {
                let d: String = s.chars().filter(char::is_ascii_digit).collect();
                match d.strip_prefix('1') {
                    Some(rest) if d.len() == 11 => rest.to_owned(),
                    _ => d,
                }
            };
            digits(sent) == digits(stored)
        }
    }
}

/// The first half of `s`, cut on a character boundary (never valid JSON for a
/// non-empty object).
fn cut_in_half(s: &str) -> String {
    let mut at = s.len() / 2;
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    s[..at].to_owned()
}

fn is_json_content_type(ct: Option<&str>) -> bool {
    ct.and_then(|c| c.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

fn describe(r: &Res) -> String {
    match (r.action.as_deref(), r.id, &r.error) {
        (Some(a), Some(id), _) => format!("{a} (id {id})"),
        (Some(a), None, Some(e)) => format!("{a} ({:?})", short(e, 60)),
        (Some(a), None, None) => a.to_owned(),
        (None, _, _) => "without an action".to_owned(),
    }
}

fn status_text(ex: &Exchange) -> String {
    match (ex.status, &ex.transport_error) {
        (_, Some(e)) => format!("no answer ({})", short(e, 80)),
        (Some(s), None) => s.to_string(),
        (None, None) => "no status".to_owned(),
    }
}

fn short(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}...")
    }
}

fn join_or(items: &[String], empty: &str) -> String {
    if items.is_empty() {
        empty.to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b2_shapes() {
        let res = |v: Value| Res {
            action: v.get("action").and_then(Value::as_str).map(str::to_owned),
            id: v.get("id").and_then(Value::as_i64),
            error: v.get("error").and_then(Value::as_str).map(str::to_owned),
        };
        for ok in [
            json!({"id": 1, "action": "created"}),
            json!({"id": 1, "action": "reengaged", "error": null}),
            json!({"id": null, "action": "error", "error": "x"}),
            json!({"action": "error", "error": "x"}),
        ] {
            assert_eq!(shape_problem(&res(ok.clone()), &ok), None, "{ok}");
        }
        for bad in [
            json!({"id": 1, "action": "error", "error": "x"}),
            json!({"id": null, "action": "error", "error": ""}),
            json!({"id": null, "action": "error"}),
            json!({"id": null, "action": "created"}),
            json!({"id": 2, "action": "created", "error": "x"}),
            json!({"id": 2, "action": "made"}),
        ] {
            assert!(shape_problem(&res(bad.clone()), &bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn ledger_keeps_the_first_creation() {
        let who = |p: &str| Identity {
            phone: p.to_owned(),
            email: Some("a@example.com".to_owned()),
        };
        let mut l = Ledger::new();
        assert!(!l.was_sent(&who("+12125550100")));
        l.record_sent(who("+12125550100"));
        l.record_created(who("+12125550100"), 7);
        l.record_created(who("+12125550100"), 8);
        assert!(l.was_sent(&who("+12125550100")));
        assert_eq!(l.created_id(&who("+12125550100")), Some(7));
        assert_eq!(l.created_under(7), Some(&who("+12125550100")));
        assert_eq!(l.created_id(&who("+12125550101")), None);
        assert_eq!(l.sent_count(), 1);
        assert!(cut_in_half("{\"a\":\"ééé\"}").len() <= 8);
    }

    #[test]
    fn stored_lead_comparison() {
        let sent = json!({"phone_number": "(212) 555-0123", "email": "a@example.com"});
        assert_eq!(
            stored_mismatch(
                &sent,
                &json!({"phone_number": "+12125550123", "email": "A@example.com"})
            ),
            None
        );
        assert!(
            stored_mismatch(
                &sent,
                &json!({"phone_number": "+12125550124", "email": "a@example.com"})
            )
            .is_some()
        );
        assert!(
            stored_mismatch(
                &sent,
                &json!({"phone_number": "+12125550123", "email": "b@example.com"})
            )
            .is_some()
        );
        assert!(is_json_content_type(Some(
            "application/json; charset=utf-8"
        )));
        assert!(!is_json_content_type(Some("text/plain")));
    }
}
