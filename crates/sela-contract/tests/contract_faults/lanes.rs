//! Cases side by side (`--lanes`, issue 26): the properties run several
//! cases at once, and the list count is judged over each wave, from what each
//! lane's requests claim (bulk answers, S4's groups, S5's groups).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use sela_contract::Config;
use sela_sandbox::SandboxState;
use serde_json::Value;

use crate::common::{
    assert_no_leak, assert_only_or, assert_passes, clause, config, is_bulk, sandbox_answer, state,
    try_run,
};
use crate::kit::{is_list, is_single_create, stored};
use crate::server::{Req, Resp};

/// Holds each gated request of a lane (`x-sela-lane`) until one of another
/// lane is in flight with it, then lets every request through for good. The
/// safety limit of 20 s only keeps a harness whose lanes never send two at
/// once from hanging the test (the pair then never meets and the test
/// fails).
#[derive(Default)]
struct Pair {
    state: Mutex<PairState>,
    met: Condvar,
}

#[derive(Default)]
struct PairState {
    /// The lanes of the gated requests in flight, one entry per request.
    in_flight: Vec<String>,
    met: bool,
}

impl PairState {
    fn other_lane(&self, lane: &str) -> bool {
        self.in_flight.iter().any(|l| l != lane)
    }
}

impl Pair {
    /// A gated request of `lane` arrives; true when a request of another
    /// lane is in flight with it.
    fn enter(&self, lane: &str) -> bool {
        let mut s = self.state.lock().unwrap();
        if !s.met && s.other_lane(lane) {
            s.met = true;
            self.met.notify_all();
        }
        s.in_flight.push(lane.to_owned());
        if !s.met {
            s = self
                .met
                .wait_timeout_while(s, Duration::from_secs(20), |s| !s.met)
                .unwrap()
                .0;
        }
        s.other_lane(lane)
    }

    fn leave(&self, lane: &str) {
        let mut s = self.state.lock().unwrap();
        if let Some(i) = s.in_flight.iter().position(|l| l == lane) {
            s.in_flight.remove(i);
        }
    }

    fn met(&self) -> bool {
        self.state.lock().unwrap().met
    }
}

/// Which requests of a lane the [`Pair`] gate holds (given the sandbox's
/// state before the request).
type Gated = fn(&SandboxState, &Req) -> bool;

/// The sandbox behind a [`Pair`] gate on the `gated` requests of lanes;
/// `overlapping` is called with the sandbox's status for every one of them
/// that found another lane's in flight, `list` may rewrite every list
/// answer.
fn run_paired(
    config: Config,
    gated: Gated,
    overlapping: impl Fn(u16) + Send + Sync + 'static,
    list: impl Fn(&mut Value) + Send + Sync + 'static,
) -> (sela_contract::Report, Arc<Pair>) {
    let pair = Arc::new(Pair::default());
    let gate = pair.clone();
    let r = try_run(&config, state(), move |state, req: &Req| {
        if let Some(lane) = req.header("x-sela-lane").filter(|_| gated(state, req)) {
            let met = gate.enter(lane);
            let reply = sandbox_answer(state, req);
            if met {
                overlapping(reply.status);
            }
            gate.leave(lane);
            return reply.into();
        }
        let mut reply = sandbox_answer(state, req);
        if is_list(req) && reply.status == 200 {
            list(&mut reply.body);
        }
        Resp::from(reply)
    })
    .expect("the harness runs");
    assert_no_leak(&r);
    (r, pair)
}

/// A count cached by the list, bumped once more by each `gated` request
/// that creates while another lane's is in flight: one at a time, every
/// count is exact; over cases side by side it is off, and the wave's count
/// judgement must say so.
fn phantom_over_waves(config: Config, gated: Gated, creates: fn(u16) -> bool) {
    let phantom = Arc::new(AtomicU64::new(0));
    let (add, read) = (phantom.clone(), phantom);
    let (r, pair) = run_paired(
        config,
        gated,
        move |status| {
            if creates(status) {
                add.fetch_add(1, Ordering::SeqCst);
            }
        },
        move |body| {
            if let Some(n) = body.get("count").and_then(Value::as_u64) {
                body["count"] = (n + read.load(Ordering::SeqCst)).into();
            }
        },
    );
    assert!(pair.met(), "no two lanes' requests met:\n{r}");
    // The excess is judged as any count excess is: S3 when only stored
    // error items could explain it, S2 otherwise.
    let f = ["S2", "S3"]
        .into_iter()
        .find_map(|c| r.clause(clause(c)).failure.as_ref())
        .unwrap_or_else(|| panic!("neither S2 nor S3 failed:\n{r}"));
    assert!(
        f.detail.contains("cases run side by side"),
        "the count's evidence is not the wave's: {}",
        f.detail
    );
    // No case's count was off alone: the run kept to one case at a time.
    assert!(
        r.observations
            .iter()
            .any(|o| o.starts_with("lanes: ") && o.contains("one case at a time after it")),
        "{:?}",
        r.observations
    );
    // The walk of the list meets fewer leads than its count says.
    assert_only_or(
        &r,
        &[],
        &[clause("S2"), clause("S3"), clause("L1")],
        "only the count is off, and only over requests in flight together",
    );
}

