//! Failing runs are fast (issue 26): a fault that breaks several clauses
//! costs the run one settle window, one shrinking per cause and no walk of
//! the whole list per disagreeing read.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::common::{assert_no_leak, clause, config, lead_id, sandbox_answer, state, try_run};
use crate::server::Resp;

// Pins: checker/settle.rs `Waits::start` (probes once a difference outlasted
// the window on a target that never lagged), checker/runner.rs `Met` (a
// clause shrinks from where an earlier clause's shrinking met it) and
// checker/operations/reads.rs `find_listed` (the list's end pages first).
#[test]
fn a_read_back_fault_waits_one_window_shrinks_once_and_walks_no_whole_list() {
    // Every lead read by id shows its `lead_source` with a trailing space
    // (the list shows it as stored): B5, and G1 (the read is behind the
    // list), fail in the same cases; B3 fails on the first read-back.
    // List pages of the size the whole-list walk asks for, and of the end
    // pages' size.
    let pages = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let seen = pages.clone();
    let config = sela_contract::Config {
        settle: Duration::from_secs(1),
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
    // One read waited the whole window; every later one a probe, or not at
    // all once its clause had outlasted its wait.
    let settle = r
        .observations
        .iter()
        .find(|o| o.starts_with("settle window"))
        .expect("said");
    assert!(
        settle.contains(", 1 still disagreed after the window"),
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
