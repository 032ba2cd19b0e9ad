//! The settle window and S2 over time: reads that lag writes by less than the
//! window pass (and the report says reads waited); a dedup cache that forgets
//! identities after a while fails S2.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sela_leads::contract::Config;
use sela_leads::sandbox::{Identity, SandboxOptions, identity};
use serde_json::json;

use crate::common::{
    assert_only, assert_passes, authorised, clause, config, is_bulk, leads_of, results, run_with,
    sandbox_answer, state, try_run,
};

#[test]
fn reads_lagging_writes_by_300_ms_pass_within_the_window() {
    let lagging = state().with_options(SandboxOptions {
        read_lag: Some(Duration::from_millis(300)),
        ..SandboxOptions::default()
    });
    let config = Config {
        settle: Duration::from_secs(2),
        ..config(8)
    };
    let r = try_run(&config, lagging, |state, req| {
        sandbox_answer(state, req).into()
    })
    .expect("the harness runs");
    assert_passes(&r);
    let waited = r
        .observations
        .iter()
        .find(|o| o.starts_with("settle window"))
        .expect("said");
    assert!(!waited.contains(": 0 read(s) waited"), "{waited}");
}

#[test]
fn reads_lagging_beyond_the_window_fail() {
    // The same lag with a window shorter than it: the differences stay.
    let lagging = state().with_options(SandboxOptions {
        read_lag: Some(Duration::from_millis(600)),
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
    assert!(!r.failed().is_empty(), "{r}");
}

#[test]
fn s2_a_dedup_cache_with_a_time_limit_is_caught() {
    // Identities are deduplicated against those created in the last 1.5 s
    // only: an identity re-sent later is created again.
    let seen: Mutex<HashMap<Identity, (i64, Instant)>> = Mutex::default();
    let r = run_with(8, move |state, req| {
        if is_bulk(req)
            && authorised(req)
            && let Some(items) = leads_of(req)
        {
            let mut seen = seen.lock().unwrap();
            let mut model = state.lock();
            let out = items
                .iter()
                .map(|item| {
                    let who = identity(item);
                    let fresh = who
                        .as_ref()
                        .and_then(|w| seen.get(w))
                        .is_some_and(|(_, at)| at.elapsed() < Duration::from_millis(1500));
                    let known = who.as_ref().and_then(|w| model.find(w)).is_some();
                    if known && !fresh {
                        return match model.insert_unchecked(item) {
                            Ok(id) => {
                                seen.insert(who.clone().unwrap(), (id, Instant::now()));
                                json!({"id": id, "action": "created"})
                            }
                            Err(e) => json!({"id": null, "action": "error", "error": e}),
                        };
                    }
                    let r = model.bulk_create(std::slice::from_ref(item)).remove(0);
                    if r["action"] == "created"
                        && let (Some(w), Some(id)) = (who, r["id"].as_i64())
                    {
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
    let aging = r
        .observations
        .iter()
        .find(|o| o.starts_with("S2 over time"))
        .expect("said");
    assert!(aging.contains("s later"), "{aging}");
}
