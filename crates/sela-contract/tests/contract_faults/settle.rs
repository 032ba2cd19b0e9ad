//! The settle window and S2 over time: reads that lag writes by less than the
//! window pass (and the report says reads waited); a dedup cache that forgets
//! identities after a while fails S2.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sela_contract::Config;
use sela_sandbox::{Identity, SandboxOptions, identity};
use serde_json::json;

use crate::common::{
    assert_only, assert_only_unchecked, assert_passes, assert_reads_waited, authorised, clause,
    config, is_bulk, lead_id, leads_of, results, run_with, sandbox_answer, state, try_run,
};
use crate::kit::is_list;
use crate::server::Resp;

/// How far the lagging servers' reads are behind, and the window they get:
/// the lag well inside the window, whatever the machine's load, both short,
/// because once reads lag every stale count baseline waits the window out.
const LAG: Duration = Duration::from_millis(150);
const WINDOW: Duration = Duration::from_secs(1);

// Pins: settle.rs's settle wait (a read that lags within the window is
// retried, not failed)
#[test]
fn reads_lagging_writes_by_150_ms_pass_within_a_1_s_window() {
    let lagging = state().with_options(SandboxOptions {
        read_lag: Some(LAG),
        ..SandboxOptions::default()
    });
    // Four cases: every property and operation still reads after writes.
    let config = Config {
        settle: WINDOW,
        ..config(4)
    };
    let r = try_run(&config, lagging, |state, req| {
        sandbox_answer(state, req).into()
    })
    .expect("the harness runs");
    assert_passes(&r);
    assert_reads_waited(&r);
    // A group's list page may show an older state on such a target: it is
    // not judged, and the report says so (sequences/groups.rs `count_pages`).
    assert!(
        r.observations
            .iter()
            .any(|o| o.contains("list page(s) of concurrent groups (S5) were not judged")),
        "no unjudged list page reported:\n{r}"
    );
}

/// The harness against a server whose list and count answer the state of
/// [`LAG`] ago (a read replica, as the black-box server's `lag300` mode), while
/// GET by id and deduplication answer the primary, and whose `nth` count read
/// (from 0) is answered 503 once (the replica blips): the harness then no
/// longer knows the count and reads its next baseline afresh, just after the
/// last create.
fn run_count_blip(nth: usize) -> sela_contract::Report {
    let lagging = state().with_options(SandboxOptions {
        read_lag: Some(LAG),
        ..SandboxOptions::default()
    });
    let counts = Arc::new(AtomicUsize::new(0));
    let seen = counts.clone();
    let config = Config {
        settle: WINDOW,
        ..config(8)
    };
    let r = try_run(&config, lagging, move |state, req| {
        if authorised(req)
            && let Some(id) = lead_id(req)
            && let Some(lead) = state.lock().get(id)
        {
            return Resp::json(200, &lead);
        }
        if authorised(req)
            && is_list(req)
            && req.uri.ends_with("?page_size=1")
            && counts.fetch_add(1, Ordering::Relaxed) == nth
        {
            return Resp::json(503, &json!({"detail": "Service temporarily unavailable."}));
        }
        sandbox_answer(state, req).into()
    })
    .expect("the harness runs");
    let reads = seen.load(Ordering::Relaxed);
    assert!(reads > nth + 1, "the count was read {reads} time(s) only");
    r
}

/// True when the report says a count check was left unjudged.
fn left_unjudged(r: &sela_contract::Report) -> bool {
    r.observations
        .iter()
        .any(|o| o.contains("list-count checks were left unjudged"))
}

// Pins: harness.rs `baseline` / count.rs (a count baseline read just after a
// write is settled before use)
#[test]
fn a_count_baseline_read_just_after_a_write_may_lag_and_passes() {
    // The second count read blips, before any read of the run has been seen
    // to lag: the fresh baseline misses the last create, so the next count
    // grows by more than that request created, which is no verdict (the
    // baseline may lag). The per-clause lag test above never reads a baseline
    // after a write, so it passes without this.
    let r = run_count_blip(1);
    assert_passes(&r);
    // Else this test no longer reaches the case it is about.
    assert!(left_unjudged(&r), "no count check was left unjudged:\n{r}");
}

// Pins: harness.rs `baseline` (once reads lagged, a fresh baseline waits the
// window out)
#[test]
fn once_reads_lag_a_fresh_count_baseline_waits_the_window_out() {
    // The seventh count read blips, after reads have been seen to lag: the
    // harness waits the settle window out before it reads the new baseline,
    // so that baseline is current and every later count is judged.
    let r = run_count_blip(6);
    assert_passes(&r);
    assert_reads_waited(&r);
    assert!(!left_unjudged(&r), "a count check was left unjudged:\n{r}");
}