// Pins: checker/waves.rs `Harness::cases` (cases drawn in waves and run side
// by side).
#[test]
fn the_bulk_cases_run_side_by_side_and_a_correct_server_passes() {
    let (r, pair) = run_paired(config(16), |_, req| is_bulk(req), |_| {}, |_| {});
    assert!(
        pair.met(),
        "no two lanes' bulk creates were ever in flight together:\n{r}"
    );
    assert_passes(&r);
    let line = r.observations.iter().find(|o| o.starts_with("lanes: "));
    assert!(
        line.is_some_and(|l| !l.contains("one case at a time")),
        "{line:?}"
    );
}

// Pins: checker/waves.rs `Harness::judge_wave` (the count judged over the
// wave, kept when no case breaks it alone).
#[test]
fn a_count_that_gains_a_phantom_when_creates_overlap_is_caught_over_the_wave() {
    phantom_over_waves(config(16), |_, req| is_bulk(req), |_| true);
}

// Pins: checker/concurrency.rs `concurrent_case` (a lane's group of bulk
// requests claims its count growth for the wave).
#[test]
fn s4_groups_in_lanes_claim_their_count_and_a_phantom_is_caught_over_the_wave() {
    // Only the concurrency property's groups: bulk requests of a group
    // (`x-sela-group`) of two leads or more (a sequence's group re-sends
    // one).
    phantom_over_waves(
        config(16),
        |_, req| {
            is_bulk(req)
                && req.header("x-sela-group").is_some()
                && req
                    .json()
                    .and_then(|b| Some(b.get("leads")?.as_array()?.len()))
                    .is_some_and(|n| n >= 2)
        },
        |_| true,
    );
}

// Pins: sequences/groups.rs `run_group` (a group in a lane claims the leads
// the order that explains it created).
#[test]
fn s5_groups_in_lanes_claim_their_count_and_a_phantom_is_caught_over_the_wave() {
    // Only single creates of a group of an identity not stored yet (the
    // groups' new identity; a walk's group re-sends a known one), and no
    // sequences (a lone lane's group would wait out the gate's safety
    // limit). 32 cases: the groups run 4, the first alone, then 3 side by
    // side; each of them runs the canonical group of three creates.
    let mut c = config(32);
    c.sequences = Some(0);
    phantom_over_waves(
        c,
        |state, req| {
            is_single_create(req)
                && req.header("x-sela-group").is_some()
                && req
                    .json()
                    .is_some_and(|item| stored(state, &item).is_none())
        },
        |status| status == 201,
    );
}

// Pins: checker/waves.rs `Harness::judge_wave` (its S1 `id reused` failure:
// one id given in two lanes of a wave); the bulk check that catches this
// fault too is off for it (pins.rs)
#[test]
fn s1_one_id_given_to_creates_in_two_lanes_is_caught() {
    let r = crate::common::run_with(8, crate::state::halved_ids);
    let f = r
        .clause(clause("S1"))
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("S1 not failed:\n{r}"));
    assert!(f.detail.contains("cases side by side"), "{}", f.detail);
    crate::common::assert_only_unchecked(
        &r,
        &[clause("S1")],
        &[clause("B4")],
        &crate::state::BY_READS.map(clause),
        "B4 when two valid items share a halved id alone but not among invalid items; \
         no lead is read back, so the lead operations are not checked",
    );
}

// Pins: sequences/groups.rs `run_group` and sequences/steps.rs `listed`
// (the list reads a lane leaves out are counted and said).
#[test]
fn the_list_reads_left_out_in_lanes_are_counted_and_said() {
    // 32 cases: the groups run 4 cases, the first alone, then 3 side by
    // side; each runs the canonical group with a list page.
    let r = crate::common::run_with(32, |state, req| sandbox_answer(state, req).into());
    assert_passes(&r);
    let line = r
        .observations
        .iter()
        .find(|o| o.contains("left out: they were drawn in lanes"))
        .unwrap_or_else(|| panic!("no line on list reads left out: {:?}", r.observations));
    let n: u32 = line
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(n >= 3, "{line}");
}
