//! Failing runs are fast (issue 26): a fault that breaks several clauses
//! costs the run one settle window, one shrinking per cause and no walk of
//! the whole list per disagreeing read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    assert_no_leak, assert_passes, assert_reads_waited, authorised, clause, config, is_bulk,
    lead_id, sandbox_answer, settle_line, state, try_run,
};
use crate::server::Resp;

// Pins: checker/operations/reads.rs `read_lead_after` with `may_be_before`
// (a lead read as a version it never had is not waited for), checker/runner.rs
// `Met` (a clause shrinks from where an earlier clause's shrinking met it)
// and checker/operations/reads.rs `find_listed` (the list's end pages first).
#[test]
fn a_read_back_fault_waits_no_window_shrinks_once_and_walks_no_whole_list() {
    // Every lead read by id shows its `lead_source` with a trailing space
    // (the list shows it as stored): B5, and G1 (the read is behind the
    // list), fail in the same cases; B3 fails on the first read-back.
    // List pages of the size the whole-list walk asks for, and of the end
    // pages' size.
    let pages = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let seen = pages.clone();
    // One case at a time: lanes would wait together, one window each.
    let config = sela_contract::Config {
        settle: Duration::from_secs(1),
        lanes: 1,
        ..config(8)
    };
    let r = try_run(&config, state(), move |state, req| {
        for (i, size) in ["page_size=1000", "page_size=50"].iter().enumerate() {
            if req.uri.contains(size) {
                seen[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        let mut reply = sandbox_answer(state, req);
        if req.method == "GET"
            && lead_id(req).is_some()
            && let Some(Value::String(s)) = reply.body.get_mut("lead_source")
        {
            s.push(' ');
        }
        Resp::from(reply)
    })
    .expect("the harness runs");
    assert_no_leak(&r);
    for c in ["B3", "B5", "G1"] {
        assert!(r.failed().contains(&clause(c)), "{c} not failed:\n{r}");
    }
    // Every read shows a value never written (neither before a write nor
    // after it): no lag could show it, no read waits the window.
    let settle = settle_line(&r);
    assert!(
        settle.contains(", 0 still disagreed after the window"),
        "{settle}"
    );
    // G1 broke in B5's cases: its shrinking starts from the smallest case
    // B5's shrinking met it in, instead of shrinking the first case again.
    let steps = |c: &str| {
        let f = r.clause(clause(c)).failure.as_ref().expect("evidence");
        f.shrink.steps
    };
    assert!(
        steps("G1") < steps("B5"),
        "G1 {} vs B5 {}:\n{r}",
        steps("G1"),
        steps("B5")
    );
    // The stale reads were told from lost writes by the list's end pages;
    // the whole list was walked only for a lead on neither.
    let [whole, ends] = [0, 1].map(|i| pages[i].load(Ordering::Relaxed));
    assert!(
        whole * 4 < ends,
        "{whole} whole-list walks, {ends} end pages"
    );
}

/// For each lead created by a bulk request, the ids of its batch; and how
/// often each lead was read by id.
#[derive(Default)]
struct Batches {
    batch_of: HashMap<i64, Arc<Vec<i64>>>,
    reads: HashMap<i64, usize>,
    /// True once some lead was read by id.
    read_once: bool,
}

// Pins: checker/settle.rs `Waits::settle_reads` (a batch's disagreeing
// read-backs wait together) through checker/readback.rs `read_back`.
#[test]
fn a_batchs_lagging_read_backs_wait_together() {
    // A replica that catches up a bulk request's leads together, once each
    // of them it has been asked for was asked for twice: until then a lead
    // created by it reads 404. Read back one lead after another, the first lead's repeats
    // never see its batch-mates asked for again, and it would lag past any
    // window; read back together, the second round agrees. (Until a lead
    // has been read, leads read at once: the run learns that read-back
    // works.)
    let seen: Mutex<Batches> = Mutex::default();
    let config = sela_contract::Config {
        settle: Duration::from_secs(1),
        ..config(8)
    };
    let r = try_run(&config, state(), move |state, req| {
        let reply = sandbox_answer(state, req);
        let mut seen = seen.lock().unwrap();
        if is_bulk(req) && authorised(req) {
            let ids: Vec<i64> = reply.body["results"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["action"] == "created")
                .filter_map(|r| r["id"].as_i64())
                .collect();
            let batch = Arc::new(ids);
            let lags = seen.read_once;
            for id in batch.iter().filter(|_| lags) {
                seen.batch_of.insert(*id, batch.clone());
            }
        }
        if let Some(id) = lead_id(req).filter(|_| authorised(req)) {
            seen.read_once = true;
            *seen.reads.entry(id).or_default() += 1;
            if let Some(batch) = seen.batch_of.get(&id).cloned() {
                if batch.iter().any(|m| seen.reads.get(m) == Some(&1)) {
                    return Resp::json(404, &json!({"detail": "Not found."}));
                }
                // Caught up for good.
                for m in batch.iter() {
                    seen.batch_of.remove(m);
                }
            }
        }
        reply.into()
    })
    .expect("the harness runs");
    assert_no_leak(&r);
    assert_passes(&r);
    assert_reads_waited(&r);
}

// Pins: checker/settle.rs `Waits::start` (probes once a difference outlasted
// the window on a target that never lagged).
#[test]
fn a_stale_read_cache_waits_one_window_then_probes() {
    // GET /api/leads/{id}/ answers from a cache filled on the first read and
    // never invalidated (an older version: what lag shows too).
    let cache = Mutex::default();
    let config = sela_contract::Config {
        settle: Duration::from_secs(1),
        lanes: 1,
        ..config(8)
    };
    let r = try_run(&config, state(), move |state, req| {
        crate::kit::cached_read(&cache, state, req)
            .unwrap_or_else(|| sandbox_answer(state, req).into())
    })
    .expect("the harness runs");
    assert_no_leak(&r);
    assert!(r.failed().contains(&clause("G1")), "G1 not failed:\n{r}");
    // One read waited the whole window; every later one a probe, or not at
    // all once its clause had outlasted its wait.
    let settle = settle_line(&r);
    assert!(
        settle.contains(", 1 still disagreed after the window"),
        "{settle}"
    );
}

/// A run whose bulk answers `fault` rewrites (a wait for the 3 s settle
/// window shows in the settle line).
fn run_bulk_fault(fault: fn(&mut Vec<Value>)) -> sela_contract::Report {
    let config = sela_contract::Config {
        settle: Duration::from_secs(3),
        ..config(8)
    };
    let r = try_run(&config, state(), move |state, req| {
        let mut reply = sandbox_answer(state, req);
        if is_bulk(req)
            && let Some(results) = crate::common::results_mut(&mut reply)
        {
            fault(results);
        }
        Resp::from(reply)
    })
    .expect("the harness runs");
    assert_no_leak(&r);
    r
}

// Pins: checker/readback.rs `read_back` (a lead answered `created` and read
// as another lead is not waited for: it had no earlier version to lag to).
#[test]
fn a_created_lead_read_as_another_is_not_waited_for() {
    // Each bulk answer's results reversed: result i names item j's lead.
    let r = run_bulk_fault(|results| results.reverse());
    assert!(r.failed().contains(&clause("B3")), "B3 not failed:\n{r}");
    let settle = settle_line(&r);
    assert!(
        settle.contains(", 0 still disagreed after the window"),
        "{settle}"
    );
}

// Pins: checker/count.rs `ListCount::check` and checker/waves.rs (a count
// that differs in a case, or a wave, already failing S2 by its answers is
// not waited for).
#[test]
fn a_count_behind_answers_that_already_fail_s2_is_not_waited_for() {
    // A re-sent identity answered `created` (with its lead's id): the
    // count grows by less than the answers say, as a lagging count would.
    let r = run_bulk_fault(|results| {
        for r in results {
            if r["action"] == "reengaged" {
                r["action"] = "created".into();
            }
        }
    });
    assert!(r.failed().contains(&clause("S2")), "S2 not failed:\n{r}");
    let settle = settle_line(&r);
    assert!(
        settle.contains(", 0 still disagreed after the window"),
        "{settle}"
    );
}
