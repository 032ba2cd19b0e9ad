//! Stateful sequences: faults that only a sequence of operations shows (no
//! per-clause case walks a lead through them in that order), each caught by
//! the clause it breaks with a shrunk sequence as evidence, every other
//! clause holding; and the plain sandbox passing with many sequences.

use std::collections::HashMap;
use std::sync::Mutex;

use sela_leads::contract::{Config, Report};
use sela_leads::sandbox::SandboxState;
use serde_json::{Value, json};

use crate::common::{
    TOKEN, assert_only, assert_passes, authorised, clause, config, is_bulk, sandbox_answer,
    try_run,
};
use crate::server::{Req, Resp};

/// The fault tests' configuration with more sequences and a shrinking budget
/// that can take a dozen steps down to the few that matter.
fn seq_config() -> Config {
    Config {
        sequences: Some(12),
        max_shrink_steps: 64,
        ..config(8)
    }
}

fn run(responder: impl Fn(&SandboxState, &Req) -> Resp + Send + Sync + 'static) -> Report {
    let report = try_run(&seq_config(), SandboxState::new(TOKEN), responder).expect("runs");
    assert!(!report.to_string().contains(TOKEN), "the token leaked");
    report
}

/// The id of `PATCH /api/leads/{id}/`.
fn patched_id(req: &Req) -> Option<i64> {
    if req.method != "PATCH" {
        return None;
    }
    req.path()
        .strip_prefix("/api/leads/")?
        .strip_suffix('/')?
        .parse()
        .ok()
}

/// The ids a 2xx create answer re-engaged or answered: every `reengaged`
/// result of a bulk create, the lead of a single create.
fn answered_ids(req: &Req, body: &Value) -> Vec<i64> {
    if is_bulk(req) {
        return body["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["action"] == "reengaged")
            .filter_map(|r| r["id"].as_i64())
            .collect();
    }
    if req.method == "POST" && req.path() == "/api/leads/" {
        return body["id"].as_i64().into_iter().collect();
    }
    Vec::new()
}

/// Asserts that `c` failed on a shrunk sequence of at most `most` steps
/// whose every request is shown with a `curl` line.
#[track_caller]
fn assert_shrunk_sequence(report: &Report, c: &str, most: usize) {
    let failure = report
        .clause(clause(c))
        .failure
        .as_ref()
        .expect("a failure");
    assert!(
        failure.batch.iter().all(|(label, _)| label.starts_with("step ")),
        "the evidence is a sequence: {:?}",
        failure.batch
    );
    assert!(
        !failure.batch.is_empty() && failure.batch.len() <= most,
        "{c}: the sequence was shrunk to {} steps, expected at most {most}:\n{}",
        failure.batch.len(),
        failure.evidence()
    );
    assert!(failure.shrink.generated, "a generated, shrinkable case");
    let text = failure.evidence();
    assert!(text.contains("shrunk sequence"), "{text}");
    assert_eq!(
        text.matches("reproduce: curl ").count(),
        failure.exchanges.len(),
        "every request has a curl line"
    );
    assert!(text.contains("$SELA_API_KEY"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

/// R2: a server that keeps a lead's do-not-contact flags through its first
/// re-engagement after they were set, and clears them on the second (a
/// "re-consent on repeated interest" rule). The per-clause walk re-engages
/// once after the flag; only a sequence re-engages twice.
#[test]
fn r2_flag_cleared_on_the_second_reengagement_is_caught_by_a_sequence() {
    let since_flag: Mutex<HashMap<i64, u32>> = Mutex::default();
    let r = run(move |state, req| {
        let reply = sandbox_answer(state, req);
        if !authorised(req) || !(200..300).contains(&reply.status) {
            return reply.into();
        }
        let mut flagged = since_flag.lock().unwrap();
        if let Some(id) = patched_id(req) {
            let body = req.json().unwrap_or(Value::Null);
            if body["call_dnc"] == json!(true) || body["sms_dnc"] == json!(true) {
                flagged.insert(id, 0);
            }
        }
        for id in answered_ids(req, &reply.body) {
            let Some(n) = flagged.get_mut(&id) else {
                continue;
            };
            *n += 1;
            if *n == 2 {
                flagged.remove(&id);
                let clear = json!({"call_dnc": false, "sms_dnc": false}).to_string();
                let headers = vec![
                    ("authorization".to_owned(), format!("Token {TOKEN}")),
                    ("content-type".to_owned(), "application/json".to_owned()),
                ];
                let path = format!("/api/leads/{id}/");
                sela_leads::sandbox::answer_raw(state, "PATCH", &path, &headers, clear.as_bytes());
            }
        }
        reply.into()
    });
    assert_only(&r, &[clause("R2")], "the flag is cleared by a re-engagement");
    // Create, flag, re-send, re-send: four steps.
    assert_shrunk_sequence(&r, "R2", 4);
}

/// The plain sandbox passes many sequences (every clause a sequence checks
/// holds on the reference).
#[test]
fn the_sandbox_passes_many_sequences() {
    let report = run(|state, req| sandbox_answer(state, req).into());
    assert_passes(&report);
    for c in ["R1", "R2", "U1", "U2", "U3", "G1", "L1", "C1"] {
        assert!(report.clause(clause(c)).cases > 0, "{c} was checked");
    }
}