// Pins: checker/settle.rs (a read that still disagrees once the window is
// out is a difference) through checker/count.rs's count check (S2).
#[test]
fn reads_lagging_beyond_the_window_fail() {
    // Every read answers the state of an hour ago (an empty account), far
    // beyond a 0.1 s window: no wait helps, whatever the machine's load. The
    // list count never grows (S2's count part fails), and no lead is ever
    // read back, so the clauses judged by read-back are not checked.
    let lagging = state().with_options(SandboxOptions {
        read_lag: Some(Duration::from_secs(3600)),
        ..SandboxOptions::default()
    });
    let config = Config {
        settle: Duration::from_millis(100),
        ..config(4)
    };
    let r = try_run(&config, lagging, |state, req| {
        sandbox_answer(state, req).into()
    })
    .expect("the harness runs");
    let by_reads = ["B5", "R1", "R2", "C1", "U1", "U2", "U3", "G1", "L1", "S5"].map(clause);
    assert_only_unchecked(
        &r,
        &[clause("S2")],
        &[],
        &by_reads,
        "the count stays at the empty account's; no lead is read back, and the \
         list has no second page",
    );
    let s2 = &r
        .clause(clause("S2"))
        .failure
        .as_ref()
        .expect("evidence")
        .detail;
    assert!(s2.contains("list count"), "{s2}");
    let window = r
        .observations
        .iter()
        .find(|o| o.starts_with("settle window 0.1 s"))
        .expect("said");
    assert!(
        !window.ends_with(" 0 still disagreed after the window"),
        "{window}"
    );
}

/// What the dedup-cache server of the S2-over-time test saw: the identities
/// its first non-empty bulk create created (the run's first), and every
/// identity it created again after its cache forgot it, with how long after
/// its first creation the server received it.
#[derive(Default)]
struct Forgetting {
    first: Vec<Identity>,
    again: Vec<(Identity, Duration)>,
}

/// The cache forgets an identity this long after creating it.
const CACHE_LIMIT: Duration = Duration::from_millis(1500);

// Pins: checker/operations/aging.rs start_aging/finish_aging (identities of
// the run's start re-sent at its end), judged by checker/bulk.rs check_bulk.
#[test]
fn s2_a_dedup_cache_with_a_time_limit_is_caught() {
    // Identities are deduplicated against those created in the last 1.5 s
    // only: an identity re-sent later is created again. A request re-sending
    // identities of the run's first batch is held until the cache has
    // forgotten them (a server-side delay, so that the run's speed does not
    // decide whether the fault shows).
    let seen: Mutex<HashMap<Identity, (i64, Instant)>> = Mutex::default();
    let log: Arc<Mutex<Forgetting>> = Arc::default();
    let saw = log.clone();
    let r = run_with(8, move |state, req| {
        if is_bulk(req)
            && authorised(req)
            && let Some(items) = leads_of(req)
        {
            // The locks are always taken in one order (seen, then the log),
            // so that concurrent requests cannot deadlock.
            let early: Option<Instant> = {
                let seen = seen.lock().unwrap();
                let log = saw.lock().unwrap();
                items
                    .iter()
                    .filter_map(identity)
                    .filter(|w| log.first.contains(w))
                    .filter_map(|w| seen.get(&w).map(|(_, at)| *at))
                    .min()
            };
            if let Some(at) = early {
                std::thread::sleep(CACHE_LIMIT.saturating_sub(at.elapsed()));
            }
            let mut seen = seen.lock().unwrap();
            let mut log = saw.lock().unwrap();
            let mut model = state.lock();
            let first_batch = log.first.is_empty() && !items.is_empty();
            let out = items
                .iter()
                .map(|item| {
                    let who = identity(item);
                    let created_at = who.as_ref().and_then(|w| seen.get(w)).map(|(_, at)| *at);
                    let fresh = created_at.is_some_and(|at| at.elapsed() < CACHE_LIMIT);
                    let known = who.as_ref().and_then(|w| model.find(w)).is_some();
                    if known && !fresh {
                        return match model.insert_unchecked(item) {
                            Ok(id) => {
                                let w = who.clone().unwrap();
                                if let Some(at) = created_at {
                                    log.again.push((w.clone(), at.elapsed()));
                                }
                                seen.insert(w, (id, Instant::now()));
                                json!({"id": id, "action": "created"})
                            }
                            Err(e) => json!({"id": null, "action": "error", "error": e}),
                        };
                    }
                    let r = model.bulk_create(std::slice::from_ref(item)).remove(0);
                    if r["action"] == "created"
                        && let (Some(w), Some(id)) = (who, r["id"].as_i64())
                    {
                        if first_batch {
                            log.first.push(w.clone());
                        }
                        seen.insert(w, (id, Instant::now()));
                    }
                    r
                })
                .collect();
            return results(out).into();
        }
        sandbox_answer(state, req).into()
    });
    assert_only(
        &r,
        &[clause("S2")],
        "only identities created long ago are forgotten",
    );
    // The run's first identities were re-sent (and so created again) after
    // the cache's limit, as the server measured it, and the report says how
    // many it re-sent: the S2-over-time re-send is what met the fault.
    let log = log.lock().unwrap();
    assert!(!log.first.is_empty(), "the run created nothing first");
    for who in &log.first {
        let gaps: Vec<Duration> = log
            .again
            .iter()
            .filter(|(w, _)| w == who)
            .map(|(_, gap)| *gap)
            .collect();
        assert!(
            gaps.iter().any(|gap| *gap >= CACHE_LIMIT),
            "{who:?}, created first, was not re-sent once the cache forgot it: {gaps:?}"
        );
    }
    let aging = r
        .observations
        .iter()
        .find(|o| o.starts_with("S2 over time"))
        .expect("said");
    let resent: usize = aging
        .strip_prefix("S2 over time: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {aging:?}"));
    assert_eq!(resent, log.first.len(), "{aging}");
}
